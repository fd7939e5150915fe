"""Winograd's minimal filtering F(2x2, 3x3): a 3x3 convolution with 2.25x fewer multiplies.

Lavin and Gray (2016). In 1-D, F(2, 3) computes two outputs of a 3-tap filter g from a tile
of four inputs d with four multiplies instead of six:

    y = A_T @ ((G @ g) * (B_T @ d))

G @ g is computed once per filter, and B_T and A_T hold only 0 and +-1, so transforming a
tile costs adds alone. Nesting it, Y = A_T [(G g G_T) * (B_T d B)] A, gives a 2x2 output tile
of a 3x3 filter from a 4x4 input tile with 16 multiplies instead of 36. Over C input and K
output channels the 16 products become 16 matrix multiplies, (K, C) @ (C, tiles): one
batched GEMM with 2.25x fewer multiply-adds than im2col's, between two cheap transforms.
"""

from __future__ import annotations

import numpy as np

from cnnbook.scratch._parallel import map_blocks
from cnnbook.scratch.geometry import check_arrays, conv_geometry

B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])

# Output tiles per block of whole images: a block's transformed tiles (16 * C * tiles values,
# 4 MB for 64 channels) should stay in the cache between their transform and their GEMM (for
# images larger than about 64x64 one image is already more than this).
TILES_PER_BLOCK = 1024


def f23(d, g):
    """Winograd F(2, 3) in 1-D: the 2 outputs of 3-tap filter g over 4 inputs d, 4 multiplies.

    Equal to ``[d[0:3] @ g, d[1:4] @ g]``, the correlation's 6 multiplies."""
    d, g = np.asarray(d), np.asarray(g)
    if d.shape != (4,) or g.shape != (3,):
        raise ValueError(f"F(2, 3) needs d of shape (4,) and g of shape (3,), got {d.shape} "
                         f"and {g.shape}")
    return A_T @ ((G @ g) * (B_T @ d))


def _combine(matrix, taps, out):
    """out[i] = sum_j matrix[i, j] * taps[j] for a matrix of 0 and +-1, with adds only.

    Every row of B_T and A_T has two or three terms, at least one of them +1."""
    for i, row in enumerate(matrix):
        plus = [t for c, t in zip(row, taps) if c == 1]
        minus = [t for c, t in zip(row, taps) if c == -1]
        first, second = plus[0], (plus[1:] + minus)[0]
        (np.add if len(plus) > 1 else np.subtract)(first, second, out=out[i])
        for t in plus[2:]:
            out[i] += t
        for t in minus[1 if len(plus) == 1 else 0:]:
            out[i] -= t
    return out


def filter_transform(w):
    """U = G g G_T for every 3x3 filter: w (K, C, 3, 3) -> (16, K, C), in w's dtype."""
    g = G.astype(w.dtype)
    u = g @ w @ g.T  # (K, C, 4, 4)
    return np.ascontiguousarray(u.transpose(2, 3, 0, 1)).reshape(16, *w.shape[:2])


# The tiles overlap: tile (ty, tx) reads padded rows 2 ty .. 2 ty + 3 and columns 2 tx .. 2 tx + 3.
# Split into its four phases (even or odd row, even or odd column), the padded input holds tap
# (i, j) of every tile at one offset, (i // 2) * (TW + 1) + j // 2, from the tile's own index
# ty * (TW + 1) + tx in phase (i % 2, j % 2). So every transform below is an add of two long,
# contiguous, shifted slices: NumPy's fastest loop. The price: the positions tx = TW and
# ty = TH hold junk tiles (and GEMM columns), (TH + 1)(TW + 1) computed for TH * TW real ones:
# 15% more work for a 28x28 output, 13% for 32x32.

