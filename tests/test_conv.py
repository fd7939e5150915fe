"""cnnbook.scratch convolutions against torch.nn.functional.conv2d and tf.nn.conv2d."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnbook.scratch import (col2im, conv2d, conv2d_backward, conv2d_im2col, conv2d_naive,
                             conv2d_nhwc, im2col)
from cnnbook.shapes import resolve_padding


def conv2d_nhwc_in_nchw(x, w, b=None, **kw):
    """conv2d_nhwc called through NCHW arrays, so that it meets the same references."""
    y = conv2d_nhwc(x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0), b, **kw)
    return y.transpose(0, 3, 1, 2)


CONVS = [conv2d, conv2d_im2col, conv2d_naive, conv2d_nhwc_in_nchw]
# Relative to the largest output magnitude: sums of products may be added in another order,
# and float16 keeps 11 significant bits (the loops round after every one of up to 48 adds).
TOLERANCE = {np.float16: 1e-2, np.float32: 1e-5, np.float64: 1e-10}
SIDE = st.integers(0, 3)


@st.composite
def conv_cases(draw):
    """A random, valid conv2d call: arrays plus keyword arguments.

    Draws every padding spelling (int, (h, w), 'valid', 'same' with any stride, explicit
    asymmetric ((top, bottom), (left, right))), groups, dilation, three float dtypes, and
    arrays that are not contiguous in memory.
    """
    groups = draw(st.integers(1, 3))
    c, k = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    r, s = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.one_of(st.integers(0, 2), st.tuples(SIDE, SIDE),
                             st.tuples(st.tuples(SIDE, SIDE), st.tuples(SIDE, SIDE)),
                             st.sampled_from(["valid", "same"])))
    if isinstance(padding, str):
        pad_h = pad_w = 0  # 'same' pads as much as the window needs; 'valid' nothing
    else:
        (top, bottom), (left, right) = resolve_padding(padding, 1, 1)
        pad_h, pad_w = top + bottom, left + right
    # Big enough that the dilated kernel fits in the padded input.
    h = max(1, dilation[0] * (r - 1) + 1 - pad_h) + draw(st.integers(0, 5))
    w = max(1, dilation[1] * (s - 1) + 1 - pad_w) + draw(st.integers(0, 5))
    n = draw(st.integers(1, 2))
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = rng.standard_normal((k, c // groups, r, s)).astype(dtype)
    bias = rng.standard_normal(k).astype(dtype) if draw(st.booleans()) else None
    if draw(st.booleans()):  # the same values seen through negative strides
        x = x[..., ::-1].copy()[..., ::-1]
        weight = weight[:, :, ::-1].copy()[:, :, ::-1]
    return x, weight, bias, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def assert_close(actual, expected, dtype):
    assert actual.dtype == dtype and actual.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=TOLERANCE[dtype] * scale)


def torch_conv(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    """F.conv2d in float64, any padding spelling: PyTorch refuses 'same' with strides and
    asymmetric padding, so the padding is resolved (TensorFlow's rule) and applied first."""
    (top, bottom), (left, right) = resolve_padding(padding, x.shape[2:], w.shape[2:], stride,
                                                   dilation)
    as64 = lambda a: None if a is None else torch.from_numpy(a.astype(np.float64))  # noqa: E731
    xt = F.pad(as64(x), (left, right, top, bottom))
    return F.conv2d(xt, as64(w), as64(b), stride, 0, dilation, groups).numpy()


@pytest.mark.parametrize("conv", CONVS, ids=lambda f: f.__name__)
@given(case=conv_cases())
def test_matches_torch(conv, case):
    x, w, b, kw = case
    assert_close(conv(x, w, b, **kw), torch_conv(x, w, b, **kw), x.dtype.type)


@pytest.fixture(scope="module")
def tf():
    from cnnbook.tf import tf

    return tf


@given(case=conv_cases(), tf_padding=st.sampled_from(["explicit", "VALID", "SAME"]))
def test_nhwc_matches_tensorflow(tf, case, tf_padding):
    x, w, b, kw = case
    stride, dilation, groups = kw["stride"], kw["dilation"], kw["groups"]
    if max(dilation) > 1:
        stride = (1, 1)  # TF's CPU kernels take dilation or stride, not both
    x_nhwc, w_hwio = x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0)
    # "explicit": ours gets the drawn spelling, TF the pixels it means.
    pad = kw["padding"] if tf_padding == "explicit" else tf_padding.lower()
    (top, bottom), (left, right) = resolve_padding(pad, x.shape[2:], w.shape[2:], stride,
                                                   dilation)
    tf_pad = ([[0, 0], [top, bottom], [left, right], [0, 0]] if tf_padding == "explicit"
              else tf_padding)
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, w.shape[2:])]
    if x.shape[2] + top + bottom < spans[0] or x.shape[3] + left + right < spans[1]:
        # No window fits ('VALID' on a small input). TF's dilated kernels do not refuse
        # consistently, so ours is checked on its own: it must refuse, naming the span.
        with pytest.raises(ValueError, match="spans"):
            conv2d_nhwc(x_nhwc, w_hwio, b, stride, pad, dilation, groups)
        return
    # TF computes in float32 for float16 inputs here; its grouped conv has no CPU kernel, so
    # it convolves group by group.
    ref_dtype = np.float32 if x.dtype == np.float16 else x.dtype
    c_g, k_g = x_nhwc.shape[3] // groups, w_hwio.shape[3] // groups
    expected = np.concatenate([tf.nn.conv2d(
        x_nhwc[..., g * c_g:(g + 1) * c_g].astype(ref_dtype),
        w_hwio[..., g * k_g:(g + 1) * k_g].astype(ref_dtype),
        strides=stride, padding=tf_pad, dilations=dilation).numpy() for g in range(groups)],
        axis=3)
    if b is not None:
        expected = expected + b.astype(ref_dtype)
    assert_close(conv2d_nhwc(x_nhwc, w_hwio, b, stride, pad, dilation, groups), expected,
                 x.dtype.type)


