"""Training the NumPy networks: batches, augmentation, ``fit`` and ``evaluate``.

The same loop as ``cnnbook.torch.fit``, with the backward pass called by hand:
forward, loss, ``cross_entropy_backward``, ``model.backward``, ``optimizer.step``.
"""

from __future__ import annotations

import time

import numpy as np

from cnnbook import seeding
from cnnbook.progress import EpochProgress, History
from cnnbook.scratch.layers import cross_entropy, cross_entropy_backward
from cnnbook.scratch.optim import Adam


def random_shift(images, max_shift: int, rng=None):
    """Move each image (N, C, H, W) by its own random whole-pixel offset in
    [-max_shift, max_shift] along each axis, filling the border with zeros.

    A digit moved by a pixel or two is the same digit: each epoch sees new variants."""
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {images.shape}")
    if max_shift == 0:
        return images
    rng = seeding.generator() if rng is None else rng
    n, _, h, w = images.shape
    s = max_shift
    padded = np.pad(images, ((0, 0), (0, 0), (s, s), (s, s)))
    # windows[n, c, i, j] is the H x W crop starting at (i, j): a view, no copy.
    windows = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(2, 3))
    rows, cols = rng.integers(0, 2 * s + 1, size=(2, n))
    return windows[np.arange(n), :, rows, cols]


class Batches:
    """Mini-batches (images, labels) of NumPy arrays, reshuffled on every pass when
    ``shuffle``; ``transform(images, rng)`` (e.g. :func:`random_shift`) applied per batch."""

    def __init__(self, images, labels, batch_size: int = 64, shuffle: bool = False,
                 transform=None, rng=None):
        if len(images) != len(labels):
            raise ValueError(f"images and labels differ in length: {len(images)} and "
                             f"{len(labels)}")
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.shuffle, self.transform = shuffle, transform
        self.rng = seeding.generator() if rng is None else rng

    def __len__(self):
        return -(-len(self.images) // self.batch_size)

    def __iter__(self):
        order = (self.rng.permutation(len(self.images)) if self.shuffle
                 else np.arange(len(self.images)))
        for start in range(0, len(order), self.batch_size):
            index = order[start:start + self.batch_size]
            images = self.images[index]
            if self.transform is not None:
                images = self.transform(images, self.rng)
            yield images, self.labels[index]


def evaluate(model, batches) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` over ``batches``, in evaluation mode."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for images, labels in batches:
        logits = model(images)
        total_loss += float(cross_entropy(logits, labels)) * len(labels)
        correct += int((logits.argmax(axis=1) == labels).sum())
        count += len(labels)
    return total_loss / count, correct / count


def train_step(model, optimizer, images, labels) -> float:
    """One step: forward, loss, backward by hand, update. Returns the batch's loss."""
    optimizer.zero_grad()
    logits = model(images)
    model.backward(cross_entropy_backward(logits, labels), input_grad=False)  # images: no dx
    optimizer.step()
    return float(cross_entropy(logits, labels))


def fit(model, train, validation, epochs: int, optimizer=None, scheduler=None,
        progress: bool = True) -> History:
    """Train on the ``train`` batches for ``epochs``, evaluating after each epoch on the
    training digits (evaluation mode, without ``train``'s transform) and on ``validation``
    (``None``: a final run with no digits held out), as ``cnnbook.torch.fit`` does. The
    optimiser defaults to Adam with lr 1e-3; ``scheduler.step()`` runs after every batch."""
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    optimizer = optimizer or Adam(model.parameters(), lr=1e-3)
    train_plain = Batches(train.images, train.labels, batch_size=500)
    history = History()
    bar = EpochProgress(epochs, len(train), enabled=progress)
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        bar.start_epoch(epoch)
        running, seen = 0.0, 0
        for batch, (images, labels) in enumerate(train, 1):
            model.train()
            running += train_step(model, optimizer, images, labels) * len(labels)
            if scheduler is not None:
                scheduler.step()
            seen += len(labels)
            bar.update(batch, loss=running / seen)
        val = (np.nan, np.nan) if validation is None else evaluate(model, validation)
        history.add(running / seen, evaluate(model, train_plain), val,
                    time.perf_counter() - start)
        bar.end_epoch(history.summary())
    return history
