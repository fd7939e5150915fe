"""Inception modules and GoogLeNet in Keras, with the names and arguments of
``cnnbook.torch.inception`` (channels-last images, logits out).

Every layer is created in the order of its PyTorch twin, so that ``model.weights`` lists the
weights in the order of the PyTorch ``state_dict``: ``load_torch_state`` copies one into the
other. Where PyTorch flattens a (C, H, W) map, the Keras model first moves channels to the
front, so that one set of linear weights serves both.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from cnnbook.architectures import GOOGLENET_MODULES

BN_MOMENTUM = 0.9  # PyTorch's momentum 0.1, in Keras's convention


def conv_relu(filters, kernel_size, strides=1, padding=0, batch_norm=False) -> keras.Sequential:
    """Convolution then ReLU, PyTorch's explicit symmetric ``padding``; with ``batch_norm``,
    convolution without bias, BatchNorm (eps 0.001), ReLU."""
    pad = [layers.ZeroPadding2D(padding)] if padding else []
    conv = layers.Conv2D(filters, kernel_size, strides, use_bias=not batch_norm)
    norm = [layers.BatchNormalization(epsilon=0.001, momentum=BN_MOMENTUM)] if batch_norm else []
    return keras.Sequential([*pad, conv, *norm, layers.ReLU()])


def _torch_order_flatten():
    """Flatten (H, W, C) maps in PyTorch's (C, H, W) order."""
    return [layers.Permute((3, 1, 2)), layers.Flatten()]


def _max_pool(pool_size, strides):
    # 'same' pads the bottom and right with -inf exactly where PyTorch's ceil_mode lets a last
    # window hang over the edge: the two agree on every GoogLeNet map size.
    return layers.MaxPool2D(pool_size, strides, padding="same")


class _Branches(layers.Layer):
    """Branches that all read the input, their outputs concatenated along channels;
    ``in_channels`` is checked against the input, as PyTorch's layers would require it."""

    def __init__(self, in_channels, **kwargs):
        super().__init__(**kwargs)
        self.in_channels = in_channels

    def branches(self):
        raise NotImplementedError

    def build(self, input_shape):
        if input_shape[-1] != self.in_channels:
            raise ValueError(f"{type(self).__name__} built for {self.in_channels} input "
                             f"channels got input of shape {tuple(input_shape)}")
        for branch in self.branches():
            branch.build(input_shape)

    def call(self, x, training=False):
        return keras.ops.concatenate([b(x, training=training) for b in self.branches()], axis=-1)