def test_tf_same_padding_with_stride_is_asymmetric(tf):
    """'same' with stride 2 on an even size pads 0 before and 1 after, as TF does."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 6, 6, 2)).astype(np.float32)
    w = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
    ours = conv2d_nhwc(x, w, stride=2, padding="same")
    expected = tf.nn.conv2d(x, w, strides=2, padding="SAME").numpy()
    assert_close(ours, expected, np.float32)
    explicit = conv2d_nhwc(x, w, stride=2, padding=((0, 1), (0, 1)))
    assert_close(explicit, expected, np.float32)


@given(case=conv_cases())
def test_col2im_is_the_adjoint_of_im2col(case):
    """<im2col(x), y> == <x, col2im(y)> for all x, y: what backprop relies on."""
    x, w, _, kw = case
    x = x.astype(np.float64)
    kernel, stride, dilation, padding = w.shape[2:], kw["stride"], kw["dilation"], kw["padding"]
    cols = im2col(x, kernel, stride, padding, dilation)
    y = np.random.default_rng(1).standard_normal(cols.shape)
    back = col2im(y, x.shape, kernel, stride, padding, dilation)
    assert back.shape == x.shape
    # The two sums add the same products in another order: bound by their total size.
    np.testing.assert_allclose(np.sum(cols * y), np.sum(x * back), rtol=1e-10,
                               atol=1e-12 * np.sum(np.abs(cols * y)))


def test_im2col_layout_is_documented():
    x = np.arange(2 * 1 * 3 * 3, dtype=np.float64).reshape(2, 1, 3, 3)
    cols = im2col(x, 2)
    assert cols.shape == (2 * 2 * 2, 1 * 2 * 2)  # (N*OH*OW, C*R*S)
    np.testing.assert_array_equal(cols[0], [0, 1, 3, 4])  # image 0, window at (0, 0)
    np.testing.assert_array_equal(cols[7], [13, 14, 16, 17])  # image 1, window at (1, 1)


def test_keeps_float_dtype():
    for dtype in (np.float16, np.float32, np.float64):
        x, w = np.ones((1, 2, 4, 4), dtype), np.ones((3, 2, 2, 2), dtype)
        assert all(conv(x, w).dtype == dtype for conv in CONVS)


def test_conv2d_and_its_backward_return_contiguous_nchw():
    x, w = np.ones((2, 3, 6, 6), np.float32), np.ones((4, 3, 3, 3), np.float32)
    y = conv2d(x, w, padding=1)
    dx, dw, _ = conv2d_backward(np.ones_like(y), x, w, padding=1)
    assert all(a.flags.c_contiguous for a in (y, dx, dw))


X = np.zeros((2, 3, 8, 8), np.float32)
W = np.zeros((4, 3, 3, 3), np.float32)


@pytest.mark.parametrize("conv", [conv2d, conv2d_im2col, conv2d_naive, conv2d_nhwc],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("args, kwargs, error, match", [
    ((X[0], W), {}, ValueError, r"x must be 4-D .* \(3, 8, 8\)"),
    ((X, W[0]), {}, ValueError, r"w must be 4-D .* \(3, 3, 3\)"),
    ((X, W[:, :2]), {}, ValueError, r"x has 3 channels .* \(4, 2, 3, 3\)"),
    ((X, W), {"groups": 2}, ValueError, r"groups=2 must divide the input channels \(3"),
    ((X, np.zeros((4, 3, 9, 9), np.float32)), {}, ValueError, r"spans 9 pixels, more than .* 8"),
    ((X, W), {"stride": 0}, ValueError, r"stride must be >= 1"),
    ((X, W), {"dilation": (1, 0)}, ValueError, r"dilation must be >= 1"),
    ((X, W, np.zeros(3, np.float32)), {}, ValueError, r"b must have shape \(4,\)"),
    ((X, W.astype(np.float64)), {}, TypeError, r"share one dtype"),
    ((X.astype(int), W), {}, TypeError, r"float array"),
    ((X.tolist(), W), {}, TypeError, r"NumPy array"),
])
def test_bad_input_names_the_shapes(conv, args, kwargs, error, match):
    if conv is conv2d_nhwc:  # the same mistakes, in TF's layouts
        x, w, *rest = args
        if isinstance(x, np.ndarray) and x.ndim == 4:
            x = x.transpose(0, 2, 3, 1)
        if isinstance(w, np.ndarray) and w.ndim == 4:
            w = w.transpose(2, 3, 1, 0)
        args = (x, w, *rest)
        match = match.replace(r"\(4, 2, 3, 3\)", r"\(3, 3, 2, 4\)")
    with pytest.raises(error, match=match):
        conv(*args, **kwargs)


def test_custom_layers_agree_with_numpy_and_each_other(tf):
    """The same weights in NumPy, cnnbook.torch.Conv2D and cnnbook.tf.Conv2D: the same output."""
    import cnnbook.tf as ctf
    import cnnbook.torch as ct

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 9)).astype(np.float32)
    torch_layer = ct.Conv2D(3, 4, 3, stride=2, padding=1)
    w, b = torch_layer.weight.detach().numpy(), torch_layer.bias.detach().numpy()
    with torch.no_grad():
        y_torch = torch_layer(torch.from_numpy(x)).numpy()
    assert_close(conv2d(x, w, b, stride=2, padding=1), y_torch, np.float32)
    ref = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1)
    ref.load_state_dict(torch_layer.state_dict())
    assert_close(ref(torch.from_numpy(x)).detach().numpy(), y_torch, np.float32)

    keras_layer = ctf.Conv2D(4, 3, strides=1, padding="same")
    keras_layer.build((None, 9, 9, 3))
    keras_layer.set_weights([w.transpose(2, 3, 1, 0), b])  # (K, C, R, S) -> (R, S, C, K)
    y_keras = keras_layer(x.transpose(0, 2, 3, 1)).numpy()
    assert_close(y_keras.transpose(0, 3, 1, 2), conv2d(x, w, b, padding="same"), np.float32)
    assert keras_layer.count_params() == sum(p.numel() for p in torch_layer.parameters()) == 112


@pytest.mark.parametrize("stride, padding, dilation, bias", [
    (1, 2, 1, True), (2, 1, 1, False), ((1, 2), "same", 1, True), (1, "same", 2, True),
    (3, 0, (2, 1), False),
])
def test_gemm_first_path_matches_torch(stride, padding, dilation, bias):
    """Few output channels, many input channels: conv2d multiplies first, then shifts."""
    if padding == "same" and stride != 1:
        stride = 1
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 24, 11, 10)).astype(np.float32)
    w = rng.standard_normal((3, 24, 3, 2)).astype(np.float32)  # K * stride^2 < C
    b = rng.standard_normal(3).astype(np.float32) if bias else None
    kw = dict(stride=stride, padding=padding, dilation=dilation)
    assert_close(conv2d(x, w, b, **kw), torch_conv(x, w, b, **kw), np.float32)


def test_groups_accepts_numpy_integers_like_the_shape_functions():
    """One validator for conv2d and cnnbook.shapes: np.int64(2) is a valid group count."""
    from cnnbook.shapes import conv_params

    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 4, 5, 5))
    w = rng.standard_normal((6, 2, 3, 3))
    for conv in CONVS:
        assert_close(conv(x, w, groups=np.int64(2)), torch_conv(x, w, None, groups=2), np.float64)
    assert conv_params(4, 6, 3, groups=np.int64(2)) == w.size + 6
    for bad in (True, 0, 2.0):
        with pytest.raises(ValueError, match="groups must be a positive int"):
            conv2d(x, w, groups=bad)


# --- the chapter's convolution diagrams draw what PyTorch computes ----------------------------

@pytest.fixture
def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    yield pyplot
    pyplot.close("all")


def test_channel_sum_shows_per_channel_maps_and_their_sum(plt):
    from cnnbook.viz import channel_sum

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 7, 6)), rng.standard_normal((3, 3, 2))
    fig = channel_sum(x, w, ["r", "g", "b"])
    *rows, total = fig.axes
    assert len(rows) == 3 * 3  # per channel: input, kernel, partial map
    xt, wt = torch.from_numpy(x)[None], torch.from_numpy(w)
    np.testing.assert_allclose(total.images[0].get_array(), F.conv2d(xt, wt[None])[0, 0],
                               atol=1e-12)
    partial = F.conv2d(xt, wt[:, None], groups=3)[0]  # channel c with kernel c only
    for c in range(3):
        np.testing.assert_allclose(rows[3 * c + 2].images[0].get_array(), partial[c], atol=1e-12)


def test_memory_order_matches_torch_strides():
    """Sorting (c, h, w) by PyTorch's storage offset gives the order memory_order states."""
    from cnnbook.viz import memory_order

    for c, h, w in [(3, 2, 3), (1, 4, 2), (5, 1, 1), (2, 3, 4)]:
        t = torch.zeros(1, c, h, w)
        for layout, fmt in (("NCHW", torch.contiguous_format), ("NHWC", torch.channels_last)):
            strides = t.contiguous(memory_format=fmt).stride()[1:]
            index = np.argwhere(np.ones((c, h, w)))  # every (c, h, w)
            offsets = index @ np.array(strides)
            np.testing.assert_array_equal(memory_order(c, h, w, layout),
                                          index[np.argsort(offsets)])


