"""cnnbook.scratch pooling against PyTorch and TensorFlow; pool shapes; receptive fields."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from torch import nn

from cnnbook.scratch import (avg_pool2d, avg_pool2d_naive, global_avg_pool2d, global_max_pool2d,
                             max_pool2d, max_pool2d_naive)
from cnnbook.shapes import pool_output_size, receptive_field
from cnnbook.torch import measured_receptive_field


@st.composite
def pool_cases(draw):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    h = max(1, kernel[0] - 2 * padding[0]) + draw(st.integers(0, 6))
    w = max(1, kernel[1] - 2 * padding[1]) + draw(st.integers(0, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)).astype(dtype)
    values = draw(st.sampled_from(["any", "negative", "nan", "-inf"]))
    if values == "negative":
        x = -np.abs(x)  # zero padding would win a max; -inf padding must not
    elif values == "nan":
        x[rng.random(x.shape) < 0.2] = np.nan  # NaN must propagate, as in PyTorch
    elif values == "-inf":
        x[0, 0] = -np.inf  # windows of nothing but -inf: the index must not point at padding
    return x, dict(kernel_size=kernel, stride=stride, padding=padding,
                   ceil_mode=draw(st.booleans()))


@given(case=pool_cases())
def test_max_pool_matches_torch(case):
    x, kw = case
    ref, ref_idx = F.max_pool2d(torch.from_numpy(x), return_indices=True, **kw)
    y, idx = max_pool2d(x, return_indices=True, **kw)
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y, ref.numpy())
    np.testing.assert_array_equal(idx, ref_idx.numpy())
    np.testing.assert_array_equal(max_pool2d(x, **kw), ref.numpy())
    np.testing.assert_array_equal(max_pool2d_naive(x, **kw), ref.numpy())


@given(case=pool_cases(), count_include_pad=st.booleans())
def test_avg_pool_matches_torch(case, count_include_pad):
    x, kw = case
    ref = F.avg_pool2d(torch.from_numpy(x), count_include_pad=count_include_pad, **kw).numpy()
    tol = 1e-6 if x.dtype == np.float32 else 1e-12
    for pool in (avg_pool2d, avg_pool2d_naive):
        y = pool(x, count_include_pad=count_include_pad, **kw)
        assert y.dtype == x.dtype
        np.testing.assert_allclose(y, ref, rtol=tol, atol=tol)


@given(case=pool_cases())
def test_pool_output_size_matches_torch(case):
    x, kw = case
    out = F.max_pool2d(torch.from_numpy(x), **kw)
    assert pool_output_size(x.shape[2:], **kw) == tuple(out.shape[2:])


@pytest.mark.parametrize("kernel", range(1, 7))
def test_padding_limit_is_pytorchs(kernel):
    """We refuse exactly the paddings PyTorch refuses: P > floor(F / 2), with D = 1."""
    x = torch.zeros(1, 1, 12, 12)
    for padding in range(kernel + 2):
        try:
            F.max_pool2d(x, kernel, padding=padding)
            torch_refuses = False
        except RuntimeError as err:
            assert "at most half of effective kernel size" in str(err)
            torch_refuses = True
        try:
            pool_output_size(12, kernel, padding=padding)
            we_refuse = False
        except ValueError as err:
            assert "as PyTorch requires" in str(err)
            we_refuse = True
        assert we_refuse == torch_refuses == (padding > kernel // 2), (kernel, padding)


def test_refused_padding_is_not_all_padding():
    """The limit is PyTorch's, not geometry: up to P = F - 1, every window (floor mode)
    still holds an input pixel; at P = F the first one holds only padding."""
    for kernel in range(1, 6):
        for stride in range(1, 4):
            for size in range(1, 9):
                for padding in range(kernel + 1):
                    if size + 2 * padding < kernel:
                        continue
                    x = torch.rand(1, 1, size, size)
                    padded = F.pad(x, (padding,) * 4, value=-float("inf"))
                    y = F.max_pool2d(padded, kernel, stride)
                    assert bool(torch.isfinite(y).all()) == (padding <= kernel - 1)


@pytest.fixture(scope="module")
def tf():
    from cnnbook.tf import tf

    return tf


@given(case=pool_cases(), tf_padding=st.sampled_from(["VALID", "SAME"]))
def test_nhwc_cases_match_tensorflow(tf, case, tf_padding):
    """TF 'SAME' pooling = asymmetric padding that never wins a max and is never averaged."""
    from cnnbook.shapes import same_padding

    x, kw = case
    assume(np.isfinite(x).all())  # NaN and -inf: PyTorch is the reference (above)
    x = x.astype(np.float32)  # TF's CPU pooling kernels compute in float32
    kernel, stride = kw["kernel_size"], kw["stride"] or kw["kernel_size"]
    if tf_padding == "SAME":
        pads = same_padding(x.shape[2:], kernel, stride)
        # PyTorch's rule (and ours) forbids padding more than half a window.
        assume(all(max(p) <= k // 2 for p, k in zip(pads, kernel)))
    else:
        pads = ((0, 0), (0, 0))
        # No valid window: TF and ours both refuse (test_bad_input).
        assume(x.shape[2] >= kernel[0] and x.shape[3] >= kernel[1])
    x_nhwc = x.transpose(0, 2, 3, 1)
    tf_max = tf.nn.max_pool2d(x_nhwc, kernel, stride, tf_padding).numpy().transpose(0, 3, 1, 2)
    tf_avg = tf.nn.avg_pool2d(x_nhwc, kernel, stride, tf_padding).numpy().transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(max_pool2d(x, kernel, stride, pads), tf_max)
    np.testing.assert_allclose(avg_pool2d(x, kernel, stride, pads, count_include_pad=False),
                               tf_avg, rtol=1e-5, atol=1e-6)


def test_global_pools_match_torch_and_keras(tf):
    from cnnbook.tf import keras

    x = np.random.default_rng(0).standard_normal((2, 5, 7, 6)).astype(np.float32)
    t = torch.from_numpy(x)
    np.testing.assert_allclose(global_avg_pool2d(x, keepdims=True),
                               nn.AdaptiveAvgPool2d(1)(t).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(global_max_pool2d(x, keepdims=True),
                                  nn.AdaptiveMaxPool2d(1)(t).numpy())
    keras_gap = keras.layers.GlobalAveragePooling2D()(x.transpose(0, 2, 3, 1)).numpy()
    np.testing.assert_allclose(global_avg_pool2d(x), keras_gap, rtol=1e-6)
    assert global_avg_pool2d(x).shape == (2, 5)


X = np.zeros((2, 3, 6, 6), np.float32)


@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d, max_pool2d_naive, avg_pool2d_naive])
@pytest.mark.parametrize("args, kwargs, error, match", [
    ((X[0], 2), {}, ValueError, r"4-D \(N, C, H, W\), got shape \(3, 6, 6\)"),
    ((X, 3), {"padding": 2}, ValueError,
     r"padding 2 must be at most half the kernel size 3, as PyTorch requires \(its limit"),
    ((X, 8), {}, ValueError, r"\(2, 3, 6, 6\): kernel_size 8 is larger than the padded input 6"),
    ((X, 2), {"stride": 0}, ValueError, r"stride must be >= 1"),
    ((X, 0), {}, ValueError, r"kernel_size must be >= 1"),
    ((X.astype(int), 2), {}, TypeError, r"float NumPy array"),
])
def test_bad_input(pool, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        pool(*args, **kwargs)


def test_global_pool_bad_rank():
    with pytest.raises(ValueError, match=r"\(3, 6\)"):
        global_avg_pool2d(np.zeros((3, 6)))


# --- receptive fields: the calculator against backpropagation ------------------------------

LAYER = st.one_of(
    st.tuples(st.just("conv"), st.integers(1, 5), st.integers(1, 2), st.integers(1, 3)),
    st.tuples(st.just("max"), st.integers(2, 3), st.integers(1, 3), st.just(1)),
    st.tuples(st.just("avg"), st.integers(2, 3), st.integers(1, 3), st.just(1)),
)


def build(stack):
    modules = []
    for kind, k, s, d in stack:
        if kind == "conv":
            modules += [nn.Conv2d(2, 2, k, s, dilation=d), nn.ReLU()]
        else:
            modules.append((nn.MaxPool2d if kind == "max" else nn.AvgPool2d)(k, s))
    return nn.Sequential(nn.Conv2d(1, 2, 1), *modules)


@given(stack=st.lists(LAYER, min_size=1, max_size=4))
def test_receptive_field_matches_backprop(stack):
    field = receptive_field([(k, s, d) for _, k, s, d in stack])
    assert measured_receptive_field(build(stack), size=4 * field + 9) == (field, field)


def test_measured_receptive_field_refuses_dilated_max_pool():
    with pytest.raises(ValueError, match=r"1: max pooling with dilation 2"):
        measured_receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(2, dilation=2)))


def test_receptive_field_known_values():
    assert receptive_field([(3, 1), (3, 1)]) == 5
    assert receptive_field([(3, 1), (2, 2), (3, 1)]) == 8
    assert receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == 15
    with pytest.raises(ValueError, match="layer 1"):
        receptive_field([(3, 1), (3, 0)])
