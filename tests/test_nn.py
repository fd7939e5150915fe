"""cnnbook.scratch.nn, optim, training and autograd against torch.nn, torch.optim and autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnbook
from cnnbook.scratch import autograd as ag
from cnnbook.scratch import cross_entropy, cross_entropy_backward, max_pool2d_backward, nn, optim
from cnnbook.data import Mnist, load_mnist
from cnnbook.scratch.models import two_conv_net
from cnnbook.scratch.training import Batches, evaluate, fit, random_shift
from cnnbook.torch.benchmarks import conv_backward_speed_table, conv_speed_table, numpy_cnn_race


def small_cnn(scratch=True, dropout=0.0, batch_norm=False):
    """One architecture in both libraries, built from the same names."""
    lib = nn if scratch else torch.nn
    layers = [lib.Conv2d(1, 4, 3, padding=1)]
    layers += [lib.BatchNorm2d(4)] if batch_norm else []
    layers += [lib.ReLU(), lib.MaxPool2d(2), lib.Conv2d(4, 6, 3, stride=2, padding=1), lib.Tanh(),
               lib.AvgPool2d(2, padding=1, count_include_pad=False), lib.Flatten(),
               lib.Dropout(dropout), lib.Linear(6 * 2 * 2, 3), lib.Sigmoid(), lib.Linear(3, 5)]
    return lib.Sequential(*layers)


def twins(dtype=np.float64, **kwargs):
    """A torch model and a scratch model holding the same weights, in dtype."""
    torch.manual_seed(0)
    reference = small_cnn(scratch=False, **kwargs).to(getattr(torch, np.dtype(dtype).name))
    model = small_cnn(**kwargs).astype(dtype)
    model.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return reference, model


@given(n=st.integers(2, 5), seed=st.integers(0, 2**16), batch_norm=st.booleans())
@settings(max_examples=20)
def test_sequential_forward_and_backward_match_torch(n, seed, batch_norm):
    reference, model = twins(batch_norm=batch_norm)
    rng = np.random.default_rng(seed)
    x, labels = rng.standard_normal((n, 1, 8, 8)), rng.integers(0, 5, n)
    tx = torch.from_numpy(x).requires_grad_()
    loss = F.cross_entropy(reference(tx), torch.from_numpy(labels))
    loss.backward()
    logits = model(x)
    dx = model.backward(cross_entropy_backward(logits, labels))
    assert abs(cross_entropy(logits, labels) - loss.item()) < 1e-12
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (key, p), (tkey, tp) in zip(model.named_parameters(), reference.named_parameters()):
        assert key == tkey
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-9, atol=1e-12)
    if batch_norm:  # the running statistics moved the same way
        np.testing.assert_allclose(model[1].running_var, reference[1].running_var.numpy())


def test_float32_first_step_matches_torch_and_keys_are_torchs():
    reference, model = twins(np.float32)
    assert list(model.state_dict()) == list(reference.state_dict())
    x = np.random.default_rng(1).random((16, 1, 8, 8), dtype=np.float32)
    labels = np.arange(16) % 5
    F.cross_entropy(reference(torch.from_numpy(x)), torch.from_numpy(labels)).backward()
    model.backward(cross_entropy_backward(model(x), labels))
    for p, tp in zip(model.parameters(), reference.parameters()):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_parameters_start_as_torchs_do():
    cnnbook.seed_everything(0)
    conv, linear = nn.Conv2d(8, 16, 3), nn.Linear(200, 10)
    for p, fan_in in ((conv.weight, 72), (conv.bias, 72), (linear.weight, 200)):
        bound = 1 / np.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) and PyTorch's bias rule
        assert p.data.dtype == np.float32 and np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.9 * bound  # uniform over the whole interval


def test_dropout_masks_the_gradient_and_is_identity_in_eval():
    cnnbook.seed_everything(0)
    layer = nn.Dropout(0.5)
    x = np.ones((1000,), dtype=np.float32)
    y = layer(x)
    assert set(np.unique(y)) == {0.0, 2.0} and 400 < (y == 0).sum() < 600
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), y)
    np.testing.assert_array_equal(layer.eval()(x), x)
    with pytest.raises(ValueError, match="p must be"):
        nn.Dropout(1.0)


def test_batchnorm_eval_uses_running_statistics_and_refuses_eval_backward():
    reference, model = twins(batch_norm=True)
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 8))
    for _ in range(3):  # move the running statistics
        model(x), reference(torch.from_numpy(x))
    model.eval(), reference.eval()
    np.testing.assert_allclose(model(x), reference(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    with pytest.raises(RuntimeError, match="training mode"):
        model[1].backward(np.ones((4, 4, 8, 8)))


def test_bad_use_gets_clear_errors():
    model = small_cnn()
    with pytest.raises(RuntimeError, match="before forward"):
        model.backward(np.ones((2, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="missing"):
        model.load_state_dict({})
    state = model.state_dict()
    state["0.weight"] = np.zeros((4, 1, 5, 5))
    with pytest.raises(ValueError, match=r"0\.weight: expected shape \(4, 1, 3, 3\)"):
        model.load_state_dict(state)
    with pytest.raises(TypeError, match="not a scratch Module"):
        nn.Sequential(torch.nn.ReLU())
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    model(np.zeros((2, 1, 8, 8), dtype=np.float32))
    with pytest.raises(ValueError, match=r"dy has shape \(2, 4\), but linear produces \(2, 5\)"):
        model.backward(np.ones((2, 4), dtype=np.float32))


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=1e-2)),
    ("Adam", dict(lr=1e-2)), ("Adam", dict(lr=3e-3, betas=(0.8, 0.99), weight_decay=1e-2))])
def test_optimisers_follow_torch_optim(name, kwargs):
    reference, model = twins()
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(reference.parameters(), **kwargs)
    sched = optim.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=4)
    tsched = torch.optim.lr_scheduler.LinearLR(topt, start_factor=1.0, end_factor=0.1,
                                               total_iters=4)
    rng = np.random.default_rng(0)
    for _ in range(6):
        x, labels = rng.standard_normal((4, 1, 8, 8)), rng.integers(0, 5, 4)
        opt.zero_grad(), topt.zero_grad()
        model.backward(cross_entropy_backward(model(x), labels))
        F.cross_entropy(reference(torch.from_numpy(x)), torch.from_numpy(labels)).backward()
        opt.step(), topt.step(), sched.step(), tsched.step()
        assert opt.lr == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)
    for p, tp in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_optimiser_arguments_are_checked():
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="lr must be positive"):
        optim.Adam(small_cnn().parameters(), lr=0)
    with pytest.raises(ValueError, match="start_factor"):
        optim.LinearLR(optim.SGD(small_cnn().parameters(), lr=0.1), start_factor=0)


def test_random_shift_moves_each_image_by_at_most_max_shift():
    images = np.zeros((50, 1, 10, 10), dtype=np.float32)
    images[:, 0, 4:6, 4:6] = np.arange(1, 51, dtype=np.float32)[:, None, None]  # a 2x2 blob
    shifted = random_shift(images, 2, np.random.default_rng(0))
    assert shifted.shape == images.shape and shifted.dtype == images.dtype
    offsets = set()
    for before, after in zip(images[:, 0], shifted[:, 0]):
        rows, cols = np.nonzero(after)
        assert after.sum() == before.sum()  # the blob is moved whole, never cut
        offsets.add((rows.min() - 4, cols.min() - 4))
    assert offsets <= {(i, j) for i in range(-2, 3) for j in range(-2, 3)} and len(offsets) > 10
    assert random_shift(images, 0) is images
    with pytest.raises(ValueError, match="N, C, H, W"):
        random_shift(images[0], 1)


def test_batches_cover_every_example_once_per_pass():
    images, labels = np.arange(10.0).reshape(10, 1, 1, 1), np.arange(10)
    batches = Batches(images, labels, batch_size=4, shuffle=True, rng=np.random.default_rng(0))
    assert len(batches) == 3
    passes = [np.concatenate([y for _, y in batches]) for _ in range(2)]
    for seen in passes:
        assert sorted(seen) == list(range(10))
    assert list(passes[0]) != list(passes[1])  # reshuffled
    with pytest.raises(ValueError, match="differ in length"):
        Batches(images, labels[:5])


def test_fit_learns_a_separable_problem_without_validation_digits():
    cnnbook.seed_everything(0)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 200)
    images = rng.standard_normal((200, 1, 8, 8)).astype(np.float32) * 0.1
    images[np.arange(200), 0, labels, labels] += 2.0  # the class is where the bright pixel is
    model = small_cnn()
    train = Batches(images, labels, batch_size=20, shuffle=True)
    history = fit(model, train, None, epochs=15, optimizer=optim.Adam(model.parameters(), 1e-2),
                  progress=False)
    assert history.train_eval_accuracy[-1] > 0.7  # chance: 0.2
    assert history.train_eval_loss[-1] < 0.6 * history.train_eval_loss[0]
    assert np.isnan(history.val_loss[-1]) and "val" not in history.summary()
    assert evaluate(model, train)[1] == history.train_eval_accuracy[-1]


def test_tape_gives_the_hand_written_backward_gradients():
    cnnbook.seed_everything(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 3), nn.Sigmoid(), nn.Linear(3, 5))
    model.astype(np.float64)
    x = np.random.default_rng(0).standard_normal((6, 1, 8, 8))
    labels = np.arange(6) % 5
    model.backward(cross_entropy_backward(model(x), labels))
    params = [ag.Tensor(p.data) for p in model.parameters()]
    w1, b1, w2, b2, w3, b3 = params
    with ag.Tape() as tape:
        h = ag.flatten(ag.max_pool2d(ag.relu(ag.conv2d(ag.Tensor(x), w1, b1, padding=1)), 2))
        loss = ag.cross_entropy(ag.linear(ag.sigmoid(ag.linear(h, w2, b2)), w3, b3), labels)
    for grad, p in zip(tape.gradient(loss, params), model.parameters()):
        np.testing.assert_allclose(grad, p.grad, rtol=1e-12, atol=1e-15)


def test_tape_adds_the_gradients_of_a_value_used_twice():
    a, b = ag.Tensor(np.array([3.0])), ag.Tensor(np.array([-2.0]))
    with ag.Tape() as tape:
        c = a * b
        loss = c * c + a  # d/da = 2 c b + 1 = 25, d/db = 2 c a = -36
    untouched = ag.Tensor(np.zeros(2))
    da, db, du = tape.gradient(loss, [a, b, untouched])
    assert da[0] == 25 and db[0] == -36 and not du.any()
    with pytest.raises(ValueError, match="scalar"):
        tape.gradient(ag.Tensor(np.zeros(3)), [a])
    with pytest.raises(ValueError, match="equal shapes"):
        ag.add(a, untouched)
    with ag.Tape() as outer:  # nothing recorded once a tape's block is left
        pass
    a * b
    assert outer.entries == []


def test_max_pool2d_backward_routes_like_torch_with_nan_and_all_padding_windows():
    x = np.random.default_rng(0).standard_normal((2, 2, 5, 5))
    x[0, 0, 1, 1] = np.nan
    x[1, 1, :2, :2] = -np.inf  # with padding 1, the corner window holds nothing but -inf
    x[1, 0, 2, 2] = x[1, 0, 2, 3]  # and a tie
    dy = np.random.default_rng(1).standard_normal((2, 2, 3, 3))
    t = torch.from_numpy(x).requires_grad_()
    (F.max_pool2d(t, 2, stride=2, padding=1, ceil_mode=True) * torch.from_numpy(dy)).sum().backward()
    np.testing.assert_array_equal(max_pool2d_backward(dy, x, 2, 2, padding=1, ceil_mode=True),
                                  t.grad.numpy())


@pytest.mark.parametrize("batch_norm", [True, False])
def test_two_conv_net_is_one_architecture_in_both_libraries(batch_norm):
    ours, theirs = two_conv_net(batch_norm=batch_norm), two_conv_net(torch.nn, batch_norm=batch_norm)
    assert [k for k in theirs.state_dict() if "num_batches" not in k] == list(ours.state_dict())
    assert (sum(p.data.size for p in ours.parameters())
            == sum(p.numel() for p in theirs.parameters()) == 20_490 + (96 - 48) * batch_norm)  # BatchNorm's scale and shift, no conv biases
    assert ours(np.zeros((2, 1, 28, 28), dtype=np.float32)).shape == (2, 10)


def test_numpy_cnn_race_trains_the_twins_alike():
    data = load_mnist()
    small = Mnist(data.x_train[:640], data.y_train[:640], data.x_test[:200], data.y_test[:200])
    run = numpy_cnn_race(small, seed=0, epochs=2, threads=1)
    assert set(run) == {"numpy_accuracy", "numpy_seconds", "torch_accuracy", "torch_seconds"}
    assert run["numpy_accuracy"] > 0.6 and abs(run["numpy_accuracy"] - run["torch_accuracy"]) < 0.05
    assert run["numpy_seconds"] > 0 and run["torch_seconds"] > 0


def test_conv_speed_tables_time_both_passes():
    layers = [(2, 3, 8, 4, 3)]
    for table in (conv_speed_table, conv_backward_speed_table):
        (row,) = table(layers, repeats=1, threads=1)
        assert row["layer"] == "2x3x8x8 -> 4 ch 3x3" and row["ratio"] > 0 and row["threads"] == 1


def test_freed_memory_is_kept_where_glibc_allows_it():
    import platform
    from cnnbook.scratch import _malloc
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert _malloc.TUNED
    else:
        assert _malloc.keep_freed_memory() in (True, False)
