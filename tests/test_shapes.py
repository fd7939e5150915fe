"""cnnbook.shapes against real PyTorch and Keras layers."""

import itertools

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from cnnbook.shapes import conv_macs, conv_output_size, conv_params, same_padding

SWEEP = list(itertools.product([5, 8, 13], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2]))


@pytest.mark.parametrize("size, kernel, stride, padding, dilation", SWEEP)
def test_output_size_matches_torch(size, kernel, stride, padding, dilation):
    layer = torch.nn.Conv2d(1, 1, kernel, stride, padding, dilation)
    if size + 2 * padding < dilation * (kernel - 1) + 1:  # no window fits: both refuse
        with pytest.raises(ValueError, match="spans"):
            conv_output_size(size, kernel, stride, padding, dilation)
        with pytest.raises(RuntimeError):
            layer(torch.zeros(1, 1, size, size))
    else:
        out = layer(torch.zeros(1, 1, size, size + 1))
        assert conv_output_size((size, size + 1), kernel, stride, padding, dilation) == tuple(
            out.shape[2:])
        assert conv_output_size(size, kernel, stride, padding, dilation) == out.shape[2]


@pytest.fixture(scope="module")
def keras():
    from cnnbook.tf import keras

    return keras


@pytest.mark.parametrize("size, kernel, stride", list(itertools.product([5, 8, 13], [1, 2, 3, 4],
                                                                        [1, 2, 3])))
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_output_size_matches_keras(keras, size, kernel, stride, padding):
    layer = keras.layers.Conv2D(2, kernel, strides=stride, padding=padding)
    if padding == "valid" and kernel > size:  # no window fits: both refuse
        with pytest.raises(ValueError, match="spans"):
            conv_output_size(size, kernel, stride, padding)
        with pytest.raises(Exception):
            layer(np.zeros((1, size, size, 1), np.float32))
    else:
        out = layer(np.zeros((1, size, size, 1), np.float32))
        assert conv_output_size(size, kernel, stride, padding) == out.shape[1]


def test_same_padding_puts_the_extra_pixel_last():
    assert same_padding(5, 2) == ((0, 1), (0, 1))  # even kernel: 1 pixel, at the bottom/right
    assert same_padding(6, 3, stride=2) == ((0, 1), (0, 1))
    assert same_padding(5, 3, stride=2) == ((1, 1), (1, 1))


@pytest.mark.parametrize("c, k, kernel, groups, bias",
                         [(3, 16, 5, 1, True), (1, 16, 3, 1, True), (16, 32, (3, 1), 1, False),
                          (8, 8, 3, 8, True), (6, 9, 2, 3, True), (192, 32, 1, 1, False)])
def test_params_match_torch_and_keras(keras, c, k, kernel, groups, bias):
    layer = torch.nn.Conv2d(c, k, kernel, groups=groups, bias=bias)
    assert conv_params(c, k, kernel, groups, bias) == sum(p.numel() for p in layer.parameters())
    klayer = keras.layers.Conv2D(k, kernel, groups=groups, use_bias=bias)
    klayer.build((None, 9, 9, c))
    assert conv_params(c, k, kernel, groups, bias) == klayer.count_params()


def test_seed_003_conv_has_1216_parameters():
    assert conv_params(3, 16, 5) == (5 * 5 * 3 + 1) * 16 == 1216


@pytest.mark.parametrize("n, c, k, size, kernel, stride, groups",
                         [(1, 1, 16, 3, 3, 1, 1), (64, 16, 32, 14, 3, 1, 1), (2, 6, 4, 9, 2, 2, 2),
                          (3, 8, 8, 10, (3, 1), 2, 8), (1, 192, 32, 28, 5, 1, 1)])
def test_macs_match_pytorchs_flop_counter(n, c, k, size, kernel, stride, groups):
    # An independent count: PyTorch's FlopCounterMode, 2 FLOPs (multiply + add) per MAC.
    layer = torch.nn.Conv2d(c, k, kernel, stride, groups=groups, bias=False)
    with FlopCounterMode(display=False) as counter:
        out = layer(torch.zeros(n, c, size, size))
    macs = conv_macs(c, k, kernel, tuple(out.shape[2:]), n, groups)
    assert 2 * macs == counter.get_total_flops()


@pytest.mark.parametrize("call, match", [
    (lambda: conv_output_size(5, 0), "kernel_size must be >= 1"),
    (lambda: conv_output_size(5, 3, stride=0), "stride must be >= 1"),
    (lambda: conv_output_size(5, 3, dilation=-1), "dilation must be >= 1"),
    (lambda: conv_output_size(5, 3, padding=-1), "padding must be >= 0"),
    (lambda: conv_output_size(5, 3, padding="full"), "'valid' or 'same'"),
    (lambda: conv_output_size(2, 5), "spans 5 pixels"),
    (lambda: conv_params(6, 4, 3, groups=4), "groups=4 must divide"),
    (lambda: conv_output_size(5, (3, 3, 3)), "pair of ints"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_pair_in_any_argument_gives_a_pair():
    assert conv_output_size(10, (3, 5)) == (8, 6)
    assert conv_output_size(10, 3, stride=(1, 2)) == (8, 4)
    assert conv_output_size(10, 3) == 8
