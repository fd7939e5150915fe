"""NumPy from scratch: the course's layers with nothing but arrays.

Every function states its shapes; every one is tested against PyTorch and
TensorFlow in ``tests/``.
"""

from cnnbook.scratch import _malloc  # noqa: F401  (keeps large temporaries' pages mapped)
from cnnbook.scratch.conv import (
    col2im,
    conv2d,
    conv2d_backward,
    conv2d_im2col,
    conv2d_naive,
    conv2d_nhwc,
    conv2d_path,
    conv_geometry,
    im2col,
)
from cnnbook.scratch.layers import (
    cross_entropy,
    cross_entropy_backward,
    dropout,
    flatten,
    leaky_relu,
    leaky_relu_grad,
    linear,
    linear_backward,
    log_softmax,
    nll_loss,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    tanh,
    tanh_grad,
)
from cnnbook.scratch.pool import (
    avg_pool2d,
    avg_pool2d_backward,
    avg_pool2d_naive,
    global_avg_pool2d,
    global_max_pool2d,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_naive,
)
from cnnbook.scratch.gradcheck import gradcheck, numerical_gradient, rel_error
from cnnbook.scratch.inception import seed_inception
from cnnbook.scratch.norm import batch_norm2d, batch_norm2d_backward

__all__ = ["avg_pool2d", "avg_pool2d_backward", "avg_pool2d_naive", "batch_norm2d",
           "batch_norm2d_backward", "col2im", "conv2d",
           "conv2d_backward", "conv2d_im2col", "conv2d_naive", "conv2d_nhwc", "conv2d_path",
           "conv_geometry",
           "cross_entropy", "cross_entropy_backward", "dropout", "flatten", "global_avg_pool2d",
           "global_max_pool2d", "gradcheck", "im2col", "leaky_relu", "leaky_relu_grad", "linear",
           "linear_backward", "log_softmax", "max_pool2d", "max_pool2d_backward",
           "max_pool2d_naive", "nll_loss", "numerical_gradient", "rel_error", "relu", "relu_grad",
           "seed_inception", "sigmoid", "sigmoid_grad", "softmax", "tanh", "tanh_grad"]
