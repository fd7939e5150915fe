"""The course's PyTorch code: ``from cnnbook import torch as ct``.

Imports PyTorch (and nothing of TensorFlow).
"""

from cnnbook import seeding
from cnnbook.torch.accelerator import device, model_device
from cnnbook.torch.cost import multiply_adds, parameters, weighted_layers
from cnnbook.torch.data import data_loaders
from cnnbook.torch.distributed import train_data_parallel
from cnnbook.torch.densenet import (DenseBlock, DenseLayer, DenseNet, Transition, densenet121,
                                    small_densenet)
from cnnbook.torch.inception import (GoogLeNet, Inception, SeedInception, SeedInceptionNet,
                                     SmallGoogLeNet, googlenet)
from cnnbook.torch.layers import Conv2D
from cnnbook.torch.models import AlexNet, LeNet5, MnistCNN, SmallAlexNet
from cnnbook.torch.resnet import (BasicBlock, Bottleneck, CifarResNet, PreActBlock, ResNet,
                                  cifar_resnet, resnet18, resnet34, resnet50)
from cnnbook.torch.receptive import input_gradient_map, measured_receptive_field
from cnnbook.torch.training import evaluate, fit, predict

seeding.apply_to_framework("torch")  # seed_everything() may have run before this import

__all__ = ["AlexNet", "BasicBlock", "Bottleneck", "CifarResNet", "Conv2D", "DenseBlock",
           "DenseLayer", "DenseNet", "GoogLeNet", "Inception", "LeNet5", "MnistCNN", "PreActBlock",
           "ResNet", "SeedInception", "SeedInceptionNet", "SmallAlexNet", "SmallGoogLeNet",
           "Transition", "cifar_resnet", "data_loaders", "densenet121", "device", "evaluate", "fit",
           "googlenet", "input_gradient_map", "measured_receptive_field", "multiply_adds",
           "model_device", "parameters", "predict", "resnet18", "resnet34", "resnet50",
           "small_densenet", "train_data_parallel", "weighted_layers"]
