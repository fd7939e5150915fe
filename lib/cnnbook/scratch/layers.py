"""The non-convolutional layers of a CNN in NumPy: activations, flatten, linear, dropout,
softmax and cross-entropy. Shapes follow PyTorch: a batch is the first axis."""

from __future__ import annotations

import numpy as np

from cnnbook import seeding
from cnnbook.scratch._validate import upstream


def _float_array(x, name="x"):
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"{name} must be a float NumPy array, got "
                        + (f"dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__))
    return x


# --- activations and their derivatives (elementwise, any shape) ------------------------------

def relu(x):
    """max(x, 0)."""
    return np.maximum(_float_array(x), 0)


def relu_grad(x):
    """d relu / dx: 1 where x > 0, else 0 (PyTorch's choice at exactly 0)."""
    return (_float_array(x) > 0).astype(x.dtype)


def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise: negative inputs keep a small gradient."""
    return np.where(_float_array(x) > 0, x, negative_slope * x)


def leaky_relu_grad(x, negative_slope=0.01):
    return np.where(_float_array(x) > 0, 1.0, negative_slope).astype(x.dtype)


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow for large |x|."""
    x = _float_array(x)
    z = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x):
    return np.tanh(_float_array(x))


def tanh_grad(x):
    return 1 - np.tanh(_float_array(x)) ** 2


# --- shape and linear layers ------------------------------------------------------------------

def flatten(x):
    """(N, ...) -> (N, product of the rest), as nn.Flatten()."""
    _float_array(x)
    if x.ndim < 2:
        raise ValueError(f"x must have a batch axis and at least one more, got shape {x.shape}")
    return x.reshape(len(x), -1)


def linear(x, w, b=None):
    """Fully connected layer: x (N, in) @ w.T + b, with w (out, in) and b (out,) as nn.Linear."""
    for name, a in (("x", x), ("w", w)):
        _float_array(a, name)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        raise ValueError(f"linear needs x (N, in) and w (out, in) with the same 'in', got x "
                         f"{x.shape} and w {w.shape}")
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},) for w {w.shape}, got {b.shape}")
    y = x @ w.T
    return y if b is None else y + b


def linear_backward(dy, x, w):
    """Gradients of ``linear``: dy (N, out) -> (dx (N, in), dw (out, in), db (out,)).

    y = x @ w.T + b, so dx = dy @ w, dw = dy.T @ x (each weight meets the inputs it
    multiplied, summed over the batch), db = dy summed over the batch.
    """
    for name, a in (("x", x), ("w", w)):
        _float_array(a, name)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        raise ValueError(f"linear needs x (N, in) and w (out, in) with the same 'in', got x "
                         f"{x.shape} and w {w.shape}")
    upstream(dy, (x.shape[0], w.shape[0]), x.dtype, "linear")
    return dy @ w, dy.T @ x, dy.sum(axis=0)


def dropout(x, p=0.5, training=True, rng=None):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training);
    return x unchanged in evaluation. The scaling keeps every element's expected value.

    ``rng``: a ``np.random.Generator``; default: the library's, which ``seed_everything``
    seeds, so that a seeded notebook drops the same elements on every run."""
    _float_array(x)
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not training or p == 0:
        return x
    rng = seeding.generator() if rng is None else rng
    keep = rng.random(x.shape) >= p
    return np.where(keep, x / (1 - p), 0).astype(x.dtype)


# --- probabilities and the loss ----------------------------------------------------------------

def softmax(logits, axis=-1):
    """exp(z) / sum(exp(z)), after subtracting the max (same result, no overflow)."""
    z = _float_array(logits, "logits") - logits.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(logits, axis=-1):
    """log(softmax(z)) computed as z - logsumexp(z): exact where log(softmax) underflows."""
    z = _float_array(logits, "logits") - logits.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def nll_loss(log_probs, labels):
    """Mean negative log-likelihood of the true classes: log_probs (N, K), labels (N,) ints."""
    _float_array(log_probs, "log_probs")
    labels = np.asarray(labels)
    if log_probs.ndim != 2 or labels.shape != (len(log_probs),):
        raise ValueError(f"need log_probs (N, K) and labels (N,), got {log_probs.shape} and "
                         f"{labels.shape}")
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= log_probs.shape[1]:
        raise ValueError(f"labels must be integers in [0, {log_probs.shape[1]}), got "
                         f"{labels.dtype} in [{labels.min()}, {labels.max()}]")
    return -log_probs[np.arange(len(labels)), labels].mean()


def cross_entropy(logits, labels):
    """Cross-entropy on logits = nll_loss(log_softmax(logits)), as F.cross_entropy."""
    return nll_loss(log_softmax(logits), labels)


def cross_entropy_backward(logits, labels):
    """Gradient of the *mean* cross-entropy with respect to the logits (N, K):
    (softmax(logits) - onehot(labels)) / N. Fusing softmax with the loss is what makes it
    this simple (and stable): no division by a probability that may underflow."""
    nll_loss(log_softmax(logits), labels)  # validates the shapes and the labels
    grad = softmax(logits)
    grad[np.arange(len(labels)), labels] -= 1
    return grad / len(labels)
