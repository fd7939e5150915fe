"""Keras layers written by subclassing, to show what ``keras.layers`` does for you."""

from __future__ import annotations

import keras
import tensorflow as tf


class Conv2D(keras.layers.Layer):
    """A conv layer by subclassing: kernel and bias made in ``build``, ``tf.nn.conv2d`` in ``call``.

    kernel (FH, FW, C, K) = (kernel height, kernel width, in_channels, filters), bias (K,);
    x (N, H, W, C) -> (N, OH, OW, K).
    The TensorFlow twin of ``cnnbook.torch.Conv2D``.
    """

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        if padding.upper() not in ("VALID", "SAME"):
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
        self.filters, self.use_bias = filters, use_bias
        self.kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(
            kernel_size)
        self.strides, self.padding = strides, padding.upper()

    def build(self, input_shape):
        # Weights are made here, not in __init__, because only now is the input's channel
        # count known: the layer adapts to whatever it is first called on.
        in_channels = input_shape[-1]
        self.kernel = self.add_weight(name="kernel", shape=(*self.kernel_size, in_channels,
                                                            self.filters),
                                      initializer="glorot_uniform")
        self.bias = (self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
                     if self.use_bias else None)

    def call(self, x):
        y = tf.nn.conv2d(x, self.kernel, strides=self.strides, padding=self.padding)
        return tf.nn.bias_add(y, self.bias) if self.use_bias else y

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding.lower(),
                "use_bias": self.use_bias}
