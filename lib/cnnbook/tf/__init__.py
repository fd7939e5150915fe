"""The course's TensorFlow/Keras code: ``from cnnbook import tf as ctf``.

Imports TensorFlow (and nothing of PyTorch), with its C++ start-up log
silenced first. ``ctf.tf`` and ``ctf.keras`` are the modules themselves.
"""

import os

from cnnbook.tf._quiet import start_up_notices_held_back

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # must precede the first TF import

with start_up_notices_held_back():
    import tensorflow as tf
    import keras

from cnnbook import seeding  # noqa: E402
from cnnbook.tf.data import data_loaders  # noqa: E402
from cnnbook.tf.densenet import (  # noqa: E402
    DenseBlock,
    DenseLayer,
    DenseNet,
    densenet121,
    small_densenet,
    transition,
)
from cnnbook.tf.inception import (  # noqa: E402
    GoogLeNet,
    Inception,
    SeedInception,
    SeedInceptionNet,
    googlenet,
    load_torch_state,
)
from cnnbook.tf.layers import Conv2D  # noqa: E402
from cnnbook.tf.models import (  # noqa: E402
    AlexNet,
    LeNet5,
    MnistCNN,
    SmallAlexNet,
    mnist_cnn_functional,
    mnist_cnn_sequential,
)
from cnnbook.tf.resnet import (  # noqa: E402
    BasicBlock,
    Bottleneck,
    CifarResNet,
    ConvBlock,
    IdentityBlock,
    ResNet,
    ResNet50,
    cifar_resnet,
    copy_from_keras_applications,
    resnet18,
    resnet34,
    resnet50,
)
from cnnbook.tf.training import compile_for_logits, evaluate, fit  # noqa: E402

seeding.apply_to_framework("tensorflow")  # seed_everything() may have run before this import

__all__ = ["AlexNet", "BasicBlock", "Bottleneck", "CifarResNet", "Conv2D", "ConvBlock",
           "DenseBlock", "DenseLayer", "DenseNet", "GoogLeNet", "IdentityBlock", "Inception",
           "LeNet5", "MnistCNN", "ResNet", "ResNet50", "SeedInception", "SeedInceptionNet",
           "SmallAlexNet", "cifar_resnet", "compile_for_logits", "copy_from_keras_applications",
           "data_loaders", "densenet121", "evaluate", "fit", "googlenet", "keras",
           "load_torch_state", "mnist_cnn_functional", "mnist_cnn_sequential", "resnet18",
           "resnet34", "resnet50", "small_densenet", "tf", "transition"]
