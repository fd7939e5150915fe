"""ResNets and DenseNets (cnnbook.torch, cnnbook.tf) against the papers' and torchvision's
parameter counts, keras.applications, and each other for copied weights."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnnbook.torch import cost
from cnnbook.torch.densenet import DenseBlock, densenet121, small_densenet
from cnnbook.torch.resnet import (BasicBlock, Bottleneck, PreActBlock, ZeroPadShortcut,
                                  cifar_resnet, resnet18, resnet34, resnet50)

count = cost.parameters


@pytest.mark.parametrize("build, expected", [
    (resnet18, 11_689_512), (resnet34, 21_797_672), (resnet50, 25_557_032),  # torchvision
    (densenet121, 7_978_856),                                                 # torchvision
    (lambda: cifar_resnet(20), 269_722), (lambda: cifar_resnet(56), 853_018),  # 0.27M, 0.85M
    (lambda: cifar_resnet(20, residual=False), 269_722),  # option A: shortcuts add nothing
])
def test_parameter_counts(build, expected):
    assert count(build()) == expected


def test_multiply_adds_per_image():
    assert cost.multiply_adds(resnet50(), (3, 224, 224)) == 4_089_184_256   # "3.8 x 10^9" FLOPs
    assert cost.multiply_adds(resnet18(), (3, 224, 224)) == 1_814_073_344   # "1.8 x 10^9"
    assert round(cost.multiply_adds(cifar_resnet(20), (3, 32, 32)) / 1e6) == 41  # section 4.2
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        cost.multiply_adds(resnet18(), (1, 3, 224, 224))


def test_stage_shapes():
    def shapes(model, size):
        with torch.no_grad():
            x = torch.zeros(1, 3, size, size)
            return {n: tuple(y.shape[1:]) for n, y in model.eval().stages(x)}

    resnet, cifar = shapes(resnet50(), 224), shapes(cifar_resnet(20), 32)
    dense = shapes(densenet121(), 224)
    assert resnet == {"stem": (64, 56, 56), "layer1": (256, 56, 56), "layer2": (512, 28, 28),
                      "layer3": (1024, 14, 14), "layer4": (2048, 7, 7)}
    assert cifar == {"stem": (16, 32, 32), "layer1": (16, 32, 32), "layer2": (32, 16, 16),
                     "layer3": (64, 8, 8)}
    assert dense["denseblock1"] == (64 + 6 * 32, 56, 56) and dense["transition1"] == (128, 28, 28)
    assert dense["denseblock4"] == (1024, 7, 7)


def test_torchvision_state_dict_names():
    keys = resnet18().state_dict().keys()
    assert {"conv1.weight", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var",
            "fc.bias"} <= set(keys)
    assert "layer1.0.downsample.0.weight" not in keys   # identity where shapes agree
    assert "features.denseblock3.denselayer24.conv2.weight" in densenet121().state_dict()


@given(n=st.integers(1, 3), c=st.integers(1, 6), extra=st.integers(0, 5), size=st.integers(1, 9),
       stride=st.sampled_from([1, 2]))
@settings(max_examples=30)
def test_option_a_keeps_every_strided_pixel_and_pads_zeros(n, c, extra, size, stride):
    x = torch.randn(n, c, size, size)
    y = ZeroPadShortcut(c, c + extra, stride)(x)
    out = -(-size // stride)
    assert y.shape == (n, c + extra, out, out)
    assert torch.equal(y[:, :c], x[:, :, ::stride, ::stride])
    assert not y[:, c:].any()


def test_plain_network_has_no_shortcut_and_residual_identity_passes_the_gradient():
    block = BasicBlock(4, 4).eval()
    plain = BasicBlock(4, 4, residual=False).eval()
    plain.load_state_dict(block.state_dict())
    for m in (block, plain):   # zero the branch: F(x) = 0
        torch.nn.init.zeros_(m.bn2.weight)
    x = torch.rand(2, 4, 5, 5, requires_grad=True)  # >= 0: relu(x) = x
    assert torch.equal(block(x), x) and not plain(x).any()
    block(x).sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))   # the identity path's gradient is 1


def test_blocks_shapes_and_errors():
    x = torch.zeros(2, 8, 9, 9)
    assert BasicBlock(8, 16, 2)(x).shape == (2, 16, 5, 5)
    assert Bottleneck(8, 4, 2)(x).shape == (2, 16, 5, 5)
    assert Bottleneck(8, 4, 2, shortcut="zeros")(x).shape == (2, 16, 5, 5)
    assert PreActBlock(8, 16, 2)(x).shape == (2, 16, 5, 5)
    assert PreActBlock(8, 8).downsample is None
    with pytest.raises(ValueError, match="shortcut must be"):
        BasicBlock(8, 16, 2, shortcut="identity")
    with pytest.raises(ValueError, match="out_channels"):
        ZeroPadShortcut(16, 8, 2)
    with pytest.raises(ValueError, match="6n \\+ 2"):
        cifar_resnet(21)


def test_dense_block_concatenates_its_input_unchanged():
    block = DenseBlock(3, 5, growth_rate=4, bn_size=2).eval()
    x = torch.randn(2, 5, 6, 6)
    with torch.no_grad():
        y = block(x)
    assert y.shape == (2, 5 + 3 * 4, 6, 6) and torch.equal(y[:, :5], x)
    assert small_densenet()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


# ---- Keras --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ctf():
    from cnnbook import tf as ctf

    return ctf


def randomise_batch_norm(model):
    """Statistics and affine parameters away from 0 and 1, so that a mix-up would show."""
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            for t, (lo, hi) in [(m.running_mean, (-1, 1)), (m.running_var, (0.5, 2)),
                                (m.weight.data, (0.5, 1.5)), (m.bias.data, (-1, 1))]:
                t.copy_(torch.rand(t.shape, generator=g) * (hi - lo) + lo)
    return model.eval()


def assert_twins(ctf, reference, model, x):
    ctf.load_torch_state(model, randomise_batch_norm(reference).state_dict())
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    actual = np.asarray(model(x.transpose(0, 2, 3, 1), training=False))
    if actual.ndim == 4:
        actual = actual.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


@given(kind=st.sampled_from(["basic", "bottleneck"]), c=st.integers(1, 8),
       channels=st.integers(1, 8), stride=st.sampled_from([1, 2]), size=st.integers(2, 9),
       shortcut=st.sampled_from(["projection", "zeros"]), residual=st.booleans())
@settings(max_examples=25)
def test_keras_blocks_equal_pytorch_for_copied_weights(ctf, kind, c, channels, stride, size,
                                                       shortcut, residual):
    expansion = 4 if kind == "bottleneck" else 1
    assume(shortcut == "projection" or channels * expansion >= c)   # option A cannot shrink
    torch_block = {"basic": BasicBlock, "bottleneck": Bottleneck}[kind]
    keras_block = {"basic": ctf.BasicBlock, "bottleneck": ctf.Bottleneck}[kind]
    reference = torch_block(c, channels, stride, shortcut=shortcut, residual=residual)
    model = keras_block(c, channels, stride, shortcut=shortcut, residual=residual)
    x = np.random.default_rng(size).standard_normal((2, c, size, size)).astype(np.float32)
    model(x.transpose(0, 2, 3, 1))  # build
    assert_twins(ctf, reference, model, x)


@pytest.mark.parametrize("name", ["cifar_resnet", "small_densenet"])
def test_keras_small_models_equal_pytorch(ctf, name):
    from cnnbook import torch as ct

    torch.manual_seed(0)
    kwargs = dict(in_channels=1) if name == "small_densenet" else \
        dict(depth=20, in_channels=1, width=8)
    reference = getattr(ct, name)(**kwargs)
    model = getattr(ctf, name)(**kwargs, image_size=28)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == count(reference)
    x = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    assert_twins(ctf, reference, model, x)


def test_keras_resnet18_and_densenet121_equal_pytorch(ctf):
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    for reference, model in [(resnet18(), ctf.resnet18()), (densenet121(), ctf.densenet121())]:
        assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == count(reference)
        assert_twins(ctf, reference, model, x)


def test_seed_resnet50_equals_keras_applications(ctf):
    model = ctf.resnet50()
    reference = ctf.keras.applications.ResNet50(weights=None, classifier_activation=None)
    assert model.count_params() == reference.count_params() == 25_636_712
    statistics = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    biases = sum(int(layer.bias.shape[0]) for layer in model._flatten_layers()
                 if isinstance(layer, ctf.keras.layers.Conv2D))
    assert statistics == 53_120 and biases == 26_560
    assert model.count_params() - statistics - biases == count(resnet50())
    ctf.copy_from_keras_applications(model, reference)
    x = np.random.default_rng(0).standard_normal((2, 224, 224, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(reference(x)), rtol=1e-5,
                               atol=1e-6)
    shapes = [tuple(y.shape[1:]) for _, y in model.stages(x[:1])]
    assert shapes == [(56, 56, 64), (56, 56, 256), (28, 28, 512), (14, 14, 1024), (7, 7, 2048)]


def test_keras_densenet121_matches_keras_applications(ctf):
    reference = ctf.keras.applications.DenseNet121(weights=None)
    assert ctf.densenet121().count_params() == reference.count_params() == 8_062_504


def test_seed_activations_make_the_sum_grow(ctf):
    # Seed 000 activates both paths before the sum (He et al. 2016b's "ReLU before
    # addition"): each identity block adds a mostly non-negative branch to its input.
    block = ctf.IdentityBlock(4, seed_activations=True)
    x = np.random.default_rng(0).standard_normal((2, 8, 8, 16)).astype(np.float32)
    y = np.asarray(block(x))
    assert y.shape == x.shape
    assert (y - x).mean() > 0
    with pytest.raises(ValueError, match="built for 8 input channels"):
        ctf.BasicBlock(8, 8)(np.zeros((1, 4, 4, 3), np.float32))


def test_weighted_layers_count_convolutions_and_linear_layers():
    assert cost.weighted_layers(resnet18()) == 21        # 18 + 3 projection shortcuts
    assert cost.weighted_layers(resnet50()) == 54        # 50 + 4
    assert cost.weighted_layers(cifar_resnet(56)) == 56  # option A adds no layer