def phases(xp):
    """Padded x (N, C, 2 TH + 2, 2 TW + 2) -> its four phases (2, 2, C, N, TH + 1, TW + 1):
    phases[p, q, c, n, r, s] = xp[n, c, 2 r + p, 2 s + q]. Channels first, so that each phase,
    flattened, is a (C, N * (TH + 1) * (TW + 1)) matrix for the GEMM."""
    n, c, hp, wp = xp.shape
    out = np.empty((2, 2, c, n, hp // 2, wp // 2), xp.dtype)
    for p in range(2):
        for q in range(2):
            out[p, q] = xp[:, :, p::2, q::2].transpose(1, 0, 2, 3)
    return out


def input_transform(ph):
    """V = B_T d B for every tile d: phases (2, 2, C, N, TH + 1, TW + 1) -> (16, C, L),
    L = N (TH + 1) (TW + 1), one column per tile (junk tiles included, zero at the end)."""
    c, row = ph.shape[2], ph.shape[5]  # row = TW + 1, the step from one tile row to the next
    flat = ph.reshape(2, 2, -1)
    size = flat.shape[2]
    # Rows first: sum_i B_T[a, i] d[i, :], for both column phases and every position.
    rows = np.empty((4, 2, size - row), ph.dtype)
    for q in range(2):
        _combine(B_T, [flat[i % 2, q, (i // 2) * row: (i // 2) * row + size - row]
                       for i in range(4)], rows[:, q])
    # Then columns: sum_j B_T[b, j] rows[a, j % 2] shifted by j // 2.
    v = np.empty((4, 4, size), ph.dtype)
    v[:, :, size - row - 1:] = 0  # past the last tile: never read into a real output
    for a in range(4):
        _combine(B_T, [rows[a, j % 2, j // 2: j // 2 + size - row - 1] for j in range(4)],
                 v[a, :, :size - row - 1])
    return v.reshape(16, c, -1)


def output_transform(m, ph_shape):
    """Y = A_T M A for every tile: m (16, K, L) -> (2, 2, K, N, TH + 1, TW + 1), where
    [i, j, k, n, ty, tx] is output pixel (2 ty + i, 2 tx + j) of channel k in image n."""
    k = m.shape[1]
    m = m.reshape(4, 4, -1)
    rows = _combine(A_T, list(m), np.empty((2, 4, m.shape[2]), m.dtype))
    y = np.empty((2, 2, m.shape[2]), m.dtype)
    for i in range(2):
        _combine(A_T, list(rows[i]), y[i])
    return y.reshape(2, 2, k, *ph_shape[3:])


def _block(x, u, y, start, step, top, left, tiles):
    """Winograd for images start .. start + step of x into y (N, K, 2 TH, 2 TW)."""
    block = x[start: start + step]
    n, c, h, w = block.shape
    th, tw = tiles
    xp = np.zeros((n, c, 2 * th + 2, 2 * tw + 2), x.dtype)
    xp[:, :, top: top + h, left: left + w] = block  # the padding stays zero
    ph = phases(xp)
    tiles_out = output_transform(np.matmul(u, input_transform(ph)), ph.shape)
    dst = y[start: start + n].reshape(n, -1, th, 2, tw, 2)  # pixel (2 ty + i, 2 tx + j)
    for i in range(2):
        for j in range(2):
            dst[:, :, :, i, :, j] = tiles_out[i, j, :, :, :th, :tw].transpose(1, 0, 2, 3)


def conv2d_winograd(x, w, b=None, padding=0):
    """3x3, stride-1 convolution by F(2x2, 3x3), with ``torch.nn.functional.conv2d``'s
    semantics: x (N, C, H, W), w (K, C, 3, 3), b (K,) or None -> (N, K, OH, OW).

    ``padding``: any spelling :func:`conv2d` takes. The batch is processed in blocks of about
    ``TILES_PER_BLOCK`` tiles, so that each block's transformed tiles stay in the cache, and
    the blocks are shared among threads (``map_blocks``).
    """
    check_arrays(x, w, b)
    g = conv_geometry(x.shape, w.shape, None if b is None else b.shape, 1, padding)
    if g.kernel != (3, 3):
        raise ValueError(f"conv2d_winograd computes 3x3 filters only, got w of shape {w.shape}")
    return winograd_conv(x, w, b, g)


def winograd_conv(x, w, b, g):
    """:func:`conv2d_winograd` for arrays and geometry ``g`` already checked (3x3, stride 1)."""
    (oh, ow), ((top, _), (left, _)) = g.out_size, g.padding
    tiles = th, tw = -(-oh // 2), -(-ow // 2)  # a last half tile reads zeros past the edge
    u = filter_transform(w)
    y = np.empty((g.batch, g.out_channels, 2 * th, 2 * tw), x.dtype)
    step = max(1, TILES_PER_BLOCK // (th * tw))
    map_blocks(lambda start: _block(x, u, y, start, step, top, left, tiles),
               range(0, g.batch, step))
    if b is not None:
        y += b[:, None, None]
    return y if (2 * th, 2 * tw) == (oh, ow) else np.ascontiguousarray(y[:, :, :oh, :ow])
