"""Batch normalization in NumPy, with ``torch.nn.functional.batch_norm``'s semantics.

Per channel c, over the batch and every position (N, H, W), in training mode:

    mu_c = mean(x), var_c = mean((x - mu_c)^2)      (biased: what the forward divides by)
    x_hat = (x - mu_c) / sqrt(var_c + eps),   y = gamma_c * x_hat + beta_c

and the running statistics move towards the batch's, PyTorch's way:
running = (1 - momentum) * running + momentum * batch statistic, with the *unbiased*
variance (m / (m - 1) times the biased one, m = N*H*W). Evaluation mode normalises with
the running statistics instead. (Keras's ``momentum=0.99`` is the weight of the old value:
PyTorch's 0.1 is Keras's 0.9.)
"""

from __future__ import annotations

import numpy as np

from cnnbook.scratch._validate import upstream


def _check(x, gamma, beta=None):
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f" or x.ndim != 4:
        raise ValueError(f"x must be a 4-D float NumPy array (N, C, H, W), got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p is not None and (not isinstance(p, np.ndarray) or p.shape != (x.shape[1],)):
            raise ValueError(f"{name} must have shape ({x.shape[1]},) for x {x.shape}, got "
                             f"{getattr(p, 'shape', type(p).__name__)}")


def _per_channel(v):
    return v.reshape(1, -1, 1, 1)


def channel_sum(a, b=None):
    """Sum over (N, H, W) of a (or of a * b), per channel: (C,).

    ``a.sum(axis=(0, 2, 3))`` strides across the channels of NCHW memory; summing each image's
    contiguous (H*W) run of each channel first is several times faster, and keeps NumPy's
    pairwise summation, whose rounding error grows like log(H*W), not like H*W."""
    n, c = a.shape[:2]
    rows = a.reshape(n, c, -1) if b is None else (a * b).reshape(n, c, -1)
    return rows.sum(axis=2).sum(axis=0)


def _statistics(x):
    """Per-channel mean and biased variance over (N, H, W), and x - mean."""
    m = x.size // x.shape[1]
    mean = channel_sum(x) / m
    centered = x - _per_channel(mean)
    return mean, channel_sum(centered, centered) / m, centered


def batch_norm2d(x, gamma, beta, running_mean=None, running_var=None, training=True,
                 momentum=0.1, eps=1e-5):
    """Normalise x (N, C, H, W) per channel, then scale by gamma (C,) and shift by beta (C,).

    training: use the batch's statistics and, if ``running_mean``/``running_var`` (C,) are
    given, update them in place; else: normalise with the running statistics.
    """
    _check(x, gamma, beta)
    if training:
        m = x.size // x.shape[1]  # values per channel
        if m < 2:  # a variance of one value is 0 and its unbiased estimate undefined
            raise ValueError(f"training mode needs more than 1 value per channel, got x {x.shape}")
        mean, var, centered = _statistics(x)
        if running_mean is not None and running_var is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += momentum * var * m / (m - 1)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("evaluation mode needs running_mean and running_var")
        mean, var = running_mean, running_var
        centered = x - _per_channel(mean)
    # gamma * (x - mean) / std + beta, with the per-channel factors multiplied first.
    scale = _per_channel(gamma / np.sqrt(var + eps))
    return (centered * scale + _per_channel(beta)).astype(x.dtype)


def batch_norm2d_backward(dy, x, gamma, eps=1e-5):
    """Gradients of ``batch_norm2d`` in training mode: dy (N, C, H, W) -> (dx, dgamma, dbeta).

    The batch statistics depend on every x, so dx is not just gamma * dy / std: with means
    over (N, H, W),

        dx = gamma / sqrt(var + eps) * (dy - mean(dy) - x_hat * mean(dy * x_hat)),

    dgamma = sum(dy * x_hat), dbeta = sum(dy). Chapter 4 derives it.
    """
    _check(x, gamma)
    upstream(dy, x.shape, x.dtype, "batch_norm2d")
    m = x.size // x.shape[1]
    _, var, centered = _statistics(x)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = centered * _per_channel(inv_std)
    dbeta, dgamma = channel_sum(dy), channel_sum(dy, x_hat)
    # dx = gamma * inv_std * (dy - mean(dy) - x_hat * mean(dy * x_hat)), per channel
    scale = gamma * inv_std
    dx = dy * _per_channel(scale) - _per_channel(scale * dbeta / m) - x_hat * _per_channel(
        scale * dgamma / m)
    return dx.astype(x.dtype), dgamma.astype(x.dtype), dbeta.astype(x.dtype)
