"""The roofline model of a machine, measured with NumPy: how fast can a layer possibly run?

A kernel that does F floating-point operations and must move B bytes between memory and the
processor takes at least max(F / peak, B / bandwidth) seconds (Williams, Waterman and
Patterson 2009). Its *arithmetic intensity* F / B (Williams et al.'s operational intensity,
per byte of memory traffic) decides which bound it meets: below
peak / bandwidth FLOP per byte it is memory-bound, above it compute-bound.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from cnnbook.seeding import default_threads
from cnnbook.shapes import conv_macs, conv_output_size, pair, resolve_padding
from cnnbook.timing import best_time


def gemm_gflops(size: int = 1536, dtype=np.float32, repeats: int = 5) -> float:
    """The peak NumPy reaches here: GFLOP/s of a (size x size) @ (size x size) product
    (2 size^3 FLOPs), best of ``repeats``, with NumPy's BLAS threads as they are set."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, size, size)).astype(dtype)
    out = np.empty_like(a)
    return 2 * size**3 / best_time(lambda: np.matmul(a, b, out=out), repeats) / 1e9


def copy_bandwidth(megabytes: int = 256, repeats: int = 5, threads: int | None = None) -> float:
    """Memory bandwidth NumPy reaches here, GB/s: one array of ``megabytes`` MiB, far larger
    than any cache, copied into another, counting the bytes read and the bytes written.

    A copy runs on one core; ``threads`` (default: the CPUs this process may use, as the GEMM
    peak uses them) copy one slice each, side by side."""
    threads = default_threads() if threads is None else threads
    src = np.ones(megabytes << 18, np.float32)  # megabytes * 2**20 bytes
    dst = np.empty_like(src)
    slices = [slice(i * len(src) // threads, (i + 1) * len(src) // threads)
              for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        def copy():  # NumPy releases the GIL while it copies
            list(pool.map(lambda part: np.copyto(dst[part], src[part]), slices))
        return 2 * src.nbytes / best_time(copy, repeats) / 1e9


def conv_cost(batch: int, in_channels: int, size, out_channels: int, kernel_size,
              stride=1, padding=0, itemsize: int = 4) -> tuple[int, int]:
    """(FLOPs, bytes) of one convolution: 2 per multiply-add, and the least traffic any
    implementation needs, reading the input and the weights once and writing the output once.

    ``size`` is H (or (H, W)) of the input; ``padding`` any spelling conv2d takes."""
    h, w = pair(size, "size")
    kernel, stride = pair(kernel_size, "kernel_size"), pair(stride, "stride")
    pads = resolve_padding(padding, (h, w), kernel, stride, (1, 1))
    oh, ow = conv_output_size((h, w), kernel, stride, pads, (1, 1))
    flops = 2 * conv_macs(in_channels, out_channels, kernel, (oh, ow), batch)
    values = (batch * in_channels * h * w + out_channels * in_channels * kernel[0] * kernel[1]
              + batch * out_channels * oh * ow)
    return flops, values * itemsize


def attainable_gflops(intensity, peak_gflops: float, bandwidth_gbs: float):
    """The roof: min(peak, intensity * bandwidth), for intensity in FLOP per byte."""
    return np.minimum(peak_gflops, np.asarray(intensity, dtype=float) * bandwidth_gbs)
