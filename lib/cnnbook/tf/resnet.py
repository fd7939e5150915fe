"""Residual networks in Keras, channels-last, logits out.

Two families:

- ``BasicBlock``, ``Bottleneck``, ``resnet18``, ``resnet34`` and ``cifar_resnet`` are the twins of
  ``cnnbook.torch.resnet``: no convolution biases, BatchNorm with PyTorch's eps and momentum,
  layers created in the order of the PyTorch ``state_dict``, so that ``load_torch_state`` copies
  PyTorch weights in and the outputs agree.
- ``ConvBlock``, ``IdentityBlock`` and ``ResNet50`` are seed 000's subclassed ResNet-50, built
  as ``keras.applications.ResNet50`` is: convolutions with biases, the stride on the first 1x1,
  BatchNorm eps 1.001e-5. ``resnet50()`` returns it. ``seed_activations=True`` places the
  activations where the seed put them (a LeakyReLU on both paths before the sum, none after).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from cnnbook.architectures import CIFAR_RESNET_WIDTHS, RESNET_STAGES, blocks_per_stage
from cnnbook.tf.inception import BN_MOMENTUM

TORCH_BN_EPS = 1e-5
KERAS_APPLICATIONS_BN_EPS = 1.001e-5


def batch_norm(epsilon=TORCH_BN_EPS):
    return layers.BatchNormalization(epsilon=epsilon, momentum=BN_MOMENTUM)


def conv(filters, kernel_size, strides=1, padding=0, use_bias=False) -> keras.Sequential:
    """Convolution with PyTorch's explicit symmetric zero ``padding`` (Keras's 'same' pads
    stride-2 layers on the bottom and right only, which would shift every output)."""
    pad = [layers.ZeroPadding2D(padding)] if padding else []
    return keras.Sequential([*pad, layers.Conv2D(filters, kernel_size, strides,
                                                 use_bias=use_bias)])


class ZeroPadShortcut(layers.Layer):
    """Option A: every ``stride``-th pixel, then ``extra`` channels of zeros appended."""

    def __init__(self, extra, stride, **kwargs):
        super().__init__(**kwargs)
        if extra < 0:
            raise ValueError(f"option A pads channels: extra must be >= 0, got {extra}")
        self.extra, self.stride = extra, stride

    def call(self, x):
        x = x[:, ::self.stride, ::self.stride, :]
        return keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, self.extra]])


def shortcut(in_channels, out_channels, stride, kind):
    """None for the identity; else option B (1x1 conv + BN, "projection") or A ("zeros")."""
    if stride == 1 and in_channels == out_channels:
        return None
    if kind == "projection":
        return keras.Sequential([layers.Conv2D(out_channels, 1, stride, use_bias=False),
                                 batch_norm()])
    if kind == "zeros":
        return ZeroPadShortcut(out_channels - in_channels, stride)
    raise ValueError(f"shortcut must be 'projection' or 'zeros', got {kind!r}")


class _Residual(layers.Layer):
    """relu(F(x) + shortcut(x)), or the plain relu(F(x)) with ``residual=False``."""

    def __init__(self, in_channels, residual, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.residual = in_channels, residual

    def _add_shortcut(self, out_channels, stride, kind):
        self.downsample = shortcut(self.in_channels, out_channels, stride, kind) \
            if self.residual else None

    def build(self, input_shape):
        if input_shape[-1] != self.in_channels:
            raise ValueError(f"{type(self).__name__} built for {self.in_channels} input "
                             f"channels got input of shape {tuple(input_shape)}")
        super().build(input_shape)

    def call(self, x, training=False):
        out = self.branch(x, training)
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x, training=training))
        return keras.ops.relu(out)


class BasicBlock(_Residual):
    """Keras twin of ``cnnbook.torch.BasicBlock``: (N, H, W, in_channels) -> (N, H/stride,
    W/stride, channels)."""

    expansion = 1

    def __init__(self, in_channels, channels, stride=1, shortcut="projection", residual=True,
                 **kwargs):
        super().__init__(in_channels, residual, **kwargs)
        self.conv1, self.bn1 = conv(channels, 3, stride, padding=1), batch_norm()
        self.conv2, self.bn2 = conv(channels, 3, padding=1), batch_norm()
        self._add_shortcut(channels, stride, shortcut)

    def branch(self, x, training):
        x = keras.ops.relu(self.bn1(self.conv1(x), training=training))
        return self.bn2(self.conv2(x), training=training)


class Bottleneck(_Residual):
    """Keras twin of ``cnnbook.torch.Bottleneck`` (stride on the 3x3, as torchvision):
    (N, H, W, in_channels) -> (N, H/stride, W/stride, 4 * channels)."""

    expansion = 4

    def __init__(self, in_channels, channels, stride=1, shortcut="projection", residual=True,
                 **kwargs):
        super().__init__(in_channels, residual, **kwargs)
        self.conv1, self.bn1 = conv(channels, 1), batch_norm()
        self.conv2, self.bn2 = conv(channels, 3, stride, padding=1), batch_norm()
        self.conv3, self.bn3 = conv(channels * 4, 1), batch_norm()
        self._add_shortcut(channels * 4, stride, shortcut)

    def branch(self, x, training):
        x = keras.ops.relu(self.bn1(self.conv1(x), training=training))
        x = keras.ops.relu(self.bn2(self.conv2(x), training=training))
        return self.bn3(self.conv3(x), training=training)


def _stage(block, in_channels, channels, blocks, stride, **kwargs):
    out = [block(in_channels, channels, stride, **kwargs)]
    out += [block(channels * block.expansion, channels, **kwargs) for _ in range(blocks - 1)]
    return keras.Sequential(out)


class _Staged(keras.Model):
    """A stem, named stages, global average pooling and a linear head."""

    def stages(self, x, training=False):
        """(name, output) after the stem and after each stage."""
        x = self.stem(x, training=training)
        yield "stem", x
        for i, stage in enumerate(self.layer_stages, 1):
            x = stage(x, training=training)
            yield f"layer{i}", x

    def call(self, x, training=False):
        for _, x in self.stages(x, training):
            pass
        return self.fc(self.avgpool(x))


class ResNet(_Staged):
    """Keras twin of ``cnnbook.torch.ResNet`` (torchvision's ResNet-18/34/50 layout)."""

    def __init__(self, block, stage_blocks, num_classes=1000, **kwargs):
        super().__init__(**kwargs)
        self.stem = keras.Sequential([conv(64, 7, 2, padding=3), batch_norm(), layers.ReLU(),
                                      layers.ZeroPadding2D(1), layers.MaxPool2D(3, 2)])
        self.layer_stages, width = [], 64
        for i, (channels, blocks) in enumerate(zip((64, 128, 256, 512), stage_blocks)):
            self.layer_stages.append(_stage(block, width, channels, blocks, 1 if i == 0 else 2))
            width = channels * block.expansion
        self.avgpool, self.fc = layers.GlobalAveragePooling2D(), layers.Dense(num_classes)


def _built(model, shape):
    model(np.zeros((1, *shape), np.float32))
    return model


def resnet18(num_classes=1000, in_channels=3) -> ResNet:
    _, stage_blocks = RESNET_STAGES["resnet18"]
    return _built(ResNet(BasicBlock, stage_blocks, num_classes), (224, 224, in_channels))


def resnet34(num_classes=1000, in_channels=3) -> ResNet:
    _, stage_blocks = RESNET_STAGES["resnet34"]
    return _built(ResNet(BasicBlock, stage_blocks, num_classes), (224, 224, in_channels))


class CifarResNet(_Staged):
    """Keras twin of ``cnnbook.torch.CifarResNet``: depth 6n + 2, option A by default."""

    def __init__(self, depth, num_classes=10, in_channels=3, width=CIFAR_RESNET_WIDTHS[0],
                 residual=True, shortcut="zeros", **kwargs):
        super().__init__(**kwargs)
        n = blocks_per_stage(depth)
        self.stem = keras.Sequential([conv(width, 3, padding=1), batch_norm(), layers.ReLU()])
        self.layer_stages, previous = [], width
        for i, w in enumerate(CIFAR_RESNET_WIDTHS):
            channels = width * w // CIFAR_RESNET_WIDTHS[0]
            self.layer_stages.append(_stage(BasicBlock, previous, channels, n,
                                            1 if i == 0 else 2, shortcut=shortcut,
                                            residual=residual))
            previous = channels
        self.avgpool, self.fc = layers.GlobalAveragePooling2D(), layers.Dense(num_classes)


def cifar_resnet(depth, num_classes=10, in_channels=3, width=16, residual=True,
                 shortcut="zeros", image_size=32) -> CifarResNet:
    """ResNet-``depth`` for CIFAR-sized images, built on (1, image_size, image_size,
    in_channels)."""
    model = CifarResNet(depth, num_classes, in_channels, width, residual, shortcut)
    return _built(model, (image_size, image_size, in_channels))


# ---- seed 000's ResNet-50, as keras.applications builds it --------------------------------

class _SeedBlock(layers.Layer):
    """The three convolutions of a bottleneck (1x1 with the stride, 3x3, 1x1 to 4 * filters),
    each with a bias and followed by BatchNorm; an optional projection on the skip path."""

    def __init__(self, filters, strides, project, seed_activations, **kwargs):
        super().__init__(**kwargs)
        bn = lambda: batch_norm(KERAS_APPLICATIONS_BN_EPS)  # noqa: E731
        self.seed_activations = seed_activations
        if project:  # created first, as keras.applications does: the weights' order matches
            self.skip_conv, self.skip_bn = layers.Conv2D(4 * filters, 1, strides), bn()
        else:
            self.skip_conv = None
        self.conv1, self.bn1 = layers.Conv2D(filters, 1, strides), bn()
        self.conv2, self.bn2 = layers.Conv2D(filters, 3, padding="same"), bn()
        self.conv3, self.bn3 = layers.Conv2D(4 * filters, 1), bn()
        act = layers.LeakyReLU if seed_activations else layers.ReLU
        self.act1, self.act2, self.act3, self.act_skip = act(), act(), act(), act()

    def call(self, x, training=False):
        skip = x
        if self.skip_conv is not None:
            skip = self.skip_bn(self.skip_conv(x), training=training)
            if self.seed_activations:
                skip = self.act_skip(skip)
        z = self.act1(self.bn1(self.conv1(x), training=training))
        z = self.act2(self.bn2(self.conv2(z), training=training))
        z = self.bn3(self.conv3(z), training=training)
        if self.seed_activations:  # the seed: activation on each path, then the sum
            return self.act3(z) + skip
        return self.act3(z + skip)  # the paper and keras.applications: the sum, then ReLU


class ConvBlock(_SeedBlock):
    """Seed 000's Conv Block: a 1x1 convolution (with ``strides``) on the skip path, so that
    the sum's shapes agree. (N, H, W, C) -> (N, H/strides, W/strides, 4 * filters)."""

    def __init__(self, filters, strides=2, seed_activations=False, **kwargs):
        super().__init__(filters, strides, True, seed_activations, **kwargs)


class IdentityBlock(_SeedBlock):
    """Seed 000's Identity Block: the input itself on the skip path. (N, H, W, 4 * filters) ->
    the same shape."""

    def __init__(self, filters, seed_activations=False, **kwargs):
        super().__init__(filters, 1, False, seed_activations, **kwargs)


class ResNet50(_Staged):
    """Seed 000's ResNet-50 by subclassing: 7x7/2 stem, 3x3/2 max pooling, stages of 3, 4, 6
    and 3 blocks (a Conv Block, then Identity Blocks) with 64, 128, 256, 512 filters, global
    average pooling, a linear layer. (N, 224, 224, 3) -> (N, num_classes) logits."""

    def __init__(self, num_classes=1000, seed_activations=False, **kwargs):
        super().__init__(**kwargs)
        self.stem = keras.Sequential([
            layers.ZeroPadding2D(3), layers.Conv2D(64, 7, 2), batch_norm(KERAS_APPLICATIONS_BN_EPS),
            layers.ReLU(), layers.ZeroPadding2D(1), layers.MaxPool2D(3, 2)])
        _, stage_blocks = RESNET_STAGES["resnet50"]
        self.blocks = []
        for i, (filters, count) in enumerate(zip((64, 128, 256, 512), stage_blocks)):
            self.blocks.append(ConvBlock(filters, 1 if i == 0 else 2, seed_activations))
            self.blocks += [IdentityBlock(filters, seed_activations) for _ in range(count - 1)]
        self.avgpool, self.fc = layers.GlobalAveragePooling2D(), layers.Dense(num_classes)

    def stages(self, x, training=False):
        """(name, output) after the stem and after each stage (layer1 ... layer4)."""
        x = self.stem(x, training=training)
        yield "stem", x
        stage = 0
        for block in self.blocks:
            if isinstance(block, ConvBlock) and stage:
                yield f"layer{stage}", x
            stage += isinstance(block, ConvBlock)
            x = block(x, training=training)
        yield f"layer{stage}", x


def resnet50(num_classes=1000, seed_activations=False) -> ResNet50:
    """Seed 000's subclassed ResNet-50, built: 25,636,712 weights for 1000 classes, as
    ``keras.applications.ResNet50(weights=None)``."""
    return _built(ResNet50(num_classes, seed_activations), (224, 224, 3))


def copy_from_keras_applications(model: ResNet50, reference) -> None:
    """Copy the weights of ``keras.applications.ResNet50`` (``reference``) into seed 000's
    ``model``, layer by layer through the reference's names (``conv2_block1_0_conv`` is the
    first block's projection, ``_1_conv`` ... ``_3_conv`` its three convolutions)."""
    pairs = [(model.stem.layers[1], "conv1_conv"), (model.stem.layers[2], "conv1_bn"),
             (model.fc, "predictions")]
    stage, index = 1, 0
    for block in model.blocks:
        stage, index = (stage + 1, 1) if isinstance(block, ConvBlock) else (stage, index + 1)
        prefix = f"conv{stage}_block{index}_"
        if block.skip_conv is not None:
            pairs += [(block.skip_conv, prefix + "0_conv"), (block.skip_bn, prefix + "0_bn")]
        for k in (1, 2, 3):
            pairs += [(getattr(block, f"conv{k}"), f"{prefix}{k}_conv"),
                      (getattr(block, f"bn{k}"), f"{prefix}{k}_bn")]
    for layer, name in pairs:
        layer.set_weights(reference.get_layer(name).get_weights())
