"""Keras's data parallelism: ``tf.distribute.MirroredStrategy`` over logical CPU devices.

``MirroredStrategy`` keeps one replica of the model per device, splits each global batch
among them and sums their gradients (an all-reduce) before every step: DDP's algorithm,
TensorFlow's engine. A CPU is one device to TensorFlow, so the strategy needs it split into
logical devices, which TensorFlow allows only before its runtime starts. ``train_mirrored``
therefore trains in a fresh Python process (``python -m cnnbook.tf.mirrored``), whatever the
calling process has already done with TensorFlow, and returns the trained weights.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np


def train_mirrored(images, labels, devices: int = 2, epochs: int = 1, batch_size: int = 64,
                   lr: float = 0.05, momentum: float = 0.0, seed: int = 0) -> list[np.ndarray]:
    """Train seed 001's MNIST network (``mnist_cnn_sequential``, no dropout) with
    ``MirroredStrategy`` over ``devices`` logical CPUs; returns its weights (Keras's order).

    images (N, 28, 28, 1) channels-last, labels (N,) ints. Every global batch of
    ``batch_size`` is split among the replicas; the batches come in order (no shuffling), so
    that runs with different ``devices`` see the same batches.
    """
    images, labels = np.asarray(images, np.float32), np.asarray(labels)
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1) or len(images) != len(labels):
        raise ValueError(f"need images (N, 28, 28, 1) and labels (N,), got {images.shape} and "
                         f"{labels.shape}")
    if not 1 <= devices <= batch_size:
        raise ValueError(f"devices must be between 1 and batch_size={batch_size}, got {devices}")
    with tempfile.TemporaryDirectory() as tmp:
        data, out = os.path.join(tmp, "data.npz"), os.path.join(tmp, "weights.npz")
        np.savez(data, images=images, labels=labels)
        command = [sys.executable, "-m", "cnnbook.tf.mirrored", data, out,
                   "--devices", str(devices), "--epochs", str(epochs), "--batch-size",
                   str(batch_size), "--lr", str(lr), "--momentum", str(momentum),
                   "--seed", str(seed)]
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode:
            raise RuntimeError(f"the MirroredStrategy process failed:\n{run.stderr[-3000:]}")
        with np.load(out) as weights:
            return [weights[f"w{i}"] for i in range(len(weights.files))]


def _train(args) -> None:
    from cnnbook import seeding
    from cnnbook import tf as ctf

    tf, keras = ctf.tf, ctf.keras
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(  # before the runtime starts: a fresh process
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(args.devices)])
    seeding.seed_everything(args.seed)
    strategy = tf.distribute.MirroredStrategy(
        [f"/cpu:{i}" for i in range(args.devices)],
        cross_device_ops=tf.distribute.ReductionToOneDevice())  # the all-reduce for CPUs
    with np.load(args.data) as data:
        images, labels = data["images"], data["labels"]
    with strategy.scope():  # variables created here are mirrored on every device
        model = ctf.mnist_cnn_sequential(dropout=0.0)
        model.compile(optimizer=keras.optimizers.SGD(args.lr, momentum=args.momentum),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert strategy.num_replicas_in_sync == args.devices
    model.fit(images, labels, batch_size=args.batch_size, epochs=args.epochs, shuffle=False,
              verbose=0)
    np.savez(args.out, **{f"w{i}": w for i, w in enumerate(model.get_weights())})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("out")
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    _train(parser.parse_args(argv))


if __name__ == "__main__":
    main()
