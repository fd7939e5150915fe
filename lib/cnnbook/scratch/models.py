"""Chapter 4's NumPy CNN and the recipe that trains it, shared by the notebook and the bench.

``two_conv_net`` takes the layer namespace as an argument: ``cnnbook.scratch.nn`` and
``torch.nn`` spell the layers alike, so one function builds the NumPy network and its PyTorch
twin, layer for layer, with the same parameter keys.
"""

from __future__ import annotations

from cnnbook.scratch import nn as scratch_nn
from cnnbook.scratch.training import Batches, random_shift

# Chosen on the validation digits in chapter 4, section 8: BatchNorm after each convolution,
# Adam whose rate decays linearly to zero, small batches, random shifts of up to 2 pixels.
RECIPE = dict(epochs=10, batch_size=32, lr=3e-3, max_shift=2)


def two_conv_net(nn=scratch_nn, width: int = 16, classes: int = 10, batch_norm: bool = True):
    """Two blocks of conv 3x3 - BatchNorm - ReLU - max pool 2 (1 -> width -> 2 width
    channels), then flatten and one linear layer (2 width * 7 * 7 -> classes), for
    (N, 1, 28, 28) digits. ``batch_norm=False`` leaves the BatchNorm layers out and gives
    the convolutions biases (before BatchNorm a bias is useless: the normalisation subtracts
    it again, and BatchNorm's own shift takes its place)."""
    def block(c_in, c_out):
        norm = [nn.BatchNorm2d(c_out)] if batch_norm else []
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=not batch_norm), *norm, nn.ReLU(),
                nn.MaxPool2d(2)]

    return nn.Sequential(*block(1, width), *block(width, 2 * width), nn.Flatten(),
                         nn.Linear(2 * width * 7 * 7, classes))


def training_batches(images, labels, batch_size=RECIPE["batch_size"],
                     max_shift=RECIPE["max_shift"], rng=None) -> Batches:
    """Shuffled batches, each image moved by up to ``max_shift`` pixels (0: not moved)."""
    return Batches(images, labels, batch_size, shuffle=True, rng=rng,
                   transform=(lambda x, r: random_shift(x, max_shift, r)) if max_shift else None)
