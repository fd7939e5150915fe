"""Optimisers by hand: SGD with momentum and Adam, with ``torch.optim``'s update rules.

Each takes a list of :class:`cnnbook.scratch.nn.Parameter` and updates ``param.data`` in
place from ``param.grad``; ``zero_grad`` clears the gradients before the next backward.
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimiser got an empty parameter list")
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}")
        self.lr = lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad[...] = 0

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """g = grad + weight_decay * p;  v = momentum * v + g;  p -= lr * v  (PyTorch's form:
    the velocity sums gradients, the learning rate scales the step; momentum 0: plain SGD)."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum, self.weight_decay = momentum, weight_decay
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def step(self):
        for p, v in zip(self.params, self.velocity):
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            if self.momentum:
                v *= self.momentum
                v += g
                g = v
            p.data -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma and Ba): running means of the gradient (m) and of its square (v), both
    corrected for their start at zero; each parameter steps by lr * m_hat / (sqrt(v_hat) + eps),
    about lr whatever the gradient's scale. Arranged as ``torch.optim.Adam`` computes it."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]
        self.t = 0

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        correction1, correction2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            denominator = np.sqrt(v) / np.sqrt(correction2) + self.eps
            p.data -= (self.lr / correction1) * m / denominator


class LinearLR:
    """``torch.optim.lr_scheduler.LinearLR``: the learning rate moves linearly from
    ``start_factor`` to ``end_factor`` times its initial value over ``total_iters`` calls of
    ``step`` (one per batch in ``fit``), then stays. A decay to zero lets the last steps
    settle into a minimum that a constant rate keeps overshooting."""

    def __init__(self, optimizer, start_factor=1 / 3, end_factor=1.0, total_iters=5):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"need 0 < start_factor <= 1 and 0 <= end_factor <= 1, got "
                             f"{start_factor} and {end_factor}")
        self.optimizer, self.base_lr = optimizer, optimizer.lr
        self.start, self.end, self.total = start_factor, end_factor, total_iters
        self.steps = 0
        optimizer.lr = self.base_lr * start_factor

    def step(self) -> None:
        self.steps += 1
        progress = min(self.steps, self.total) / self.total
        self.optimizer.lr = self.base_lr * (self.start + (self.end - self.start) * progress)
