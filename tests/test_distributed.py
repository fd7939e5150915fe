"""Data parallelism: DDP over processes on 127.0.0.1 trains what one process trains; the
checkpoint resumes exactly; Keras's MirroredStrategy agrees with one device; device()."""

import functools
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as dist

from cnnbook.data import load_mnist
from cnnbook.torch import accelerator as devices
from cnnbook.torch import distributed as ddp
from cnnbook.torch.models import MnistCNN

NO_DROPOUT = functools.partial(MnistCNN, dropout=0.0)  # no BatchNorm, no random masks


@pytest.fixture(scope="module")
def digits():
    data = load_mnist()
    return data.x_train[:256], data.y_train[:256]


def largest_difference(a, b):
    return max((x - y).abs().max().item() for x, y in zip(a.state_dict().values(),
                                                          b.state_dict().values()))


def test_one_and_two_processes_train_the_same_weights(digits):
    kwargs = dict(epochs=1, batch_size=64, lr=0.05, momentum=0.9, seed=3)
    one = ddp.train_data_parallel(NO_DROPOUT, *digits, world_size=1, **kwargs)
    two = ddp.train_data_parallel(NO_DROPOUT, *digits, world_size=2, **kwargs)
    torch.manual_seed(3)
    start = NO_DROPOUT()
    assert largest_difference(one, start) > 1e-3  # the weights moved
    assert largest_difference(one, two) < 1e-5  # by the same steps, to float32 rounding


def test_shares_partition_each_batch_in_an_order_every_rank_draws_alike():
    order = ddp.batch_order(10, seed=1, epoch=2)
    assert sorted(order) == list(range(10))
    assert np.array_equal(order, ddp.batch_order(10, seed=1, epoch=2))
    assert not np.array_equal(order, ddp.batch_order(10, seed=1, epoch=3))
    shares = [ddp.rank_share(order[:7], rank, 3) for rank in range(3)]
    assert [len(s) for s in shares] == [3, 2, 2]
    assert np.array_equal(np.concatenate(shares), order[:7])


def test_resumed_training_equals_uninterrupted(tmp_path, digits):
    def run(checkpoint, stop_after=None):
        port = ddp.free_port()
        return ddp.train_rank(0, 1, NO_DROPOUT, *digits, epochs=2, lr=0.05, momentum=0.9,
                              init_method=f"tcp://127.0.0.1:{port}", checkpoint=checkpoint,
                              stop_after=stop_after)

    whole = run(tmp_path / "whole.pt")
    run(tmp_path / "cut.pt", stop_after=1)  # the job is lost after epoch 1 ...
    assert torch.load(tmp_path / "cut.pt", weights_only=True)["epoch"] == 1
    resumed = run(tmp_path / "cut.pt")  # ... and started again
    assert largest_difference(whole, resumed) == 0
    assert not dist.is_initialized()


def test_torchrun_entry_point_resumes_a_lost_job(tmp_path):
    def torchrun(*args):
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   "--nproc-per-node", "2", "-m", "cnnbook.torch.ddp", "--depth", "8",
                   "--width", "4", "--limit", "128", "--epochs", "2", *args]
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)

    assert "rank 0 of 2" in torchrun("--checkpoint", str(tmp_path / "a.pt")).stdout
    torchrun("--checkpoint", str(tmp_path / "b.pt"), "--stop-after", "1")
    torchrun("--checkpoint", str(tmp_path / "b.pt"))
    a, b = (torch.load(tmp_path / name, weights_only=True) for name in ("a.pt", "b.pt"))
    assert a["epoch"] == b["epoch"] == 2
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])


def test_bad_arguments_get_clear_errors(digits):
    with pytest.raises(TypeError, match="picklable"):
        ddp.train_data_parallel(lambda: MnistCNN(), *digits)
    with pytest.raises(ValueError, match="world_size must be between 1 and batch_size=4"):
        ddp.train_data_parallel(NO_DROPOUT, *digits, world_size=5, batch_size=4)
    with pytest.raises(ValueError, match="differ in length"):
        ddp.train_data_parallel(NO_DROPOUT, digits[0], digits[1][:10])


def test_mirrored_strategy_on_two_cpus_trains_what_one_trains():
    from cnnbook.tf.mirrored import train_mirrored

    data = load_mnist(channels_last=True)
    x, y = data.x_train[:256], data.y_train[:256]
    one = train_mirrored(x, y, devices=1, lr=0.05)
    two = train_mirrored(x, y, devices=2, lr=0.05)
    assert len(one) == len(two) == 8  # 4 layers with weights: kernel and bias each
    assert max(np.abs(a - b).max() for a, b in zip(one, two)) < 1e-5
    with pytest.raises(ValueError, match=r"\(N, 28, 28, 1\)"):
        train_mirrored(data.x_train[:4, ..., 0], y[:4])


def test_device_prefers_an_accelerator_and_can_be_overridden(monkeypatch):
    monkeypatch.delenv("CNNBOOK_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert devices.device().type == expected
    monkeypatch.setenv("CNNBOOK_DEVICE", "cpu")
    assert devices.device() == torch.device("cpu")
    assert devices.model_device(torch.nn.ReLU()) == torch.device("cpu")
    assert devices.model_device(torch.nn.Linear(2, 2)) == torch.device("cpu")
