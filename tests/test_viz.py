"""The chapter 4 drawing helpers in cnnbook.viz: they show what the library computes."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F


@pytest.fixture
def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    yield pyplot
    pyplot.close("all")


def grid_values(ax):
    return [t.get_text() for t in ax.texts]


def test_value_grids_draws_every_value_and_fill(plt):
    from cnnbook.viz import value_grids

    a, b = np.arange(12.0).reshape(3, 4), np.array([[1.5, -2.0]])
    fig = value_grids([a, b], ["a", "b"], fills=[{(1, 2): "tab:red"}, None], between=["\u2192"])
    ax_a, ax_b = fig.axes
    assert grid_values(ax_a) == [f"{v:g}" for v in a.ravel()]
    assert grid_values(ax_b) == ["1.5", "-2"]
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    red = [p for p in ax_a.patches if p.get_facecolor()[:3] == pytest.approx((0.839, 0.153, 0.157), abs=1e-3)]
    assert len(red) == 1 and red[0].get_xy() == (2 - 0.5, 1 - 0.5)  # cell (1, 2)
    assert [t.get_text() for t in fig.texts] == ["\u2192"]
    # Equal cells: the panels' widths in inches are in the ratio of their column counts.
    fig.canvas.draw()
    widths = [ax.get_position().width * fig.get_figwidth() for ax in fig.axes]
    assert widths[0] / widths[1] == pytest.approx(4 / 2, rel=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    (dict(arrays=[np.zeros(3)]), r"2-D arrays.*\(3,\)"),
    (dict(arrays=[np.zeros((2, 2))], titles=["a", "b"]), "titles needs 1 entries"),
    (dict(arrays=[np.zeros((2, 2))] * 2, between=[]), "between needs 1 entries"),
])
def test_value_grids_refuses_bad_arguments(plt, kwargs, match):
    from cnnbook.viz import value_grids

    with pytest.raises(ValueError, match=match):
        value_grids(**kwargs)


@pytest.mark.parametrize("i, f, s, p, d", [(5, 3, 1, 0, 1), (7, 3, 2, 0, 1), (6, 2, 1, 1, 2),
                                           (8, 3, 3, 2, 1)])
def test_conv1d_graph_draws_the_edges_autograd_finds(plt, i, f, s, p, d):
    """One line per (output, tap), from the input that torch's Jacobian says it reads."""
    from cnnbook.viz import conv1d_graph

    fig = conv1d_graph(i, f, stride=s, padding=p, dilation=d)
    (ax,) = fig.axes
    jac = torch.autograd.functional.jacobian(
        lambda x: F.conv1d(x, torch.arange(1.0, f + 1).reshape(1, 1, f), stride=s, padding=p,
                           dilation=d)[0, 0], torch.zeros(1, 1, i))[:, 0, 0]   # (O, I)
    expected = {(int(o), int(k), int(jac[o, k]) - 1) for o, k in zip(*np.nonzero(jac.numpy()))}
    drawn = set()
    for line in ax.lines:
        (x_in, x_out), _ = line.get_data()
        tap = int(line.get_color()[1:])  # "C<j>"
        out = round((x_out - d * (f - 1) / 2) / s)
        drawn.add((out, int(x_in) - p, tap))
    assert len(ax.lines) == jac.shape[0] * f  # no line drawn twice; taps on padding included
    assert expected <= drawn and all(not 0 <= k < i for o, k, j in drawn - expected)
    assert sum(t.get_text() == "0" for t in ax.texts) == 2 * p  # the padding zeros


def test_conv1d_graph_refuses_bad_sizes(plt):
    from cnnbook.viz import conv1d_graph

    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        conv1d_graph(5, 3, stride=0)
    with pytest.raises(ValueError, match="spans 3 pixels"):
        conv1d_graph(2, 3)


def test_slide_animation_1d_computes_the_cross_correlation_torch_does(plt):
    from cnnbook.viz import _slide_outputs, slide_animation_1d

    rng = np.random.default_rng(0)
    signal, kernel = rng.standard_normal(6), rng.standard_normal(3)
    ref = F.conv1d(torch.from_numpy(signal)[None, None], torch.from_numpy(kernel)[None, None],
                   padding=2)[0, 0].numpy()
    np.testing.assert_allclose(_slide_outputs(np.pad(signal, 2), kernel), ref, atol=1e-12)
    html = slide_animation_1d(np.array([1.0, -2.0, 3.0]), np.array([-1.0, 2.0, 1.0]), padding=2,
                              names=("dy", "w flipped", "dx"), grey=[1])
    assert len(set(re.findall(r"frames\[(\d+)\]", html))) == 5   # one frame per output
    assert "<link" not in html                                    # no CDN stylesheet


@pytest.mark.parametrize("args, kwargs, match", [
    ((np.zeros((2, 2)), np.zeros(2)), {}, r"1-D, got shapes \(2, 2\) and \(2,\)"),
    ((np.zeros(2), np.zeros(3)), {}, "does not fit the padded signal of size 2"),
    ((np.zeros(4), np.zeros(3)), dict(padding=-1), "padding must be an int >= 0"),
    ((np.zeros(4), np.zeros(3)), dict(names=("a", "b")), "3 labels"),
])
def test_slide_animation_1d_refuses_bad_arguments(plt, args, kwargs, match):
    from cnnbook.viz import slide_animation_1d

    with pytest.raises(ValueError, match=match):
        slide_animation_1d(*args, **kwargs)
