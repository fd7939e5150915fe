"""Inception modules and GoogLeNet (Szegedy et al. 2015), and seed 002's Inception network.

``Inception`` takes the columns of the paper's Table 1: ``ch1x1``, ``ch3x3 = (reduce, out)``,
``ch5x5 = (reduce, out)``, ``pool_proj``. By default it is the paper's module (convolutions with
biases and ReLU, a true 5x5, no BatchNorm); ``torchvision_compatible`` builds torchvision's
variant instead: BatchNorm after every convolution (which then drops its bias) and a 3x3 kernel
in the branch the paper gives 5x5, a known quirk of torchvision's ``googlenet``. (torchvision
also pools 2x2 rather than 3x3 before 5a and drops out 0.2 rather than 0.4: no parameters
change, and this variant keeps the paper's.)
"""

from __future__ import annotations

import torch
from torch import nn

from cnnbook.architectures import GOOGLENET_MODULES


def conv_relu(in_channels, out_channels, kernel_size, stride=1, padding=0,
              batch_norm=False) -> nn.Sequential:
    """Convolution then ReLU; with ``batch_norm``, convolution without bias, BatchNorm
    (torchvision's eps 0.001), ReLU."""
    if not batch_norm:
        return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding),
                             nn.ReLU(inplace=True))
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False),
        nn.BatchNorm2d(out_channels, eps=0.001), nn.ReLU(inplace=True))


class Inception(nn.Module):
    """Four branches on the same input, concatenated along channels:
    1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1. Every branch keeps H x W (padding),
    so the output has ch1x1 + ch3x3[1] + ch5x5[1] + pool_proj channels."""

    def __init__(self, in_channels: int, ch1x1: int, ch3x3: tuple[int, int],
                 ch5x5: tuple[int, int], pool_proj: int, torchvision_compatible: bool = False):
        super().__init__()
        bn = torchvision_compatible
        k5 = 3 if torchvision_compatible else 5  # torchvision's quirk: 3x3 where the paper has 5x5
        self.branch1 = conv_relu(in_channels, ch1x1, 1, batch_norm=bn)
        self.branch2 = nn.Sequential(conv_relu(in_channels, ch3x3[0], 1, batch_norm=bn),
                                     conv_relu(ch3x3[0], ch3x3[1], 3, padding=1, batch_norm=bn))
        self.branch3 = nn.Sequential(conv_relu(in_channels, ch5x5[0], 1, batch_norm=bn),
                                     conv_relu(ch5x5[0], ch5x5[1], k5, padding=k5 // 2,
                                               batch_norm=bn))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                     conv_relu(in_channels, pool_proj, 1, batch_norm=bn))
        self.out_channels = ch1x1 + ch3x3[1] + ch5x5[1] + pool_proj

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class AuxClassifier(nn.Sequential):
    """An auxiliary head (after 4a and 4d), as torchvision builds it: 4x4 average pooling
    (adaptive; the paper's 5x5 stride 3 gives 4x4 on 14x14), 1x1 conv to 128, FC 2048 -> 1024,
    ReLU, dropout 0.7, FC 1024 -> classes. Used in training only, its loss weighted by 0.3."""

    def __init__(self, in_channels: int, num_classes: int, torchvision_compatible: bool = False):
        super().__init__(nn.AdaptiveAvgPool2d(4),
                         conv_relu(in_channels, 128, 1, batch_norm=torchvision_compatible),
                         nn.Flatten(), nn.Linear(2048, 1024), nn.ReLU(inplace=True),
                         nn.Dropout(0.7), nn.Linear(1024, num_classes))


class GoogLeNet(nn.Module):
    """GoogLeNet for 224x224 RGB images: stem, nine Inception modules (3a-5b), global average
    pooling, dropout 0.4, one linear layer. Returns logits; in training with ``aux_logits``,
    also the two auxiliary heads' logits, (main, aux1, aux2). The paper's local response
    normalisation layers are left out, as torchvision leaves them (they have no parameters)."""

    def __init__(self, num_classes: int = 1000, torchvision_compatible: bool = False,
                 aux_logits: bool = False):
        super().__init__()
        bn = torchvision_compatible
        pool = lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True)  # noqa: E731
        self.stem = nn.Sequential(
            conv_relu(3, 64, 7, stride=2, padding=3, batch_norm=bn), pool(),
            conv_relu(64, 64, 1, batch_norm=bn), conv_relu(64, 192, 3, padding=1, batch_norm=bn),
            pool())
        self.modules_by_name = nn.ModuleDict()
        for name, *args in GOOGLENET_MODULES:
            self.modules_by_name[name] = Inception(*args, torchvision_compatible=bn)
        self.pool3, self.pool4 = pool(), pool()
        self.aux1 = AuxClassifier(512, num_classes, bn) if aux_logits else None
        self.aux2 = AuxClassifier(528, num_classes, bn) if aux_logits else None
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.4),
                                  nn.Linear(1024, num_classes))

    def stages(self, x):
        """(name, output) after the stem and after each module, for the shape table."""
        x = self.stem(x)
        yield "stem", x
        for name, module in self.modules_by_name.items():
            x = module(x)
            yield name, x
            if name == "3b":
                x = self.pool3(x)
            elif name == "4e":
                x = self.pool4(x)

    def forward(self, x):
        aux = []
        for name, x in self.stages(x):
            if self.training and self.aux1 is not None and name in ("4a", "4d"):
                aux.append((self.aux1 if name == "4a" else self.aux2)(x))
        logits = self.head(x)
        return (logits, *aux) if aux else logits


