"""The chapter 3 networks in Keras, with the names (and parameter counts) of cnnbook.torch.

Each takes channels-last images and returns logits (no softmax inside).
"""

from __future__ import annotations

import keras
from keras import layers

# Keras's BatchNormalization keeps its running statistics with momentum 0.99, PyTorch's with
# 0.1 (i.e. 0.9 in Keras's convention). On a 4,000-image course set (63 steps per epoch)
# 0.99 leaves the statistics used at test time far behind: match PyTorch.
BN_MOMENTUM = 0.9


def _batch_norm():
    return layers.BatchNormalization(momentum=BN_MOMENTUM)


def mnist_cnn_sequential(num_classes: int = 10, dropout: float = 0.3) -> keras.Sequential:
    """Seed 001's MNIST network with the Sequential API: 55,338 parameters.

    PyTorch's MaxPool2d(2, 2, padding=1) has no Keras spelling; after a ReLU every value
    is >= 0, so zero padding then pooling gives exactly the same result (chapter 2).
    """
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(16, 3, activation="relu"),
        layers.ZeroPadding2D(1), layers.MaxPool2D(2),
        layers.Conv2D(32, 3, activation="relu"),
        layers.ZeroPadding2D(1), layers.MaxPool2D(2),
        layers.Flatten(),
        layers.Dense(32, activation="relu"),
        layers.Dropout(dropout),
        layers.Dense(num_classes),
    ], name="mnist_cnn_sequential")


def mnist_cnn_functional(num_classes: int = 10, dropout: float = 0.3) -> keras.Model:
    """The same network with the Functional API: layers called on tensors."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(16, 3, activation="relu")(inputs)
    x = layers.MaxPool2D(2)(layers.ZeroPadding2D(1)(x))
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPool2D(2)(layers.ZeroPadding2D(1)(x))
    x = layers.Dense(32, activation="relu")(layers.Flatten()(x))
    outputs = layers.Dense(num_classes)(layers.Dropout(dropout)(x))
    return keras.Model(inputs, outputs, name="mnist_cnn_functional")


class MnistCNN(keras.Model):
    """The same network by subclassing: layers made in __init__, wired in call."""

    def __init__(self, num_classes: int = 10, dropout: float = 0.3, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = layers.Conv2D(16, 3, activation="relu")
        self.conv2 = layers.Conv2D(32, 3, activation="relu")
        self.pad = layers.ZeroPadding2D(1)
        self.pool = layers.MaxPool2D(2)
        self.flatten = layers.Flatten()
        self.hidden = layers.Dense(32, activation="relu")
        self.dropout = layers.Dropout(dropout)
        self.out = layers.Dense(num_classes)

    def call(self, x, training=False):
        x = self.pool(self.pad(self.conv1(x)))
        x = self.pool(self.pad(self.conv2(x)))
        x = self.dropout(self.hidden(self.flatten(x)), training=training)
        return self.out(x)


def LeNet5(num_classes: int = 10, batch_norm: bool = True, dropout: float = 0.3):  # noqa: N802
    """LeNet-5 as in cnnbook.torch.LeNet5 (Keras's default initializer is already
    Glorot/Xavier-uniform)."""
    def norm():
        return [_batch_norm()] if batch_norm else []

    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(6, 5, padding="same"), *norm(), layers.Activation("tanh"),
        layers.MaxPool2D(2),
        layers.Conv2D(16, 5), *norm(), layers.Activation("tanh"), layers.MaxPool2D(2),
        layers.Conv2D(120, 5), *norm(), layers.Activation("tanh"),
        layers.Flatten(),
        layers.Dense(84), *([layers.Dropout(dropout)] if dropout else []),
        layers.Activation("tanh"),
        layers.Dense(num_classes),
    ], name="lenet5")


def AlexNet(num_classes: int = 1000, grouped: bool = False, dropout: float = 0.5):  # noqa: N802
    """The original AlexNet for 224x224x3 images, as cnnbook.torch.AlexNet."""
    g = 2 if grouped else 1
    return keras.Sequential([
        keras.Input(shape=(224, 224, 3)),
        layers.ZeroPadding2D(2), layers.Conv2D(96, 11, strides=4, activation="relu"),
        layers.MaxPool2D(3, 2),
        layers.Conv2D(256, 5, padding="same", groups=g, activation="relu"),
        layers.MaxPool2D(3, 2),
        layers.Conv2D(384, 3, padding="same", activation="relu"),
        layers.Conv2D(384, 3, padding="same", groups=g, activation="relu"),
        layers.Conv2D(256, 3, padding="same", groups=g, activation="relu"),
        layers.MaxPool2D(3, 2),
        layers.Flatten(),
        layers.Dropout(dropout), layers.Dense(4096, activation="relu"),
        layers.Dropout(dropout), layers.Dense(4096, activation="relu"),
        layers.Dense(num_classes),
    ], name="alexnet")


class SmallAlexNet(keras.Model):
    """Seed 000's idea, a subclassed AlexNet shrunk to fit small images (28x28x1 here),
    written the tidy way: one block list instead of fifteen attributes."""

    def __init__(self, num_classes: int = 10, dropout: float = 0.5, **kwargs):
        super().__init__(**kwargs)

        def conv(filters):
            return layers.Conv2D(filters, 3, padding="same", activation="relu")

        self.features = [
            conv(32), _batch_norm(), layers.MaxPool2D(2),
            conv(48), _batch_norm(), layers.MaxPool2D(2),
            conv(64), conv(64), conv(48), layers.MaxPool2D(2),
        ]
        self.classifier = [
            layers.Flatten(),
            layers.Dense(256, activation="relu"), layers.Dropout(dropout),
            layers.Dense(256, activation="relu"), layers.Dropout(dropout),
            layers.Dense(num_classes),
        ]

    def call(self, x, training=False):
        for layer in self.features + self.classifier:
            x = layer(x, training=training)
        return x
