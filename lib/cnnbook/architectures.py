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