def googlenet(num_classes: int = 1000, torchvision_compatible: bool = False,
              aux_logits: bool = False) -> GoogLeNet:
    """GoogLeNet as in the paper (default) or as torchvision builds it."""
    return GoogLeNet(num_classes, torchvision_compatible, aux_logits)


class SeedInception(nn.Module):
    """Seed 002's Inception module: 1x1 (16) | 1x1 (16) -> 5x5 (24) | 1x1 (16) -> 3x3 (24) ->
    3x3 (24) | 3x3 average pool -> 1x1 (24), concatenated: 16 + 24 + 24 + 24 = 88 channels.
    No ReLU inside, as the seed writes it."""

    out_channels = 88

    def __init__(self, in_channels: int):
        super().__init__()
        self.branch1x1 = nn.Conv2d(in_channels, 16, 1)
        self.branch5x5 = nn.Sequential(nn.Conv2d(in_channels, 16, 1),
                                       nn.Conv2d(16, 24, 5, padding=2))
        self.branch3x3 = nn.Sequential(nn.Conv2d(in_channels, 16, 1),
                                       nn.Conv2d(16, 24, 3, padding=1),
                                       nn.Conv2d(24, 24, 3, padding=1))
        self.branch_pool = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1),
                                         nn.Conv2d(in_channels, 24, 1))

    def forward(self, x):
        return torch.cat([self.branch1x1(x), self.branch5x5(x), self.branch3x3(x),
                          self.branch_pool(x)], 1)


class SeedInceptionNet(nn.Module):
    """Seed 002's network for 28x28 digits: conv 5x5 (1 -> 10), max pool, ReLU, Inception,
    conv 5x5 (88 -> 20), max pool, ReLU, Inception, flatten (88 * 4 * 4 = 1408), linear -> 10.
    Returns logits (the seed applies log_softmax and NLLLoss: the same loss as cross-entropy)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, 5)
        self.incept1 = SeedInception(10)
        self.conv2 = nn.Conv2d(88, 20, 5)
        self.incept2 = SeedInception(20)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(1408, num_classes)

    def forward(self, x):
        x = self.incept1(torch.relu(self.pool(self.conv1(x))))
        x = self.incept2(torch.relu(self.pool(self.conv2(x))))
        return self.fc(x.flatten(1))


class SmallGoogLeNet(nn.Module):
    """A GoogLeNet in miniature for (N, 1, 28, 28) digits, built from the paper's ``Inception``:
    stem conv 3x3 (1 -> 32, padding 1) + ReLU and 2x2 max pool (-> 32 x 14 x 14); Inception
    "a" (32 -> 16 + 32 + 16 + 16 = 80 channels, 14 x 14); 2x2 max pool (-> 80 x 7 x 7);
    Inception "b" (80 -> 32 + 48 + 24 + 24 = 128 channels, 7 x 7); global average pooling
    (-> 128), dropout, linear 128 -> ``num_classes``. Returns logits (N, num_classes).
    With ``batch_norm``, BatchNorm follows the stem's convolution (which drops its bias) and
    each module's concatenated output (2 parameters per channel): it trains much faster.
    Like GoogLeNet, no layer before the head depends on the image size."""

    def __init__(self, num_classes: int = 10, dropout: float = 0.2, batch_norm: bool = False):
        super().__init__()
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")

        def norm(channels):
            return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()

        self.stem = nn.Sequential(conv_relu(1, 32, 3, padding=1, batch_norm=batch_norm),
                                  nn.MaxPool2d(2))
        self.inception_a = Inception(32, 16, (16, 32), (8, 16), 16)
        self.norm_a = norm(self.inception_a.out_channels)
        self.pool = nn.MaxPool2d(2)
        self.inception_b = Inception(80, 32, (32, 48), (8, 24), 24)
        self.norm_b = norm(self.inception_b.out_channels)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(self.inception_b.out_channels, num_classes))

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != 1:
            raise ValueError(f"x must have shape (N, 1, H, W), got {tuple(x.shape)}")
        x = self.pool(self.norm_a(self.inception_a(self.stem(x))))
        return self.head(self.norm_b(self.inception_b(x)))
