"""DenseNet in Keras, the twin of ``cnnbook.torch.densenet``: layers created in the order of the
PyTorch ``state_dict`` (``load_torch_state`` copies one into the other), no convolution biases,
BatchNorm with PyTorch's eps and momentum; channels-last, logits out."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from cnnbook.architectures import DENSENET121
from cnnbook.tf.resnet import batch_norm, conv


class DenseLayer(layers.Layer):
    """BN -> ReLU -> 1x1 conv (bn_size * growth_rate) -> BN -> ReLU -> 3x3 conv (growth_rate)."""

    def __init__(self, growth_rate, bn_size, **kwargs):
        super().__init__(**kwargs)
        self.norm1, self.conv1 = batch_norm(), conv(bn_size * growth_rate, 1)
        self.norm2, self.conv2 = batch_norm(), conv(growth_rate, 3, padding=1)

    def call(self, x, training=False):
        x = self.conv1(keras.ops.relu(self.norm1(x, training=training)))
        return self.conv2(keras.ops.relu(self.norm2(x, training=training)))


class DenseBlock(layers.Layer):
    """(N, H, W, C) -> (N, H, W, C + num_layers * growth_rate): each layer reads the
    concatenation of the block's input and every earlier layer's output."""

    def __init__(self, num_layers, growth_rate, bn_size, **kwargs):
        super().__init__(**kwargs)
        self.dense_layers = [DenseLayer(growth_rate, bn_size) for _ in range(num_layers)]

    def call(self, x, training=False):
        features = [x]
        for layer in self.dense_layers:
            features.append(layer(keras.ops.concatenate(features, axis=-1), training=training))
        return keras.ops.concatenate(features, axis=-1)


def transition(out_channels) -> keras.Sequential:
    """BN -> ReLU -> 1x1 conv (out_channels) -> 2x2 average pooling."""
    return keras.Sequential([batch_norm(), layers.ReLU(), conv(out_channels, 1),
                             layers.AveragePooling2D(2, 2)])


class DenseNet(keras.Model):
    """Keras twin of ``cnnbook.torch.DenseNet`` (same arguments but ``in_channels``, which the
    input sets)."""

    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64,
                 bn_size=4, compression=0.5, num_classes=1000, small_input=False, **kwargs):
        super().__init__(**kwargs)
        if not 0 < compression <= 1:
            raise ValueError(f"compression must be in (0, 1], got {compression}")
        if small_input:
            stem = [conv(num_init_features, 3, padding=1), batch_norm(), layers.ReLU()]
        else:
            stem = [conv(num_init_features, 7, 2, padding=3), batch_norm(), layers.ReLU(),
                    layers.ZeroPadding2D(1), layers.MaxPool2D(3, 2)]  # >= 0 after ReLU: 0-pad
        self.stem = keras.Sequential(stem)
        self.names, self.parts, channels = [], [], num_init_features
        for i, num_layers in enumerate(block_config, 1):
            self.names.append(f"denseblock{i}")
            self.parts.append(DenseBlock(num_layers, growth_rate, bn_size))
            channels += num_layers * growth_rate
            if i < len(block_config):
                channels = int(channels * compression)
                self.names.append(f"transition{i}")
                self.parts.append(transition(channels))
        self.norm5 = batch_norm()
        self.avgpool, self.classifier = layers.GlobalAveragePooling2D(), layers.Dense(num_classes)

    def stages(self, x, training=False):
        """(name, output) after the stem, each dense block and each transition."""
        x = self.stem(x, training=training)
        yield "stem", x
        for name, part in zip(self.names, self.parts):
            x = part(x, training=training)
            yield name, x

    def call(self, x, training=False):
        for _, x in self.stages(x, training):
            pass
        x = keras.ops.relu(self.norm5(x, training=training))
        return self.classifier(self.avgpool(x))


def densenet121(num_classes=1000, in_channels=3) -> DenseNet:
    """DenseNet-121, built: 8,062,504 weights for 1000 classes, as
    ``keras.applications.DenseNet121(weights=None)`` (PyTorch counts 7,978,856 parameters:
    it leaves out BatchNorm's running statistics)."""
    model = DenseNet(**DENSENET121, num_classes=num_classes)
    model(np.zeros((1, 224, 224, in_channels), np.float32))
    return model


def small_densenet(num_classes=10, in_channels=1, growth_rate=12, block_config=(6, 6, 6),
                   bn_size=4, image_size=28) -> DenseNet:
    """Keras twin of ``cnnbook.torch.small_densenet``, built on image_size x image_size."""
    model = DenseNet(growth_rate, block_config, 2 * growth_rate, bn_size, 0.5, num_classes,
                     small_input=True)
    model(np.zeros((1, image_size, image_size, in_channels), np.float32))
    return model
