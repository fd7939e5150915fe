"""``tf.data`` pipelines over the course's NumPy arrays."""

from __future__ import annotations

import tensorflow as tf

from cnnbook.data import Mnist


def data_loaders(data: Mnist, batch_size: int = 64, seed: int = 0):
    """(train, test) ``tf.data.Dataset``s of batches: train reshuffled each epoch from ``seed``.

    ``data`` holds channels-last images (N, 28, 28, 1): ``load_mnist(channels_last=True)``.
    """
    if data.x_train.ndim != 4 or data.x_train.shape[-1] != 1:
        raise ValueError(
            f"Keras wants channels-last images (N, H, W, 1), got {data.x_train.shape}; "
            "use load_mnist(channels_last=True)"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    train = (tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train))
             .shuffle(len(data.x_train), seed=seed, reshuffle_each_iteration=True)
             .batch(batch_size))
    test = tf.data.Dataset.from_tensor_slices((data.x_test, data.y_test)).batch(batch_size)
    return train, test
