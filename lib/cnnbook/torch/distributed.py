"""Data parallelism with PyTorch's own engine: ``DistributedDataParallel`` over processes.

Each of ``world_size`` processes (a *rank*) holds a replica of the model and computes the
gradient on its contiguous share of every global batch; DDP all-reduces (averages) the
gradients, so every replica takes the same SGD step that one process would take on the whole
batch. ``train_data_parallel`` starts the processes on this machine (``torch.multiprocessing``,
rendezvous on 127.0.0.1); ``python -m cnnbook.torch.ddp`` runs the same loop under ``torchrun``,
on one machine or many. Both call :func:`train_rank`.
"""

from __future__ import annotations

import os
import pickle
import socket
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from cnnbook.seeding import default_threads


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for the rendezvous)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def batch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order of the n examples in ``epoch``: a permutation every rank draws alike (and a
    resumed run draws again), from ``seed`` and the epoch number alone."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def rank_share(batch: np.ndarray, rank: int, world_size: int) -> np.ndarray:
    """Rank ``rank``'s contiguous share of a global batch of indices: ``world_size`` parts
    whose sizes differ by at most one, in rank order (``np.array_split``)."""
    return np.array_split(batch, world_size)[rank]


def save_checkpoint(path, model, optimizer, epoch: int) -> None:
    """Save the model's and optimiser's state dicts after ``epoch`` (counted from 1). Written
    to a temporary file and renamed, so that a job killed while saving leaves the last
    checkpoint whole."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "epoch": epoch}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path, model, optimizer, map_location="cpu") -> int:
    """Load a :func:`save_checkpoint` file into model and optimiser; returns its epoch.
    ``weights_only=True``: the file may hold tensors and plain containers, never code."""
    state = torch.load(path, map_location=map_location, weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return int(state["epoch"])


def train_rank(rank: int, world_size: int, model_fn, images, labels, epochs: int = 1,
               batch_size: int = 64, lr: float = 0.01, momentum: float = 0.0, seed: int = 0,
               backend: str = "gloo", init_method: str = "env://", device=None,
               checkpoint=None, stop_after: int | None = None) -> torch.nn.Module:
    """One rank's training loop: join the process group, wrap ``model_fn()`` in DDP, train.

    Every global batch of ``batch_size`` examples (in :func:`batch_order`) is split into
    contiguous shares (:func:`rank_share`); each rank's loss is its share's summed
    cross-entropy times world_size / batch size, so that DDP's *average* of the ranks'
    gradients is the gradient of the whole batch's mean loss, whatever the shares' sizes (an
    epoch's last batch is skipped if it has fewer examples than ranks).
    With ``checkpoint`` (a path), rank 0 saves after every epoch and every rank resumes from
    it if it exists. ``stop_after`` ends the run after that many epochs (a lost job, for the
    checkpoint demonstration). Returns this rank's model (unwrapped).
    """
    device = torch.device("cpu") if device is None else torch.device(device)
    if device.type == "cuda":
        torch.cuda.set_device(device)  # NCCL's collectives run on the current GPU
    dist.init_process_group(backend, init_method=init_method, rank=rank, world_size=world_size)
    try:
        torch.manual_seed(seed)  # the same initial weights on every rank (DDP also broadcasts)
        model = model_fn().to(device)
        ddp = DistributedDataParallel(model, device_ids=None if device.type == "cpu" else [device])
        optimizer = torch.optim.SGD(ddp.parameters(), lr=lr, momentum=momentum)
        done = 0
        if checkpoint is not None and Path(checkpoint).exists():
            done = load_checkpoint(checkpoint, model, optimizer, map_location=device)
        images, labels = torch.as_tensor(images), torch.as_tensor(labels)
        last = epochs if stop_after is None else min(epochs, stop_after)
        for epoch in range(done + 1, last + 1):
            ddp.train()
            order = batch_order(len(images), seed, epoch)
            for start in range(0, len(order), batch_size):
                batch = order[start: start + batch_size]
                if len(batch) < world_size:  # a last batch too small to give every rank a share
                    break
                share = torch.from_numpy(rank_share(batch, rank, world_size))
                x, y = images[share].to(device), labels[share].to(device)
                optimizer.zero_grad()
                loss = F.cross_entropy(ddp(x), y, reduction="sum") * world_size / len(batch)
                loss.backward()  # DDP all-reduces the gradients during the backward pass
                optimizer.step()
            if checkpoint is not None and rank == 0:
                save_checkpoint(checkpoint, model, optimizer, epoch)
            if checkpoint is not None:
                dist.barrier()  # no rank runs ahead of the saved state
        return model
    finally:
        dist.destroy_process_group()


def _spawned(rank, world_size, port, threads, result, model_fn, images, labels, kwargs):
    torch.set_num_threads(threads)
    device = torch.device("cuda", rank) if kwargs["backend"] == "nccl" else None
    model = train_rank(rank, world_size, model_fn, images, labels, device=device,
                       init_method=f"tcp://127.0.0.1:{port}", **kwargs)
    if rank == 0:
        torch.save(model.state_dict(), result)


def train_data_parallel(model_fn, images, labels, world_size: int = 2, epochs: int = 1,
                        batch_size: int = 64, lr: float = 0.01, momentum: float = 0.0,
                        seed: int = 0, backend: str = "gloo") -> torch.nn.Module:
    """Train ``model_fn()`` on (images, labels) with ``world_size`` processes on this machine.

    Starts the processes with ``torch.multiprocessing.spawn``, each one :func:`train_rank`
    (gloo on CPUs; with ``backend="nccl"``, rank r on GPU r), and returns rank 0's trained
    model, on the CPU. ``model_fn`` is called in every process, so it must be picklable: a
    module-level function or a ``functools.partial`` of one, not a lambda. The CPU threads
    are shared out among the processes. With the same seed, one process and several train
    the same weights, to float rounding. In a script, call it under
    ``if __name__ == "__main__":``: each new process imports the script again.
    """
    try:
        pickle.dumps(model_fn)
    except (pickle.PicklingError, AttributeError, TypeError) as err:
        raise TypeError(f"model_fn must be picklable (a module-level function or a "
                        f"functools.partial of one), got {model_fn!r}: {err}") from None
    images, labels = torch.as_tensor(np.asarray(images)), torch.as_tensor(np.asarray(labels))
    if len(images) != len(labels):
        raise ValueError(f"images and labels differ in length: {tuple(images.shape)} and "
                         f"{tuple(labels.shape)}")
    if not 1 <= world_size <= batch_size:
        raise ValueError(f"world_size must be between 1 and batch_size={batch_size} (every "
                         f"rank needs a share of each batch), got {world_size}")
    if backend == "nccl" and world_size > torch.cuda.device_count():
        raise ValueError(f"backend 'nccl' puts one rank per GPU: world_size={world_size} but "
                         f"{torch.cuda.device_count()} GPUs are visible")
    kwargs = dict(epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum, seed=seed,
                  backend=backend)
    threads = max(1, default_threads() // world_size)
    with tempfile.TemporaryDirectory() as tmp:
        result = os.path.join(tmp, "rank0.pt")
        torch.multiprocessing.spawn(
            _spawned, nprocs=world_size, join=True,
            args=(world_size, free_port(), threads, result, model_fn, images, labels, kwargs))
        torch.manual_seed(seed)
        model = model_fn()
        model.load_state_dict(torch.load(result, map_location="cpu", weights_only=True))
    return model
