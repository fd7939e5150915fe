"""The NumPy convolution timed against PyTorch's, in the same process.

Used by ``bench/conv.py`` and by the chapter that reports the figures.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from cnnbook.scratch import conv2d, conv2d_backward, optim
from cnnbook.scratch.models import RECIPE, training_batches, two_conv_net
from cnnbook.scratch.training import Batches, evaluate, train_step
from cnnbook.seeding import default_threads, seed_everything
from cnnbook.timing import best_times

# (batch, in_channels, size, out_channels, kernel): course-sized layers, 'same' padding.
CONV_LAYERS = [
    (64, 1, 28, 16, 3),
    (64, 16, 14, 32, 3),
    (32, 64, 28, 64, 3),
    (8, 192, 28, 32, 5),
    (16, 32, 32, 64, 3),
]


@contextlib.contextmanager
def pinned_threads(threads: int):
    """NumPy's BLAS and PyTorch both limited to ``threads`` threads inside the block."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


def _course_layers(layers):
    """(name, x, w, padding) of each layer: float32 random inputs, 'same' padding."""
    rng = np.random.default_rng(0)
    for n, c, size, k, r in layers:
        x = rng.standard_normal((n, c, size, size), dtype=np.float32)
        w = rng.standard_normal((k, c, r, r), dtype=np.float32)
        yield f"{n}x{c}x{size}x{size} -> {k} ch {r}x{r}", x, w, r // 2


def _row(name, t_numpy, t_torch, threads):
    return {"layer": name, "numpy_ms": t_numpy * 1e3, "torch_ms": t_torch * 1e3,
            "ratio": t_numpy / t_torch, "threads": threads}


def conv_speed_table(layers=CONV_LAYERS, repeats: int = 5, threads: int | None = None):
    """One row per layer: name, NumPy ms, PyTorch ms, and their ratio (NumPy / PyTorch).

    Both libraries run with the same number of threads (default: the CPUs this process
    may use), their repeats interleaved. Both return a contiguous NCHW array.
    """
    threads = default_threads() if threads is None else threads
    rows = []
    with pinned_threads(threads), torch.no_grad():
        for name, x, w, pad in _course_layers(layers):
            xt, wt = torch.from_numpy(x), torch.from_numpy(w)
            rows.append(_row(name, *best_times(
                [lambda: conv2d(x, w, padding=pad),
                 lambda: F.conv2d(xt, wt, padding=pad)], repeats), threads))
    return rows


def conv_backward_speed_table(layers=CONV_LAYERS, repeats: int = 5, threads: int | None = None):
    """As :func:`conv_speed_table` for the backward pass: ``conv2d_backward`` (dx, dw, db)
    against PyTorch autograd's gradients of the same three, from the same upstream dy."""
    threads = default_threads() if threads is None else threads
    rows = []
    with pinned_threads(threads):
        for name, x, w, pad in _course_layers(layers):
            xt, wt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
            bt = torch.zeros(len(w), requires_grad=True)
            yt = F.conv2d(xt, wt, bt, padding=pad)
            dy = np.random.default_rng(1).standard_normal(yt.shape, dtype=np.float32)
            dyt = torch.from_numpy(dy)
            rows.append(_row(name, *best_times(
                [lambda: conv2d_backward(dy, x, w, padding=pad),
                 lambda: torch.autograd.grad(yt, (xt, wt, bt), dyt, retain_graph=True)],
                repeats), threads))
    return rows


def numpy_cnn_race(data, seed: int = 0, epochs: int | None = None, threads: int | None = None):
    """Chapter 4's NumPy CNN and its PyTorch twin, trained from the same initial weights on
    the same batches (all of ``data``'s training digits, chapter 4's recipe), then tested
    once on its test digits. Returns test accuracy and training seconds (no evaluation
    inside the clock) of each: keys numpy_accuracy, numpy_seconds, torch_accuracy,
    torch_seconds.
    """
    threads = default_threads() if threads is None else threads
    epochs = RECIPE["epochs"] if epochs is None else epochs
    seed_everything(seed, threads=threads)
    model = two_conv_net()
    twin = two_conv_net(torch.nn)
    twin.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    batches = training_batches(data.x_train, data.y_train)
    schedule = [list(batches) for _ in range(epochs)]  # drawn once: both see the same ones
    steps = epochs * len(batches)

    def train_numpy():
        opt = optim.Adam(model.parameters(), lr=RECIPE["lr"])
        decay = optim.LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=steps)
        model.train()
        for epoch in schedule:
            for images, labels in epoch:
                train_step(model, opt, images, labels)
                decay.step()

    def train_torch():
        opt = torch.optim.Adam(twin.parameters(), lr=RECIPE["lr"])
        decay = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=0.0,
                                                  total_iters=steps)
        twin.train()
        for epoch in schedule:
            for images, labels in epoch:
                opt.zero_grad()
                F.cross_entropy(twin(torch.from_numpy(images)), torch.from_numpy(labels)).backward()
                opt.step()
                decay.step()

    with pinned_threads(threads):
        seconds = [_seconds(train_numpy), _seconds(train_torch)]
    test = Batches(data.x_test, data.y_test, batch_size=500)
    with torch.no_grad():
        twin.eval()
        torch_accuracy = float((twin(torch.from_numpy(data.x_test)).argmax(1).numpy()
                                == data.y_test).mean())
    return {"numpy_accuracy": evaluate(model, test)[1], "numpy_seconds": seconds[0],
            "torch_accuracy": torch_accuracy, "torch_seconds": seconds[1]}


def _seconds(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start
