"""A plain training loop, written out once: fit, evaluate, predict."""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from cnnbook.progress import EpochProgress, History
from cnnbook.torch.accelerator import model_device


@torch.no_grad()
def evaluate(model, loader, loss_fn=F.cross_entropy):
    """(mean loss, accuracy) of ``model`` over ``loader``, in eval mode (no dropout), on the
    model's device."""
    model.eval()
    where = model_device(model)
    total_loss, correct, count = 0.0, 0, 0
    for images, labels in loader:
        images, labels = images.to(where), labels.to(where)
        logits = model(images)
        total_loss += loss_fn(logits, labels, reduction="sum").item()
        correct += (logits.argmax(dim=1) == labels).sum().item()
        count += len(labels)
    return total_loss / count, correct / count


def fit(model, train, validation, epochs: int, optimizer=None, scheduler=None,
        loss_fn=F.cross_entropy, progress: bool = True) -> History:
    """Train ``model`` on the ``train`` loader for ``epochs``; evaluate after each epoch.

    After each epoch the model is evaluated (eval mode, no gradients) on ``validation`` and on
    ``train`` itself, so that training and validation figures compare like with like. The
    optimizer defaults to Adam with learning rate 1e-3; ``scheduler``, if given, is a
    learning-rate scheduler stepped after every batch. ``loss_fn(logits, labels,
    reduction=...)`` defaults to cross-entropy on logits. Each batch moves to the model's
    device (``model.to(cnnbook.torch.device())`` first, to train on a GPU). Returns a
    :class:`History`.

    The loop, line by line, is written out in chapter 3, section 2.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=1e-3)
    history = History()
    bar = EpochProgress(epochs, len(train), enabled=progress)
    where = model_device(model)
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        bar.start_epoch(epoch)
        model.train()  # Dropout on, BatchNorm uses (and updates) batch statistics
        running, seen = 0.0, 0
        for batch, (images, labels) in enumerate(train, 1):
            images, labels = images.to(where), labels.to(where)
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels, reduction="mean")
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            running += loss.item() * len(labels)
            seen += len(labels)
            bar.update(batch, loss=running / seen)
        history.add(running / seen, evaluate(model, train, loss_fn),
                    evaluate(model, validation, loss_fn), time.perf_counter() - start)
        bar.end_epoch(history.summary())
    return history


@torch.no_grad()
def predict(model, images) -> np.ndarray:
    """Logits (N, classes) for a NumPy batch of images, in eval mode, on the model's device."""
    model.eval()
    return model(torch.as_tensor(images, device=model_device(model))).cpu().numpy()
