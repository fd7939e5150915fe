"""Winograd's F(2x2, 3x3), the conv2d paths it joins, the roofline helpers and map_blocks."""

import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from cnnbook import roofline
from cnnbook.scratch import conv, conv2d, conv2d_backward, conv2d_path, nn, winograd
from cnnbook.scratch._parallel import map_blocks
from cnnbook.scratch.conv import conv2d_im2col
from cnnbook.scratch.winograd import conv2d_winograd, f23
from cnnbook.shapes import conv_macs, resolve_padding
from test_backward import torch_grads

SIDE = st.integers(0, 2)


def torch_conv64(x, w, b, padding):
    (top, bottom), (left, right) = resolve_padding(padding, x.shape[2:], w.shape[2:])
    xt = F.pad(torch.from_numpy(x.astype(np.float64)), (left, right, top, bottom))
    bt = None if b is None else torch.from_numpy(b.astype(np.float64))
    return F.conv2d(xt, torch.from_numpy(w.astype(np.float64)), bt).numpy()


@given(d=st.lists(st.integers(-50, 50), min_size=4, max_size=4),
       g=st.lists(st.integers(-50, 50), min_size=3, max_size=3))
def test_f23_is_the_correlation_with_four_multiplies(d, g):
    d, g = np.array(d, float), np.array(g, float)
    np.testing.assert_array_equal(f23(d, g), [d[0:3] @ g, d[1:4] @ g])  # exact on integers
    # 4 multiplies: the elementwise product has one per row of B_T and of G.
    assert winograd.B_T.shape == (4, 4) and winograd.G.shape == (4, 3) and winograd.A_T.shape == (2, 4)


@given(n=st.integers(1, 3), c=st.integers(1, 4), k=st.integers(1, 4), h=st.integers(1, 9),
       w=st.integers(1, 9), bias=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       padding=st.one_of(SIDE, st.tuples(st.tuples(SIDE, SIDE), st.tuples(SIDE, SIDE)),
                         st.just("same")), seed=st.integers(0, 2**16))
def test_conv2d_winograd_matches_torch(n, c, k, h, w, bias, dtype, padding, seed):
    (top, bottom), (left, right) = resolve_padding(padding, (h, w), 3)
    h, w = max(h, 3 - top - bottom), max(w, 3 - left - right)  # the kernel fits
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = rng.standard_normal((k, c, 3, 3)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype) if bias else None
    y = conv2d_winograd(x, weight, b, padding=padding)
    expected = torch_conv64(x, weight, b, padding)
    assert y.dtype == dtype and y.shape == expected.shape and y.flags.c_contiguous
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, expected, rtol=0, atol=tolerance * max(1, np.abs(expected).max()))


def test_conv2d_takes_winograd_where_it_pays_and_stays_exact_enough():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 32, 10, 9)).astype(np.float32)
    w = rng.standard_normal((32, 32, 3, 3)).astype(np.float32)
    g = conv.conv_geometry(x.shape, w.shape, None, 1, 1)
    assert conv._winograd_pays(g, np.float32) and not conv._winograd_pays(g, np.float16)
    assert not conv._winograd_pays(conv.conv_geometry(x.shape, w.shape, None, 2, 1), np.float32)
    expected = torch_conv64(x, w, None, 1)
    scale = np.abs(expected).max()
    winograd_error = np.abs(conv2d(x, w, padding=1) - expected).max() / scale
    im2col_error = np.abs(conv2d_im2col(x, w, padding=1) - expected).max() / scale
    assert winograd_error < 1e-5 and winograd_error < 10 * im2col_error


