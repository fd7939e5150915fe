"""cnnbook.scratch layers against torch.nn.functional, values and derivatives."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import cnnbook
from cnnbook import scratch

FLOATS = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)),
                elements=st.floats(-50, 50, allow_nan=False))

ACTIVATIONS = [
    (scratch.relu, scratch.relu_grad, F.relu),
    (scratch.leaky_relu, scratch.leaky_relu_grad, F.leaky_relu),
    (scratch.sigmoid, scratch.sigmoid_grad, torch.sigmoid),
    (scratch.tanh, scratch.tanh_grad, torch.tanh),
]


@pytest.mark.parametrize("f, df, reference", ACTIVATIONS, ids=lambda f: getattr(f, "__name__", ""))
@given(x=FLOATS)
def test_activation_and_derivative_match_torch(f, df, reference, x):
    t = torch.from_numpy(x).requires_grad_()
    y = reference(t)
    y.sum().backward()
    np.testing.assert_allclose(f(x), y.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(df(x), t.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_sigmoid_does_not_overflow():
    with np.errstate(over="raise"):
        np.testing.assert_allclose(scratch.sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0, 0.5, 1])


@given(logits=arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 7)),
                     elements=st.floats(-500, 500, allow_nan=False)), data=st.data())
def test_softmax_family_matches_torch(logits, data):
    labels = np.array(data.draw(st.lists(st.integers(0, logits.shape[1] - 1),
                                         min_size=len(logits), max_size=len(logits))))
    t = torch.from_numpy(logits)
    np.testing.assert_allclose(scratch.softmax(logits), F.softmax(t, dim=-1).numpy(), atol=1e-12)
    np.testing.assert_allclose(scratch.log_softmax(logits), F.log_softmax(t, dim=-1).numpy(),
                               rtol=1e-10, atol=1e-10)
    expected = F.cross_entropy(t, torch.from_numpy(labels)).item()
    assert np.isclose(scratch.cross_entropy(logits, labels), expected, rtol=1e-10, atol=1e-10)
    assert np.isclose(scratch.nll_loss(scratch.log_softmax(logits), labels), expected, rtol=1e-10,
                      atol=1e-10)


@given(n=st.integers(1, 4), fan_in=st.integers(1, 6), fan_out=st.integers(1, 6),
       seed=st.integers(0, 1000))
def test_linear_matches_torch(n, fan_in, fan_out, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((n, fan_in)), rng.standard_normal((fan_out, fan_in)), rng.standard_normal(fan_out)
    expected = F.linear(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)).numpy()
    # Sums may cancel to near zero, where a relative bound alone fails on rounding in another
    # summation order (another BLAS): bound the error by the size of what was summed.
    scale = (np.abs(x) @ np.abs(w).T + np.abs(b)).max()
    np.testing.assert_allclose(scratch.linear(x, w, b), expected, rtol=1e-12, atol=1e-13 * scale)


def test_flatten_and_dropout():
    x = np.ones((4, 2, 3, 3))
    assert scratch.flatten(x).shape == (4, 18)
    kept = scratch.dropout(np.ones((200, 200)), p=0.3, rng=np.random.default_rng(0))
    assert set(np.unique(kept)) == {0.0, 1 / 0.7}
    assert abs((kept == 0).mean() - 0.3) < 0.01 and abs(kept.mean() - 1) < 0.02
    assert scratch.dropout(x, p=0.3, training=False) is x


def test_dropout_without_rng_repeats_after_seeding():
    cnnbook.seed_everything(1)
    first = scratch.dropout(np.ones((50, 50)), p=0.5)
    cnnbook.seed_everything(1)
    np.testing.assert_array_equal(scratch.dropout(np.ones((50, 50)), p=0.5), first)
    assert not np.array_equal(scratch.dropout(np.ones((50, 50)), p=0.5), first)


@pytest.mark.parametrize("call, error, match", [
    (lambda: scratch.linear(np.ones((2, 3)), np.ones((4, 5))), ValueError, r"x \(2, 3\) and w \(4, 5\)"),
    (lambda: scratch.linear(np.ones((2, 3)), np.ones((4, 3)), np.ones(3)), ValueError, r"\(4,\)"),
    (lambda: scratch.dropout(np.ones(3), p=1.0), ValueError, r"\[0, 1\)"),
    (lambda: scratch.nll_loss(np.zeros((2, 3)), np.array([0, 3])), ValueError, r"\[0, 3\)"),
    (lambda: scratch.nll_loss(np.zeros((2, 3)), np.array([0])), ValueError, r"\(2, 3\) and \(1,\)"),
    (lambda: scratch.flatten(np.ones(3)), ValueError, r"\(3,\)"),
    (lambda: scratch.relu(np.arange(3)), TypeError, "float"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
