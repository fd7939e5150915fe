"""DenseNet (Huang et al. 2017), with torchvision's module names (``features.denseblock1.
denselayer1.conv1``, ``features.transition1``, ``classifier``): a torchvision ``state_dict``
loads into ``densenet121()`` unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnbook.architectures import DENSENET121


class DenseLayer(nn.Module):
    """BN -> ReLU -> 1x1 conv (``bn_size * growth_rate``: the bottleneck) -> BN -> ReLU -> 3x3
    conv (``growth_rate``). Reads the concatenation of everything before it in its block:
    (N, in_channels, H, W) -> (N, growth_rate, H, W) new feature maps."""

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int):
        super().__init__()
        width = bn_size * growth_rate
        self.norm1, self.relu1 = nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.norm2, self.relu2 = nn.BatchNorm2d(width), nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, growth_rate, 3, padding=1, bias=False)

    def forward(self, x):
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers; each reads the block's input and every earlier layer's
    output, concatenated along channels, and the block returns all of them concatenated:
    (N, C, H, W) -> (N, C + num_layers * growth_rate, H, W)."""

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int):
        super().__init__({f"denselayer{i + 1}": DenseLayer(in_channels + i * growth_rate,
                                                           growth_rate, bn_size)
                          for i in range(num_layers)})
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(torch.cat(features, 1)))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    """Between dense blocks: BN -> ReLU -> 1x1 conv (``out_channels``: the compression) ->
    2x2 average pooling. (N, C, H, W) -> (N, out_channels, H/2, W/2)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.norm, self.relu = nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.pool = nn.AvgPool2d(2, 2)


class DenseNet(nn.Module):
    """Stem, dense blocks of ``block_config`` layers with transitions between them, BN, ReLU,
    global average pooling, linear. (N, in_channels, H, W) -> (N, num_classes) logits.

    The ImageNet stem is a 7x7/2 convolution (``num_init_features``) and 3x3/2 max pooling;
    ``small_input`` replaces both by one 3x3 stride-1 convolution, as DenseNet-BC for CIFAR
    (and the digits) does. Each transition keeps ``compression`` of its input's channels."""

    def __init__(self, growth_rate: int = 32, block_config=(6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, compression: float = 0.5,
                 num_classes: int = 1000, in_channels: int = 3, small_input: bool = False):
        super().__init__()
        if not 0 < compression <= 1:
            raise ValueError(f"compression must be in (0, 1], got {compression}")
        if small_input:
            stem = [("conv0", nn.Conv2d(in_channels, num_init_features, 3, padding=1,
                                        bias=False))]
        else:
            stem = [("conv0", nn.Conv2d(in_channels, num_init_features, 7, 2, padding=3,
                                        bias=False))]
        stem += [("norm0", nn.BatchNorm2d(num_init_features)), ("relu0", nn.ReLU(inplace=True))]
        if not small_input:
            stem.append(("pool0", nn.MaxPool2d(3, 2, padding=1)))
        self.features = nn.Sequential()
        for name, module in stem:
            self.features.add_module(name, module)
        channels = num_init_features
        for i, num_layers in enumerate(block_config, 1):
            block = DenseBlock(num_layers, channels, growth_rate, bn_size)
            self.features.add_module(f"denseblock{i}", block)
            channels = block.out_channels
            if i < len(block_config):
                self.features.add_module(f"transition{i}",
                                         Transition(channels, int(channels * compression)))
                channels = int(channels * compression)
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.relu, self.avgpool = nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def stages(self, x):
        """(name, output) after the stem, each dense block and each transition."""
        stem_end = "pool0" if "pool0" in self.features._modules else "relu0"
        for name, module in self.features.named_children():
            x = module(x)
            if name == stem_end:
                yield "stem", x
            elif name.startswith(("denseblock", "transition")):
                yield name, x

    def forward(self, x):
        x = self.relu(self.features(x))
        return self.classifier(self.avgpool(x).flatten(1))


def densenet121(num_classes: int = 1000, in_channels: int = 3) -> DenseNet:
    """DenseNet-121 as torchvision builds it: 7,978,856 parameters for 1000 classes."""
    return DenseNet(**DENSENET121, num_classes=num_classes, in_channels=in_channels)


def small_densenet(num_classes: int = 10, in_channels: int = 1, growth_rate: int = 12,
                   block_config=(6, 6, 6), bn_size: int = 4) -> DenseNet:
    """A DenseNet-BC for small images such as the 28x28 digits: a 3x3 stem of 2 * growth_rate
    channels, three dense blocks, compression 0.5."""
    return DenseNet(growth_rate, block_config, 2 * growth_rate, bn_size, 0.5, num_classes,
                    in_channels, small_input=True)
