"""Published architectures as data, shared by the PyTorch and Keras builders (no framework)."""

# GoogLeNet, Table 1 of Szegedy et al. 2015: name, in_channels, #1x1, (#3x3 reduce, #3x3),
# (#5x5 reduce, #5x5), pool proj. A 3x3 max pooling with stride 2 follows 3b and 4e.
GOOGLENET_MODULES = [
    ("3a", 192, 64, (96, 128), (16, 32), 32),
    ("3b", 256, 128, (128, 192), (32, 96), 64),
    ("4a", 480, 192, (96, 208), (16, 48), 64),
    ("4b", 512, 160, (112, 224), (24, 64), 64),
    ("4c", 512, 128, (128, 256), (24, 64), 64),
    ("4d", 512, 112, (144, 288), (32, 64), 64),
    ("4e", 528, 256, (160, 320), (32, 128), 128),
    ("5a", 832, 256, (160, 320), (32, 128), 128),
    ("5b", 832, 384, (192, 384), (48, 128), 128),
]

# ResNets of He et al. 2016, Table 1: block type and blocks per stage (conv2_x ... conv5_x).
RESNET_STAGES = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
}

# The CIFAR ResNets of He et al. 2016, section 4.2: channels of the three stages.
CIFAR_RESNET_WIDTHS = (16, 32, 64)

# DenseNet-121 of Huang et al. 2017, Table 1 (DenseNet-BC): growth rate k, layers per dense
# block, channels of the stem, bottleneck width bn_size * k, compression in the transitions.
DENSENET121 = dict(growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64,
                   bn_size=4, compression=0.5)


def blocks_per_stage(depth: int) -> int:
    """n for a CIFAR ResNet of ``depth`` = 6n + 2 layers (3 stages of n two-layer blocks, the
    first convolution and the linear layer)."""
    if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, ...), "
                         f"got {depth!r}")
    return (depth - 2) // 6
