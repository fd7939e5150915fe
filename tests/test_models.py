"""The chapter 3 models: parameter counts in both frameworks; fit and evaluate checked."""

import numpy as np
import pytest
import torch

import cnnbook
from cnnbook import torch as ct
from cnnbook.data import Mnist
from cnnbook.viz import confusion_matrix


@pytest.fixture(scope="module")
def ctf():
    from cnnbook import tf as ctf

    return ctf


def torch_params(model):
    return sum(p.numel() for p in model.parameters())


def keras_trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_mnist_cnn_has_55338_parameters_everywhere(ctf):
    assert torch_params(ct.MnistCNN()) == 55_338
    assert ctf.mnist_cnn_sequential().count_params() == 55_338
    assert ctf.mnist_cnn_functional().count_params() == 55_338
    subclassed = ctf.MnistCNN()
    subclassed(np.zeros((1, 28, 28, 1), np.float32))
    assert subclassed.count_params() == 55_338


@pytest.mark.parametrize("batch_norm, dropout", [(True, 0.3), (False, 0.0)])
def test_lenet5_same_trainable_parameters(ctf, batch_norm, dropout):
    torch_model = ct.LeNet5(batch_norm=batch_norm, dropout=dropout)
    assert torch_params(torch_model) == keras_trainable(ctf.LeNet5(batch_norm=batch_norm,
                                                                   dropout=dropout))
    out = torch_model(torch.zeros(2, 1, 28, 28))
    assert out.shape == (2, 10)


@pytest.mark.parametrize("grouped, expected", [(False, 62_378_344), (True, 60_965_224)])
def test_alexnet_parameter_count(ctf, grouped, expected):
    assert torch_params(ct.AlexNet(grouped=grouped)) == expected
    assert ctf.AlexNet(grouped=grouped).count_params() == expected


def test_small_alexnet_twins(ctf):
    keras_model = ctf.SmallAlexNet()
    keras_model(np.zeros((1, 28, 28, 1), np.float32))
    assert torch_params(ct.SmallAlexNet()) == keras_trainable(keras_model)


def tiny_data(channels_last):
    rng = np.random.default_rng(0)
    x = rng.random((96, 1, 28, 28), dtype=np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(np.int64)  # learnable: bright vs dark
    if channels_last:
        x = x.transpose(0, 2, 3, 1)
    return Mnist(x[:64], y[:64], x[64:], y[64:])


def hand_loss_and_accuracy(logits, labels):
    """Mean cross-entropy and accuracy from logits, in float64 NumPy: the oracle."""
    z = np.asarray(logits, np.float64)
    log_probs = z - z.max(axis=1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels].mean(), (z.argmax(1) == labels).mean()


def test_torch_evaluate_matches_a_hand_count():
    torch.manual_seed(0)
    data = tiny_data(False)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 3))
    _, test = ct.data_loaders(data, batch_size=5)  # 32 images: the last batch is short
    loss, accuracy = ct.evaluate(model, test)
    expected_loss, expected_accuracy = hand_loss_and_accuracy(
        ct.predict(model, data.x_test), data.y_test)
    assert np.isclose(loss, expected_loss, rtol=1e-5)
    assert accuracy == expected_accuracy


def test_torch_fit_lowers_the_loss(capsys):
    cnnbook.seed_everything(0)
    data = tiny_data(False)
    train, test = ct.data_loaders(data, batch_size=16)
    model = ct.MnistCNN()
    train_eval = ct.data_loaders(data._replace(x_test=data.x_train, y_test=data.y_train))[1]
    before, _ = ct.evaluate(model, train_eval)
    history = ct.fit(model, train, test, epochs=3)
    after, _ = ct.evaluate(model, train_eval)
    assert after < 0.8 * before, (before, after)
    assert len(history.train_loss) == len(history.val_accuracy) == len(history.seconds) == 3
    assert history.val_loss[-1] == pytest.approx(ct.evaluate(model, test)[0], rel=1e-5)
    # The eval-mode training figures are evaluate() on the training loader.
    assert (history.train_eval_loss[-1], history.train_eval_accuracy[-1]) == pytest.approx(
        ct.evaluate(model, train), rel=1e-5)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3") and "| val " in lines[0]
    with pytest.raises(ValueError, match="epochs"):
        ct.fit(ct.MnistCNN(), train, test, epochs=0)


def test_keras_evaluate_matches_a_hand_count(ctf):
    ctf.keras.utils.set_random_seed(0)
    data = tiny_data(True)
    model = ctf.keras.Sequential([ctf.keras.Input((28, 28, 1)), ctf.keras.layers.Flatten(),
                                  ctf.keras.layers.Dense(3)])
    ctf.compile_for_logits(model)
    _, test = ctf.data_loaders(data, batch_size=5)
    loss, accuracy = ctf.evaluate(model, test)
    expected_loss, expected_accuracy = hand_loss_and_accuracy(
        model.predict(data.x_test, verbose=0), data.y_test)
    assert np.isclose(loss, expected_loss, rtol=1e-5)
    assert np.isclose(accuracy, expected_accuracy)


def test_keras_fit_lowers_the_loss(ctf, capsys):
    cnnbook.seed_everything(0)
    data = tiny_data(True)
    train, test = ctf.data_loaders(data, batch_size=16)
    model = ctf.compile_for_logits(ctf.mnist_cnn_sequential())
    train_eval = ctf.data_loaders(data._replace(x_test=data.x_train, y_test=data.y_train))[1]
    before, _ = ctf.evaluate(model, train_eval)
    history = ctf.fit(model, train, test, epochs=3)
    after, _ = ctf.evaluate(model, train_eval)
    assert after < 0.8 * before, (before, after)
    assert len(history.val_loss) == 3
    assert history.val_loss[-1] == pytest.approx(ctf.evaluate(model, test)[0], rel=1e-4)
    assert (history.train_eval_loss[-1], history.train_eval_accuracy[-1]) == pytest.approx(
        ctf.evaluate(model, train), rel=1e-4)
    assert len(capsys.readouterr().out.strip().splitlines()) == 3


def test_confusion_matrix():
    counts = confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), num_classes=3)
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 1, 1], [0, 0, 1]])
    with pytest.raises(ValueError, match=r"\(2,\) and predictions \(3,\)"):
        confusion_matrix(np.zeros(2, int), np.zeros(3, int))
