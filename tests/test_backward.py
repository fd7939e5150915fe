"""Backward passes of cnnbook.scratch against torch autograd (float64) and centred differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from cnnbook import scratch
from cnnbook.scratch import (avg_pool2d, avg_pool2d_backward, conv2d, conv2d_backward,
                             cross_entropy, cross_entropy_backward, gradcheck, linear,
                             linear_backward, max_pool2d, max_pool2d_backward, numerical_gradient,
                             rel_error)
from cnnbook.shapes import resolve_padding
from test_conv import conv_cases
from test_pool import pool_cases


def torch_grads(forward, *arrays, dy):
    """Gradients of sum(forward(*tensors) * dy) with respect to every array, by autograd."""
    tensors = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    (forward(*tensors) * torch.from_numpy(dy)).sum().backward()
    return [t.grad.numpy() for t in tensors]


@given(case=conv_cases(), seed=st.integers(0, 2**16))
def test_conv2d_backward_matches_autograd(case, seed):
    x, w, _, kw = case
    x, w = x.astype(np.float64), w.astype(np.float64)
    y = conv2d(x, w, None, **kw)
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    dx, dw, db = conv2d_backward(dy, x, w, **kw)
    (top, bottom), (left, right) = resolve_padding(kw["padding"], x.shape[2:], w.shape[2:],
                                                   kw["stride"], kw["dilation"])

    def forward(xt, wt):  # PyTorch with the same (possibly asymmetric) padding
        return F.conv2d(F.pad(xt, (left, right, top, bottom)), wt, None, kw["stride"], 0,
                        kw["dilation"], kw["groups"])

    ref_dx, ref_dw = torch_grads(forward, x, w, dy=dy)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (w.shape[0],)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_conv2d_backward_numerically_and_keeps_float32():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)
    kw = dict(stride=(2, 1), padding=((1, 0), (0, 1)), dilation=(1, 2), groups=2)
    y = conv2d(x, w, b, **kw)
    dy = rng.standard_normal(y.shape)
    dx, dw, db = conv2d_backward(dy, x, w, **kw)
    errors = gradcheck(lambda x, w, b: conv2d(x, w, b, **kw), [x, w, b], [dx, dw, db], dy)
    assert max(errors) < 1e-6, errors  # about 1e-8 here; elements near 0 vary most
    grads32 = conv2d_backward(dy.astype(np.float32), x.astype(np.float32), w.astype(np.float32), **kw)
    assert all(g.dtype == np.float32 for g in grads32)


@pytest.mark.parametrize("dy, error, match", [
    (np.zeros((2, 6, 3, 3)), ValueError, r"dy has shape \(2, 6, 3, 3\), but conv2d produces \(2, 6, 4, 5\)"),
    (np.zeros((2, 6, 4, 5), np.float32), TypeError, "dtype float64"),
    ([[0.0]], TypeError, "NumPy array"),
])
def test_conv2d_backward_checks_dy(dy, error, match):
    x, w = np.zeros((2, 4, 6, 7)), np.zeros((6, 4, 3, 3))
    with pytest.raises(error, match=match):
        conv2d_backward(dy, x, w)


@given(case=pool_cases(), seed=st.integers(0, 2**16))
def test_max_pool2d_backward_matches_autograd(case, seed):
    x, kw = case
    x = x.astype(np.float64)
    y = max_pool2d(x, **kw)
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    (ref,) = torch_grads(lambda t: F.max_pool2d(t, **kw), x, dy=dy)
    dx = max_pool2d_backward(dy, x, **kw)
    assert dx.dtype == x.dtype
    np.testing.assert_allclose(dx, ref, rtol=1e-12, atol=1e-12)


def test_max_pool2d_backward_ties_first_and_overlaps_add():
    x = np.zeros((1, 1, 3, 3))  # every window is a tie: the first pixel of each window wins
    dx = max_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2, stride=1)
    np.testing.assert_array_equal(dx[0, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0  # the centre wins all four overlapping windows: it gets their sum
    dx = max_pool2d_backward(np.arange(1.0, 5.0).reshape(1, 1, 2, 2), x, 2, stride=1)
    assert dx[0, 0, 1, 1] == 10 and dx.sum() == 10


@given(case=pool_cases(), count_include_pad=st.booleans(), seed=st.integers(0, 2**16))
def test_avg_pool2d_backward_matches_autograd(case, count_include_pad, seed):
    x, kw = case
    x = np.nan_to_num(x.astype(np.float64), nan=0.0, neginf=-3.0)
    y = avg_pool2d(x, count_include_pad=count_include_pad, **kw)
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    (ref,) = torch_grads(lambda t: F.avg_pool2d(t, count_include_pad=count_include_pad, **kw),
                         x, dy=dy)
    dx = avg_pool2d_backward(dy, x, count_include_pad=count_include_pad, **kw)
    np.testing.assert_allclose(dx, ref, rtol=1e-12, atol=1e-12)


def test_pool_backward_checks_dy():
    x = np.zeros((1, 2, 6, 6))
    for backward, name in ((max_pool2d_backward, "max_pool2d"), (avg_pool2d_backward, "avg_pool2d")):
        with pytest.raises(ValueError, match=rf"\(1, 2, 2, 2\), but {name} produces \(1, 2, 3, 3\)"):
            backward(np.zeros((1, 2, 2, 2)), x, 2)


@given(n=st.integers(1, 5), fan_in=st.integers(1, 6), fan_out=st.integers(1, 6),
       seed=st.integers(0, 2**16))
def test_linear_backward_matches_autograd(n, fan_in, fan_out, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((n, fan_in)), rng.standard_normal((fan_out, fan_in)), rng.standard_normal(fan_out)
    dy = rng.standard_normal((n, fan_out))
    dx, dw, db = linear_backward(dy, x, w)
    ref = torch_grads(F.linear, x, w, b, dy=dy)
    for ours, theirs in zip((dx, dw, db), ref):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"but linear produces"):
        linear_backward(dy[:, :0], x, w)


@given(n=st.integers(1, 6), k=st.integers(2, 8), seed=st.integers(0, 2**16))
def test_cross_entropy_backward_is_softmax_minus_onehot(n, k, seed):
    rng = np.random.default_rng(seed)
    logits, labels = 3 * rng.standard_normal((n, k)), rng.integers(0, k, n)
    (ref,) = torch_grads(lambda t: F.cross_entropy(t, torch.from_numpy(labels)), logits,
                         dy=np.array(1.0))
    grad = cross_entropy_backward(logits, labels)
    np.testing.assert_allclose(grad, ref, rtol=1e-10, atol=1e-14)
    onehot = np.eye(k)[labels]
    np.testing.assert_allclose(grad, (scratch.softmax(logits) - onehot) / n, atol=1e-15)
    # Centred differences resolve about 1e-10 absolute, so tiny elements (~1e-7) cannot be
    # checked relatively: compare with an absolute floor.
    numerical = numerical_gradient(lambda z: cross_entropy(z, labels), logits)
    np.testing.assert_allclose(grad, numerical, rtol=1e-6, atol=1e-9)


def test_gradcheck_catches_a_wrong_gradient_and_refuses_float32():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    dy = rng.standard_normal((3, 2))
    dx, dw, _ = linear_backward(dy, x, w)
    assert max(gradcheck(linear, [x, w], [dx, dw], dy)) < 1e-8
    assert gradcheck(linear, [x, w], [dx, dw.T.T * 1.01], dy)[1] > 1e-3  # 1% off: caught
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda z: z, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="one shape"):
        rel_error(np.zeros(2), np.zeros(3))


@given(n=st.integers(1, 4), c=st.integers(1, 4), h=st.integers(1, 5), w=st.integers(1, 5),
       momentum=st.sampled_from([0.1, 0.5]), seed=st.integers(0, 2**16))
def test_batch_norm2d_matches_torch_and_its_backward_autograd(n, c, h, w, momentum, seed):
    assume(n * h * w > 1)  # one value per channel: both refuse (tested below)
    rng = np.random.default_rng(seed)
    x = 2 + 3 * rng.standard_normal((n, c, h, w))
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    running_mean, running_var = rng.standard_normal(c), 1 + rng.random(c)
    t_mean, t_var = torch.from_numpy(running_mean.copy()), torch.from_numpy(running_var.copy())
    y = scratch.batch_norm2d(x, gamma, beta, running_mean, running_var, True, momentum)
    ref = F.batch_norm(torch.from_numpy(x), t_mean, t_var, torch.from_numpy(gamma),
                       torch.from_numpy(beta), True, momentum, 1e-5)
    np.testing.assert_allclose(y, ref.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(running_mean, t_mean.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(running_var, t_var.numpy(), rtol=1e-12, atol=1e-12)
    y_eval = scratch.batch_norm2d(x, gamma, beta, running_mean, running_var, training=False)
    ref_eval = F.batch_norm(torch.from_numpy(x), t_mean, t_var, torch.from_numpy(gamma),
                            torch.from_numpy(beta), False)
    np.testing.assert_allclose(y_eval, ref_eval.numpy(), rtol=1e-9, atol=1e-9)

    dy = rng.standard_normal(x.shape)
    grads = scratch.batch_norm2d_backward(dy, x, gamma)
    ref_grads = torch_grads(lambda xt, g, b: F.batch_norm(xt, None, None, g, b, True), x, gamma,
                            beta, dy=dy)
    for ours, theirs in zip(grads, ref_grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)


def test_batch_norm2d_backward_numerically_and_checks_shapes():
    rng = np.random.default_rng(1)
    x, gamma, beta = rng.standard_normal((3, 2, 4, 3)), rng.standard_normal(2), rng.standard_normal(2)
    dy = rng.standard_normal(x.shape)
    dx, dgamma, dbeta = scratch.batch_norm2d_backward(dy, x, gamma)
    errors = gradcheck(lambda x, g, b: scratch.batch_norm2d(x, g, b), [x, gamma, beta],
                       [dx, dgamma, dbeta], dy)
    assert max(errors) < 1e-6, errors
    with pytest.raises(ValueError, match=r"gamma must have shape \(2,\)"):
        scratch.batch_norm2d(x, np.ones(3), beta)
    with pytest.raises(ValueError, match="but batch_norm2d produces"):
        scratch.batch_norm2d_backward(dy[:1], x, gamma)
    with pytest.raises(ValueError, match="running_mean"):
        scratch.batch_norm2d(x, gamma, beta, training=False)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        scratch.batch_norm2d(x[:1, :, :1, :1], gamma, beta)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(torch.zeros(1, 2, 1, 1), None, None, training=True)
