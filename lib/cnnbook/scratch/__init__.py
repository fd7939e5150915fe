"""NumPy from scratch: the course's layers with nothing but arrays.

Every function states its shapes; every one is tested against PyTorch and
TensorFlow in ``tests/``.
"""

from cnnbook.scratch.conv import (
    col2im,
    conv2d,
    conv2d_im2col,
    conv2d_naive,
    conv2d_nhwc,
    conv_geometry,
    im2col,
)

__all__ = ["col2im", "conv2d", "conv2d_im2col", "conv2d_naive", "conv2d_nhwc",
           "conv_geometry", "im2col"]
