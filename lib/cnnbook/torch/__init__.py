"""The course's PyTorch code: ``from cnnbook import torch as ct``.

Imports PyTorch (and nothing of TensorFlow).
"""

import torch

from cnnbook import seeding
from cnnbook.torch.data import data_loaders
from cnnbook.torch.layers import Conv2D
from cnnbook.torch.receptive import input_gradient_map, measured_receptive_field

seeding.apply_to_framework("torch")  # seed_everything() may have run before this import

__all__ = ["Conv2D", "data_loaders", "input_gradient_map", "measured_receptive_field"]
