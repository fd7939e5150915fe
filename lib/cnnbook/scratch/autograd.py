"""Reverse-mode automatic differentiation in a hundred lines: a tape of the book's operations.

While a :class:`Tape` records, every operation of this module computes its forward with the
chapter's NumPy function and appends one entry to the tape: its output, its inputs, and a
function from the output's gradient to the inputs' gradients (the chapter's backward
functions). ``tape.gradient(target, sources)`` walks the entries from last to first: each
output's gradient, once complete, is the upstream gradient of its entry, and an input used
by several operations collects the sum of their gradients. This is what ``tf.GradientTape``
does, and what PyTorch does with the graph it hangs on each tensor's ``grad_fn``.
"""

from __future__ import annotations

import numpy as np

from cnnbook.scratch import conv, layers, norm, pool

_recording: list[Tape] = []  # the tapes inside whose ``with`` block we are


class Tensor:
    """An array that the tape can follow; gradients are found by the Tensor's identity."""

    def __init__(self, data):
        self.data = np.asarray(data)

    @property
    def shape(self):
        return self.data.shape

    def __add__(self, other):
        return add(self, other)

    def __mul__(self, other):
        return mul(self, other)

    def __repr__(self):
        return f"Tensor(shape={self.data.shape}, dtype={self.data.dtype})"


class Tape:
    """``with Tape() as tape:`` records the operations run inside the block."""

    def __init__(self):
        self.entries: list[tuple[Tensor, tuple[Tensor, ...], object]] = []

    def __enter__(self):
        _recording.append(self)
        return self

    def __exit__(self, *exc):
        _recording.remove(self)

    def gradient(self, target: Tensor, sources):
        """d target / d source for each source; target must be a scalar (a loss)."""
        if target.data.size != 1:
            raise ValueError(f"the target must be a scalar, got shape {target.shape}")
        grads = {id(target): np.ones_like(target.data)}
        for output, inputs, backward in reversed(self.entries):
            if id(output) not in grads:  # the target does not depend on this entry
                continue
            for tensor, grad in zip(inputs, backward(grads[id(output)])):
                key = id(tensor)
                grads[key] = grad if key not in grads else grads[key] + grad
        return [grads.get(id(s), np.zeros_like(s.data)) for s in sources]


def _record(data, inputs, backward) -> Tensor:
    out = Tensor(data)
    for tape in _recording:
        tape.entries.append((out, inputs, backward))
    return out


def add(a: Tensor, b: Tensor) -> Tensor:
    if a.shape != b.shape:
        raise ValueError(f"add needs equal shapes (no broadcasting here), got {a.shape} and "
                         f"{b.shape}")
    return _record(a.data + b.data, (a, b), lambda dy: (dy, dy))


def mul(a: Tensor, b: Tensor) -> Tensor:
    if a.shape != b.shape:
        raise ValueError(f"mul needs equal shapes (no broadcasting here), got {a.shape} and "
                         f"{b.shape}")
    return _record(a.data * b.data, (a, b), lambda dy: (dy * b.data, dy * a.data))


def relu(x: Tensor) -> Tensor:
    return _record(layers.relu(x.data), (x,), lambda dy: (dy * layers.relu_grad(x.data),))


def sigmoid(x: Tensor) -> Tensor:
    return _record(layers.sigmoid(x.data), (x,), lambda dy: (dy * layers.sigmoid_grad(x.data),))


def flatten(x: Tensor) -> Tensor:
    return _record(layers.flatten(x.data), (x,), lambda dy: (dy.reshape(x.shape),))


def linear(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return _record(layers.linear(x.data, w.data, b.data), (x, w, b),
                   lambda dy: layers.linear_backward(dy, x.data, w.data))


def conv2d(x: Tensor, w: Tensor, b: Tensor | None = None, **kwargs) -> Tensor:
    """kwargs: stride, padding, dilation, groups, as ``scratch.conv2d``."""
    inputs = (x, w) if b is None else (x, w, b)
    return _record(conv.conv2d(x.data, w.data, None if b is None else b.data, **kwargs), inputs,
                   lambda dy: conv.conv2d_backward(dy, x.data, w.data, **kwargs)[:len(inputs)])


def max_pool2d(x: Tensor, kernel_size, stride=None) -> Tensor:
    return _record(pool.max_pool2d(x.data, kernel_size, stride), (x,),
                   lambda dy: (pool.max_pool2d_backward(dy, x.data, kernel_size, stride),))


def batch_norm2d(x: Tensor, gamma: Tensor, beta: Tensor, running_mean, running_var) -> Tensor:
    """Training mode; the running statistics (plain arrays) are updated in place."""
    return _record(norm.batch_norm2d(x.data, gamma.data, beta.data, running_mean, running_var),
                   (x, gamma, beta), lambda dy: norm.batch_norm2d_backward(dy, x.data, gamma.data))


def cross_entropy(logits: Tensor, labels) -> Tensor:
    """Mean cross-entropy; ``labels`` is a plain integer array (nothing to differentiate)."""
    loss = np.asarray(layers.cross_entropy(logits.data, labels))
    return _record(loss, (logits,),
                   lambda dy: (dy * layers.cross_entropy_backward(logits.data, labels),))
