"""Residual networks (He et al. 2016): blocks, the ImageNet ResNets as torchvision builds them,
and the CIFAR ResNets of the paper's section 4.2, with or without their shortcuts.

Module and parameter names follow torchvision (``conv1``, ``bn1``, ``layer1.0.downsample.0``,
``fc``), so that a torchvision ``state_dict`` loads into ``resnet18/34/50`` unchanged.
Stride sits on the bottleneck's 3x3 convolution, as in torchvision ("ResNet v1.5"); the paper
and Keras put it on the first 1x1 (same parameters, a different function).
"""

from __future__ import annotations

from torch import nn

from cnnbook.architectures import CIFAR_RESNET_WIDTHS, RESNET_STAGES, blocks_per_stage


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution, padding 1, no bias (BatchNorm follows and has its own shift)."""
    return nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)


def projection(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    """Shortcut "option B": 1x1 convolution with ``stride``, then BatchNorm."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                         nn.BatchNorm2d(out_channels))


class ZeroPadShortcut(nn.Module):
    """Shortcut "option A" (He et al. 2016, CIFAR): keep every ``stride``-th pixel and append
    ``out_channels - in_channels`` channels of zeros. No parameters.
    (N, in_channels, H, W) -> (N, out_channels, ceil(H/stride), ceil(W/stride))."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(f"option A pads channels: out_channels ({out_channels}) must be "
                             f">= in_channels ({in_channels})")
        self.extra, self.stride = out_channels - in_channels, stride

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        return nn.functional.pad(x, (0, 0, 0, 0, 0, self.extra))


def shortcut(in_channels: int, out_channels: int, stride: int, kind: str) -> nn.Module | None:
    """None where the block's input and output shapes agree (the identity); otherwise
    ``kind`` "projection" (option B) or "zeros" (option A)."""
    if stride == 1 and in_channels == out_channels:
        return None
    if kind == "projection":
        return projection(in_channels, out_channels, stride)
    if kind == "zeros":
        return ZeroPadShortcut(in_channels, out_channels, stride)
    raise ValueError(f"shortcut must be 'projection' or 'zeros', got {kind!r}")


class _Residual(nn.Module):
    """y = relu(F(x) + shortcut(x)); with ``residual=False`` the "plain" y = relu(F(x)).
    Subclasses make their layers, then call ``_add_shortcut`` (torchvision's order)."""

    def __init__(self, residual: bool):
        super().__init__()
        self.residual = residual
        self.relu = nn.ReLU(inplace=True)

    def _add_shortcut(self, in_channels, out_channels, stride, kind):
        self.downsample = shortcut(in_channels, out_channels, stride, kind) \
            if self.residual else None

    def branch(self, x):
        raise NotImplementedError

    def forward(self, x):
        out = self.branch(x)
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class BasicBlock(_Residual):
    """Two 3x3 convolutions, each followed by BatchNorm, the first by ReLU, plus the shortcut;
    ReLU after the sum. (N, in_channels, H, W) -> (N, channels, H/stride, W/stride).
    ``shortcut`` "projection" or "zeros" is used only where the shape changes."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 shortcut: str = "projection", residual: bool = True):
        super().__init__(residual)
        self.conv1, self.bn1 = conv3x3(in_channels, channels, stride), nn.BatchNorm2d(channels)
        self.conv2, self.bn2 = conv3x3(channels, channels), nn.BatchNorm2d(channels)
        self._add_shortcut(in_channels, channels, stride, shortcut)

    def branch(self, x):
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))


class Bottleneck(_Residual):
    """1x1 (reduce to ``channels``) -> 3x3 (``stride``) -> 1x1 (expand to 4 * ``channels``),
    BatchNorm after each, ReLU after the first two and after the sum.
    (N, in_channels, H, W) -> (N, 4 * channels, H/stride, W/stride)."""

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 shortcut: str = "projection", residual: bool = True):
        out_channels = channels * self.expansion
        super().__init__(residual)
        self.conv1 = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2, self.bn2 = conv3x3(channels, channels, stride), nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self._add_shortcut(in_channels, out_channels, stride, shortcut)

    def branch(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        return self.bn3(self.conv3(x))


class PreActBlock(nn.Module):
    """The pre-activation basic block (He et al. 2016b): BN -> ReLU -> 3x3 -> BN -> ReLU -> 3x3,
    plus the shortcut, and nothing after the sum: the identity path is a pure identity from
    block to block. Where the shape changes, the projection reads the activated input."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(in_channels), conv3x3(in_channels, channels, stride)
        self.bn2, self.conv2 = nn.BatchNorm2d(channels), conv3x3(channels, channels)
        self.downsample = None if stride == 1 and in_channels == channels else \
            nn.Conv2d(in_channels, channels, 1, stride, bias=False)
        self.relu = nn.ReLU()

    def forward(self, x):
        activated = self.relu(self.bn1(x))
        out = self.conv2(self.relu(self.bn2(self.conv1(activated))))
        return out + (x if self.downsample is None else self.downsample(activated))


def _he_init(model: nn.Module) -> None:
    """He-normal convolutions (fan out, as torchvision), BatchNorm scale 1 and shift 0."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def _stage(block, in_channels, channels, blocks, stride, **block_kwargs) -> nn.Sequential:
    layers = [block(in_channels, channels, stride, **block_kwargs)]
    layers += [block(channels * block.expansion, channels, **block_kwargs)
               for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


class _Staged(nn.Module):
    """A stem, stages ``layer1`` ... ``layerK``, global average pooling and ``fc``."""

    def stem(self, x):
        raise NotImplementedError

    def stages(self, x):
        """(name, output) after the stem and after each stage, for the shape table."""
        x = self.stem(x)
        yield "stem", x
        for i in range(1, self.num_stages + 1):
            x = getattr(self, f"layer{i}")(x)
            yield f"layer{i}", x

    def forward(self, x):
        for _, x in self.stages(x):
            pass
        return self.fc(self.avgpool(x).flatten(1))


class ResNet(_Staged):
    """The ImageNet ResNet: 7x7/2 stem, 3x3/2 max pooling, four stages of ``layers[i]`` blocks
    (64, 128, 256, 512 channels before expansion; stride 2 from the second stage), global
    average pooling, one linear layer. (N, in_channels, 224, 224) -> (N, num_classes) logits."""

    def __init__(self, block, layers, num_classes: int = 1000, in_channels: int = 3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, padding=3, bias=False)
        self.bn1, self.relu = nn.BatchNorm2d(64), nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, padding=1)
        width = 64
        for i, (channels, blocks) in enumerate(zip((64, 128, 256, 512), layers), 1):
            self.add_module(f"layer{i}", _stage(block, width, channels, blocks, 1 if i == 1 else 2))
            width = channels * block.expansion
        self.avgpool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(width, num_classes)
        _he_init(self)

    num_stages = 4

    def stem(self, x):
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))


def _resnet(name, num_classes, in_channels):
    block, layers = RESNET_STAGES[name]
    return ResNet({"basic": BasicBlock, "bottleneck": Bottleneck}[block], layers, num_classes,
                  in_channels)


def resnet18(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-18 as torchvision builds it: 11,689,512 parameters for 1000 classes."""
    return _resnet("resnet18", num_classes, in_channels)


def resnet34(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-34 as torchvision builds it: 21,797,672 parameters for 1000 classes."""
    return _resnet("resnet34", num_classes, in_channels)


def resnet50(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-50 as torchvision builds it: 25,557,032 parameters for 1000 classes."""
    return _resnet("resnet50", num_classes, in_channels)


class CifarResNet(_Staged):
    """He et al.'s CIFAR network of ``depth`` = 6n + 2 layers: 3x3 conv (``width`` channels),
    three stages of n basic blocks with ``width``, 2 ``width`` and 4 ``width`` channels (stride 2
    at the start of the second and third), global average pooling, linear.
    (N, in_channels, H, W) -> (N, num_classes) logits, for any H, W.

    ``residual=False`` gives the paper's "plain" network: the same layers without shortcuts.
    ``shortcut`` "zeros" is the paper's option A (no parameters), "projection" option B."""

    def __init__(self, depth: int, num_classes: int = 10, in_channels: int = 3,
                 width: int = CIFAR_RESNET_WIDTHS[0], residual: bool = True,
                 shortcut: str = "zeros"):
        super().__init__()
        n = blocks_per_stage(depth)
        self.depth, self.residual = depth, residual
        self.conv1, self.bn1 = conv3x3(in_channels, width), nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        widths = [width * w // CIFAR_RESNET_WIDTHS[0] for w in CIFAR_RESNET_WIDTHS]
        previous = width
        for i, channels in enumerate(widths, 1):
            self.add_module(f"layer{i}", _stage(BasicBlock, previous, channels, n,
                                                1 if i == 1 else 2, shortcut=shortcut,
                                                residual=residual))
            previous = channels
        self.avgpool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(previous, num_classes)
        _he_init(self)

    num_stages = 3

    def stem(self, x):
        return self.relu(self.bn1(self.conv1(x)))


def cifar_resnet(depth: int, num_classes: int = 10, in_channels: int = 3, width: int = 16,
                 residual: bool = True, shortcut: str = "zeros") -> CifarResNet:
    """ResNet-``depth`` for CIFAR (depth = 6n + 2): ResNet-20 has 269,722 parameters and
    ResNet-56 853,018 (the paper's 0.27M and 0.85M). ``residual=False``: plain-``depth``."""
    return CifarResNet(depth, num_classes, in_channels, width, residual, shortcut)
