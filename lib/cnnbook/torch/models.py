"""The chapter 3 networks in PyTorch. Each returns logits (no softmax inside)."""

from __future__ import annotations

from torch import nn


class MnistCNN(nn.Sequential):
    """Seed 001's MNIST network, exactly: 55,338 parameters.

    (N, 1, 28, 28) -> conv 3x3 (16) -> ReLU -> max pool 2 (padding 1) -> conv 3x3 (32)
    -> ReLU -> max pool 2 (padding 1) -> flatten (32*7*7 = 1568) -> linear 32 -> ReLU
    -> dropout 0.3 -> linear 10 -> (N, 10) logits.
    """

    def __init__(self, num_classes: int = 10, dropout: float = 0.3):
        super().__init__(
            nn.Conv2d(1, 16, kernel_size=3), nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2, padding=1),
            nn.Conv2d(16, 32, kernel_size=3), nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2, padding=1),
            nn.Flatten(),
            nn.Linear(7 * 7 * 32, 32), nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(32, num_classes),
        )


class LeNet5(nn.Sequential):
    """LeNet-5 as seed 004 trains it: tanh, optional BatchNorm between each conv and its
    activation, Dropout before the last tanh, Xavier-uniform initialisation.

    (N, 1, 28, 28) -> conv 5x5 pad 2 (6) -> [BN] -> tanh -> max pool 2 -> conv 5x5 (16)
    -> [BN] -> tanh -> max pool 2 -> conv 5x5 (120) -> [BN] -> tanh -> flatten (120)
    -> linear 84 -> [dropout] -> tanh -> linear 10 -> (N, 10) logits.
    The 1998 LeNet-5 subsampled with a trainable average; max pooling is the modern choice
    and trains markedly better on the course's 4,000 digits.
    """

    def __init__(self, num_classes: int = 10, batch_norm: bool = True, dropout: float = 0.3):
        def norm(channels):
            return [nn.BatchNorm2d(channels)] if batch_norm else []

        super().__init__(
            nn.Conv2d(1, 6, 5, padding=2), *norm(6), nn.Tanh(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), *norm(16), nn.Tanh(), nn.MaxPool2d(2),
            nn.Conv2d(16, 120, 5), *norm(120), nn.Tanh(),
            nn.Flatten(),
            nn.Linear(120, 84), *([nn.Dropout(dropout)] if dropout else []), nn.Tanh(),
            nn.Linear(84, num_classes),
        )
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)


class AlexNet(nn.Sequential):
    """The original AlexNet (Krizhevsky et al. 2012) for (N, 3, 224, 224) images.

    Five convolutions (96, 256, 384, 384, 256 filters), three max pools, three dense
    layers (4096, 4096, classes). ``grouped=True`` splits conv 2, 4 and 5 into two groups,
    as the paper did to fit two GPUs (the source of its "60 million parameters");
    ``grouped=False`` is the one-tower version. No local response normalisation.
    """

    def __init__(self, num_classes: int = 1000, grouped: bool = False, dropout: float = 0.5):
        g = 2 if grouped else 1
        super().__init__(
            nn.Conv2d(3, 96, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, padding=2, groups=g), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, 3, padding=1, groups=g), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1, groups=g), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Flatten(),
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes),
        )


class SmallAlexNet(nn.Sequential):
    """AlexNet's shape shrunk for 28x28 digits (seed 000 shrinks it too): the PyTorch twin
    of ``cnnbook.tf.SmallAlexNet``. BatchNorm stands in for local response normalisation.

    (N, 1, 28, 28) -> conv 3x3 (32) -> BN -> pool -> conv 3x3 (48) -> BN -> pool
    -> conv 3x3 (64) -> conv 3x3 (64) -> conv 3x3 (48) -> pool (3x3) -> flatten (432)
    -> dense 256 -> dropout -> dense 256 -> dropout -> dense 10.
    """

    def __init__(self, num_classes: int = 10, dropout: float = 0.5):
        def conv(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU()]

        super().__init__(
            *conv(1, 32), nn.BatchNorm2d(32), nn.MaxPool2d(2),
            *conv(32, 48), nn.BatchNorm2d(48), nn.MaxPool2d(2),
            *conv(48, 64), *conv(64, 64), *conv(64, 48), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(48 * 3 * 3, 256), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(256, 256), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(256, num_classes),
        )
