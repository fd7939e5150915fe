"""The course's PyTorch code: ``from cnnbook import torch as ct``.

Imports PyTorch (and nothing of TensorFlow).
"""

import torch

from cnnbook import seeding
from cnnbook.torch.data import data_loaders
from cnnbook.torch.inception import (GoogLeNet, Inception, SeedInception, SeedInceptionNet,
                                     SmallGoogLeNet, googlenet)
from cnnbook.torch.layers import Conv2D
from cnnbook.torch.models import AlexNet, LeNet5, MnistCNN, SmallAlexNet
from cnnbook.torch.receptive import input_gradient_map, measured_receptive_field
from cnnbook.torch.training import evaluate, fit, predict

seeding.apply_to_framework("torch")  # seed_everything() may have run before this import

__all__ = ["AlexNet", "Conv2D", "GoogLeNet", "Inception", "LeNet5", "MnistCNN", "SeedInception",
           "SeedInceptionNet", "SmallAlexNet", "SmallGoogLeNet", "data_loaders", "evaluate", "fit",
           "googlenet", "input_gradient_map", "measured_receptive_field", "predict"]
