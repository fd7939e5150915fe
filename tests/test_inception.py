"""Inception modules and GoogLeNet (cnnbook.torch) against the paper's Table 1, torchvision's
parameter counts and seed 002's numbers; the NumPy module against the PyTorch one."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnbook.scratch import seed_inception
from cnnbook.architectures import GOOGLENET_MODULES
from cnnbook.torch.inception import Inception, SeedInception, SeedInceptionNet, googlenet


def count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("torchvision_compatible, aux_logits, expected", [
    (True, False, 6_624_904),   # torchvision's googlenet(aux_logits=False)
    (True, True, 13_004_888),   # torchvision's googlenet(aux_logits=True)
    (False, False, 6_998_552),  # the paper's module: conv biases, a true 5x5, no BatchNorm
])
def test_googlenet_parameter_counts(torchvision_compatible, aux_logits, expected):
    assert count(googlenet(1000, torchvision_compatible, aux_logits)) == expected


def test_googlenet_stage_shapes_follow_table_1():
    model = googlenet().eval()
    with torch.no_grad():
        shapes = {name: tuple(y.shape[1:]) for name, y in model.stages(torch.zeros(1, 3, 224, 224))}
    assert shapes["stem"] == (192, 28, 28)
    sizes = {"3": 28, "4": 14, "5": 7}
    for name, _, ch1, ch3, ch5, proj in GOOGLENET_MODULES:
        assert shapes[name] == (ch1 + ch3[1] + ch5[1] + proj, sizes[name[0]], sizes[name[0]])
    assert shapes["3a"][0] == 256 and shapes["5b"][0] == 1024


def test_googlenet_returns_auxiliary_logits_in_training_only():
    model = googlenet(num_classes=7, aux_logits=True)
    x = torch.zeros(2, 3, 224, 224)
    outputs = model.train()(x)
    assert [tuple(o.shape) for o in outputs] == [(2, 7)] * 3
    with torch.no_grad():
        assert model.eval()(x).shape == (2, 7)


def test_torchvision_quirk_is_a_3x3_where_the_paper_has_5x5():
    paper = Inception(192, 64, (96, 128), (16, 32), 32)
    quirk = Inception(192, 64, (96, 128), (16, 32), 32, torchvision_compatible=True)
    assert paper.branch3[1][0].kernel_size == (5, 5) and quirk.branch3[1][0].kernel_size == (3, 3)
    assert paper.branch1[0].bias is not None and quirk.branch1[0].bias is None
    assert paper.out_channels == quirk.out_channels == 256


def test_seed_network_flattens_1408_values_and_its_module_88_channels():
    net = SeedInceptionNet()
    x = torch.zeros(3, 1, 28, 28)
    assert net(x).shape == (3, 10) and net.fc.in_features == 1408 == 88 * 4 * 4
    assert SeedInception(10)(torch.zeros(1, 10, 12, 12)).shape == (1, 88, 12, 12)


@given(n=st.integers(1, 3), c=st.integers(1, 6), size=st.integers(3, 9), seed=st.integers(0, 99))
@settings(max_examples=20)
def test_numpy_seed_inception_equals_pytorch(n, c, size, seed):
    torch.manual_seed(seed)
    module = SeedInception(c).double()
    params = {k: v.numpy() for k, v in module.state_dict().items()}
    x = np.random.default_rng(seed).standard_normal((n, c, size, size))
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(seed_inception(x, params), expected, rtol=1e-10, atol=1e-12)


def test_numpy_seed_inception_names_missing_weights():
    params = {k: v.numpy() for k, v in SeedInception(2).state_dict().items()}
    del params["branch3x3.2.bias"]
    with pytest.raises(ValueError, match=r"branch3x3\.2\.bias"):
        seed_inception(np.zeros((1, 2, 5, 5)), params)


@pytest.fixture(scope="module")
def ctf():
    from cnnbook import tf as ctf

    return ctf


def batch_norm_channels(model):
    return sum(m.num_features for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))


@pytest.mark.parametrize("torchvision_compatible", [False, True])
def test_keras_googlenet_equals_pytorch_for_copied_weights(ctf, torchvision_compatible):
    torch.manual_seed(0)
    reference = googlenet(torchvision_compatible=torchvision_compatible).eval()
    model = ctf.googlenet(torchvision_compatible=torchvision_compatible)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    # Keras also counts BatchNorm's moving mean and variance, which PyTorch keeps as buffers.
    assert trainable == count(reference)
    assert model.count_params() == count(reference) + 2 * batch_norm_channels(reference)
    ctf.load_torch_state(model, reference.state_dict())
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    actual = np.asarray(model(x.transpose(0, 2, 3, 1), training=False))
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())
    shapes = [tuple(y.shape[1:]) for _, y in model.stages(x.transpose(0, 2, 3, 1))]
    assert shapes[1] == (28, 28, 256) and shapes[-1] == (7, 7, 1024)


def test_keras_seed_network_equals_pytorch_and_checks_channels(ctf):
    torch.manual_seed(0)
    reference = SeedInceptionNet()
    model = ctf.SeedInceptionNet()
    model(np.zeros((1, 28, 28, 1), np.float32))
    assert model.count_params() == count(reference)
    ctf.load_torch_state(model, reference.state_dict())
    x = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(np.asarray(model(x.transpose(0, 2, 3, 1))), expected, rtol=1e-4,
                               atol=1e-5)
    with pytest.raises(ValueError, match="built for 10 input channels"):
        ctf.SeedInception(10)(np.zeros((1, 8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="PyTorch arrays for"):
        ctf.load_torch_state(model, {})


def test_keras_googlenet_auxiliary_heads(ctf):
    model = ctf.googlenet(num_classes=5, aux_logits=True)
    outputs = model(np.zeros((2, 224, 224, 3), np.float32), training=True)
    assert [tuple(o.shape) for o in outputs] == [(2, 5)] * 3
    reference = googlenet(num_classes=5, aux_logits=True)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == count(reference)


def test_small_googlenet_shapes_and_parameter_count():
    from cnnbook.torch.inception import SmallGoogLeNet

    model = SmallGoogLeNet().eval()
    x = torch.zeros(2, 1, 28, 28)
    with torch.no_grad():
        a = model.inception_a(model.stem(x))
        b = model.inception_b(model.pool(a))
        assert tuple(a.shape) == (2, 80, 14, 14) and tuple(b.shape) == (2, 128, 7, 7)
        assert tuple(model(x).shape) == (2, 10)
    # stem 3x3 conv + the two modules' convolutions (with biases) + the linear head
    modules = conv_count = 0
    for module, (c, c1, (r3, c3), (r5, c5), p) in [
            (model.inception_a, (32, 16, (16, 32), (8, 16), 16)),
            (model.inception_b, (80, 32, (32, 48), (8, 24), 24))]:
        conv_count = (c * c1 + c1) + (c * r3 + r3) + (r3 * c3 * 9 + c3) + (c * r5 + r5) \
            + (r5 * c5 * 25 + c5) + (c * p + p)
        assert count(module) == conv_count
        modules += conv_count
    assert count(model) == (9 * 32 + 32) + modules + (128 * 10 + 10) == 37_786
    # BatchNorm: the stem conv drops its 32 biases, 2 parameters per channel of stem and modules
    with_bn = SmallGoogLeNet(batch_norm=True)
    assert count(with_bn) == 37_786 - 32 + 2 * (32 + 80 + 128) == 38_234
    assert tuple(with_bn.eval()(x).shape) == (2, 10)
    with pytest.raises(ValueError, match="dropout"):
        SmallGoogLeNet(dropout=1.0)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        model(torch.zeros(2, 3, 28, 28))