def test_im2col_diagram_shows_the_gemm_pytorch_computes(plt):
    from cnnbook.viz import im2col_diagram

    x = np.arange(20.0).reshape(4, 5)
    w = np.array([[[1, 0, 2], [0, -1, 0]], [[1, 1, 1], [1, 1, 1]], [[0, 3, 0], [0, 0, 1]]], float)
    fig = im2col_diagram(x, w)
    cols_ax, kernel_ax, product_ax = fig.axes[1:4]
    values = lambda ax, shape: np.array([float(t.get_text()) for t in ax.texts]).reshape(shape)  # noqa: E731
    y = F.conv2d(torch.from_numpy(x)[None, None], torch.from_numpy(w)[:, None])[0]  # (3, 3, 3)
    np.testing.assert_array_equal(values(product_ax, (9, 3)), y.reshape(3, -1).T.numpy())
    np.testing.assert_array_equal(values(cols_ax, (9, 6)), im2col(x[None, None], (2, 3)))
    np.testing.assert_array_equal(values(kernel_ax, (6, 3)), w.reshape(3, -1).T)


@pytest.mark.parametrize("c, k, groups", [(6, 6, 1), (6, 6, 2), (6, 6, 6), (4, 8, 2)])
def test_channel_connections_draw_one_line_per_dependency(plt, c, k, groups):
    from cnnbook.viz import channel_connections

    # Which input channels each output channel of PyTorch's grouped conv depends on.
    weight = torch.ones(k, c // groups, 1, 1)
    jac = torch.autograd.functional.jacobian(
        lambda x: F.conv2d(x, weight, groups=groups)[0, :, 0, 0], torch.ones(1, c, 1, 1))
    mask = jac.reshape(k, c).numpy() != 0
    expected = (np.arange(k)[:, None] // (k // groups)) == (np.arange(c)[None] // (c // groups))
    np.testing.assert_array_equal(mask, expected)
    fig = channel_connections([mask, np.ones((k, c), bool)], ["grouped", "full"])
    assert [len(ax.lines) for ax in fig.axes] == [k * c // groups, k * c]


@pytest.mark.parametrize("call, match", [
    (lambda v: v.channel_sum(np.zeros((3, 5, 5)), np.zeros((2, 3, 3))), r"same C.*\(2, 3, 3\)"),
    (lambda v: v.channel_sum(np.zeros((2, 5, 5)), np.zeros((2, 3, 3)), ["a"]), "1 channel names"),
    (lambda v: v.channel_connections([np.ones(3)]), r"\(K, C\) arrays.*\(3,\)"),
    (lambda v: v.memory_order(3, 0, 2), "height must be a positive int"),
    (lambda v: v.memory_order(3, 2, 2, "CHWN"), "'NCHW' or 'NHWC'"),
    (lambda v: v.im2col_diagram(np.zeros((1, 4, 4)), np.zeros((2, 2, 2))), r"\(H, W\)"),
])
def test_diagrams_refuse_bad_shapes(plt, call, match):
    import cnnbook.viz as viz

    with pytest.raises(ValueError, match=match):
        call(viz)