def test_every_conv2d_path_matches_torch_on_course_like_layers():
    # Channel counts that the hypothesis cases never draw: one per path of conv2d.
    rng = np.random.default_rng(1)
    layers = [(2, 1, 9, 6, 3, 1), (2, 2, 8, 5, 3, 2), (2, 40, 6, 36, 3, 1), (2, 48, 7, 4, 5, 1),
              (2, 8, 7, 16, 3, 1)]
    paths = [conv2d_path((n, c, size, size), (k, c, f, f), stride, f // 2, dtype=np.float64)
             for n, c, size, k, f, stride in layers]
    assert paths == ["nchw", "nchw", "winograd", "gemm-first", "im2col"]
    assert conv2d_path((2, 40, 6, 6), (36, 40, 3, 3), dtype=np.float16) != "winograd"
    for n, c, size, k, f, stride in layers:
        x = rng.standard_normal((n, c, size, size))
        w = rng.standard_normal((k, c, f, f))
        b = rng.standard_normal(k)
        expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                            stride=stride, padding=f // 2).numpy()
        np.testing.assert_allclose(conv2d(x, w, b, stride=stride, padding=f // 2), expected,
                                   rtol=0, atol=1e-11)


def test_conv2d_winograd_refuses_what_it_cannot_compute():
    x, w = np.zeros((1, 2, 5, 5)), np.zeros((3, 2, 5, 5))
    with pytest.raises(ValueError, match=r"3x3 filters only.*\(3, 2, 5, 5\)"):
        conv2d_winograd(x, w)
    with pytest.raises(ValueError, match="expects C/groups = 4"):
        conv2d_winograd(x, np.zeros((3, 4, 3, 3)))
    with pytest.raises(ValueError, match=r"shape \(4,\).*\(3,\)"):
        f23(np.zeros(3), np.zeros(3))


def test_stride_one_backward_through_the_forward_matches_autograd():
    # dx by the forward convolution (Winograd for these channel counts), asymmetric padding;
    # padding wider than the kernel falls back to col2im.
    rng = np.random.default_rng(2)
    for padding in [((1, 0), (2, 1)), 1, ((3, 0), (0, 3))]:
        x, w = rng.standard_normal((2, 32, 6, 7)), rng.standard_normal((33, 32, 3, 3))
        y = conv2d(x, w, padding=padding)
        dy = rng.standard_normal(y.shape)
        dx, dw, db = conv2d_backward(dy, x, w, padding=padding)
        (top, bottom), (left, right) = resolve_padding(padding, x.shape[2:], 3)
        ref_dx, ref_dw = torch_grads(
            lambda xt, wt: F.conv2d(F.pad(xt, (left, right, top, bottom)), wt), x, w, dy=dy)
        np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(dw, ref_dw, rtol=1e-10, atol=1e-10)


def test_input_grad_false_skips_dx_and_keeps_the_parameter_gradients():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    dy = rng.standard_normal((2, 4, 6, 6))
    dx, dw, db = conv2d_backward(dy, x, w, padding=1)
    none, dw2, db2 = conv2d_backward(dy, x, w, padding=1, input_grad=False)
    assert none is None and np.array_equal(dw, dw2) and np.array_equal(db, db2)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten())
    model.astype(np.float64)
    model(x)
    assert model.backward(dy.reshape(2, -1), input_grad=False) is None
    grads = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    model(x)
    assert model.backward(dy.reshape(2, -1)).shape == x.shape
    assert all(np.array_equal(a, p.grad) for a, p in zip(grads, model.parameters()))


def test_conv_cost_counts_flops_and_the_least_traffic():
    flops, nbytes = roofline.conv_cost(32, 64, 28, 64, 3, padding=1)
    assert flops == 2 * conv_macs(64, 64, 3, 28, batch=32) == 1_849_688_064
    assert nbytes == 4 * (32 * 64 * 28 * 28 * 2 + 64 * 64 * 9)
    assert roofline.conv_cost(1, 1, (5, 7), 1, 3, stride=2) == (2 * 9 * 2 * 3, 4 * (35 + 9 + 6))
    roof = roofline.attainable_gflops([1, 10, 100], peak_gflops=200, bandwidth_gbs=20)
    np.testing.assert_array_equal(roof, [20, 200, 200])


def test_machine_measurements_are_positive():
    assert roofline.gemm_gflops(size=128, repeats=1) > 0
    assert roofline.copy_bandwidth(megabytes=8, repeats=1) > 0


@settings(max_examples=10, deadline=None)
@given(blocks=st.integers(0, 9), threads=st.integers(1, 3))
def test_map_blocks_runs_each_block_once_within_numpys_thread_limit(blocks, threads):
    seen, names = [], set()

    def work(block):
        seen.append(block)
        names.add(threading.current_thread().name)

    with threadpool_limits(threads, user_api="blas"):
        map_blocks(work, range(blocks))
    assert sorted(seen) == list(range(blocks))
    assert len(names) <= threads  # one BLAS thread allowed: the caller's own thread only


def test_map_blocks_raises_a_blocks_error():
    def work(block):
        if block == 3:
            raise ValueError("block 3 failed")

    with threadpool_limits(2, user_api="blas"), pytest.raises(ValueError, match="block 3"):
        map_blocks(work, range(6))