class Inception(_Branches):
    """1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1, concatenated along channels;
    ``torchvision_compatible``: BatchNorm after each convolution and a 3x3 in the 5x5 branch."""

    def __init__(self, in_channels, ch1x1, ch3x3, ch5x5, pool_proj,
                 torchvision_compatible=False, **kwargs):
        super().__init__(in_channels, **kwargs)
        bn = torchvision_compatible
        k5 = 3 if torchvision_compatible else 5
        self.branch1 = conv_relu(ch1x1, 1, batch_norm=bn)
        self.branch2 = keras.Sequential([conv_relu(ch3x3[0], 1, batch_norm=bn),
                                         conv_relu(ch3x3[1], 3, padding=1, batch_norm=bn)])
        self.branch3 = keras.Sequential([conv_relu(ch5x5[0], 1, batch_norm=bn),
                                         conv_relu(ch5x5[1], k5, padding=k5 // 2, batch_norm=bn)])
        self.branch4 = keras.Sequential([_max_pool(3, 1), conv_relu(pool_proj, 1, batch_norm=bn)])
        self.out_channels = ch1x1 + ch3x3[1] + ch5x5[1] + pool_proj

    def branches(self):
        return self.branch1, self.branch2, self.branch3, self.branch4


def aux_classifier(num_classes, torchvision_compatible=False) -> keras.Sequential:
    """The auxiliary head with the paper's 5x5 average pooling, stride 3 (4x4 on 14x14 maps;
    torchvision pools adaptively to 4x4, with windows of 4 or 5 pixels: the parameters agree,
    the pooled values differ slightly)."""
    return keras.Sequential([
        layers.AveragePooling2D(5, 3), conv_relu(128, 1, batch_norm=torchvision_compatible),
        *_torch_order_flatten(), layers.Dense(1024), layers.ReLU(), layers.Dropout(0.7),
        layers.Dense(num_classes)])


class GoogLeNet(keras.Model):
    """GoogLeNet for (N, 224, 224, 3) images; returns logits, and in training with
    ``aux_logits`` the two auxiliary heads' logits too."""

    def __init__(self, num_classes=1000, torchvision_compatible=False, aux_logits=False,
                 **kwargs):
        super().__init__(**kwargs)
        bn = torchvision_compatible
        self.stem = keras.Sequential([
            conv_relu(64, 7, strides=2, padding=3, batch_norm=bn), _max_pool(3, 2),
            conv_relu(64, 1, batch_norm=bn), conv_relu(192, 3, padding=1, batch_norm=bn),
            _max_pool(3, 2)])
        self.module_names = [name for name, *_ in GOOGLENET_MODULES]
        self.inception = [Inception(*args, torchvision_compatible=bn, name=f"inception_{name}")
                          for name, *args in GOOGLENET_MODULES]
        self.pool3, self.pool4 = _max_pool(3, 2), _max_pool(3, 2)
        self.aux1 = aux_classifier(num_classes, bn) if aux_logits else None
        self.aux2 = aux_classifier(num_classes, bn) if aux_logits else None
        self.head = keras.Sequential([layers.GlobalAveragePooling2D(), layers.Dropout(0.4),
                                      layers.Dense(num_classes)])

    def stages(self, x, training=False):
        """(name, output) after the stem and after each Inception module."""
        x = self.stem(x, training=training)
        yield "stem", x
        for name, module in zip(self.module_names, self.inception):
            x = module(x, training=training)
            yield name, x
            if name == "3b":
                x = self.pool3(x)
            elif name == "4e":
                x = self.pool4(x)

    def call(self, x, training=False):
        aux = []
        for name, x in self.stages(x, training):
            if training and self.aux1 is not None and name in ("4a", "4d"):
                aux.append((self.aux1 if name == "4a" else self.aux2)(x, training=training))
        logits = self.head(x, training=training)
        return (logits, *aux) if aux else logits


def googlenet(num_classes=1000, torchvision_compatible=False, aux_logits=False) -> GoogLeNet:
    model = GoogLeNet(num_classes, torchvision_compatible, aux_logits)
    model(np.zeros((1, 224, 224, 3), np.float32), training=bool(aux_logits))  # build every layer
    return model


class SeedInception(_Branches):
    """Seed 002's module: 1x1 (16) | 1x1 -> 5x5 (24) | 1x1 -> 3x3 -> 3x3 (24) | 3x3 average
    pool (zeros counted, as PyTorch's default) -> 1x1 (24): 88 channels, no ReLU inside."""

    out_channels = 88

    def __init__(self, in_channels, **kwargs):
        super().__init__(in_channels, **kwargs)
        same = dict(padding="same")
        self.branch1x1 = layers.Conv2D(16, 1)
        self.branch5x5 = keras.Sequential([layers.Conv2D(16, 1), layers.Conv2D(24, 5, **same)])
        self.branch3x3 = keras.Sequential([layers.Conv2D(16, 1), layers.Conv2D(24, 3, **same),
                                           layers.Conv2D(24, 3, **same)])
        self.branch_pool = keras.Sequential([layers.ZeroPadding2D(1),
                                             layers.AveragePooling2D(3, 1), layers.Conv2D(24, 1)])

    def branches(self):
        return self.branch1x1, self.branch5x5, self.branch3x3, self.branch_pool


class SeedInceptionNet(keras.Model):
    """Seed 002's network for (N, 28, 28, 1) digits; 1408 = 88 * 4 * 4 flattened values."""

    def __init__(self, num_classes=10, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = layers.Conv2D(10, 5)
        self.incept1 = SeedInception(10)
        self.conv2 = layers.Conv2D(20, 5)
        self.incept2 = SeedInception(20)
        self.pool = layers.MaxPool2D(2)
        self.flatten = keras.Sequential(_torch_order_flatten())
        self.fc = layers.Dense(num_classes)

    def call(self, x):
        x = self.incept1(keras.ops.relu(self.pool(self.conv1(x))))
        x = self.incept2(keras.ops.relu(self.pool(self.conv2(x))))
        return self.fc(self.flatten(x))


def load_torch_state(model, state_dict) -> None:
    """Copy a PyTorch ``state_dict`` (tensors or arrays) into a built Keras model whose
    weights come in the same order: conv kernels (K, C, FH, FW) -> (FH, FW, C, K), linear
    weights transposed, BatchNorm's scale, shift and running statistics as they are."""
    arrays = [(k, np.asarray(v)) for k, v in state_dict.items()
              if not k.endswith("num_batches_tracked")]
    if len(arrays) != len(model.weights):
        raise ValueError(f"{len(arrays)} PyTorch arrays for {len(model.weights)} Keras weights")
    for (key, value), weight in zip(arrays, model.weights):
        value = {4: lambda a: a.transpose(2, 3, 1, 0), 2: lambda a: a.T}.get(
            value.ndim, lambda a: a)(value)
        if tuple(weight.shape) != value.shape:
            raise ValueError(f"{key} {value.shape} does not fit Keras weight {weight.path} "
                             f"{tuple(weight.shape)}")
        weight.assign(value)
