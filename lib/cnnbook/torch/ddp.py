"""Train chapter 6's ResNet on the digits with DDP under ``torchrun``: one machine or many.

``torchrun`` starts the processes and sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
MASTER_PORT in each; this script joins the group with ``init_method="env://"`` and runs
:func:`cnnbook.torch.distributed.train_rank`, the loop ``train_data_parallel`` runs. On GPUs
(``--backend nccl``) each process takes GPU number LOCAL_RANK. Rank 0 checkpoints after every
epoch; started again with the same ``--checkpoint``, a job resumes where the file left it.

One machine, 2 CPU processes (what chapter 7 runs):
    torchrun --standalone --nproc-per-node 2 -m cnnbook.torch.ddp --epochs 2
One machine with 8 GPUs:
    torchrun --standalone --nproc-per-node 8 -m cnnbook.torch.ddp --backend nccl --epochs 30
Slurm, 4 machines of 8 GPUs (in the batch script; every machine runs one torchrun):
    srun --nodes 4 --ntasks-per-node 1 torchrun --nnodes 4 --nproc-per-node 8 \\
        --rdzv-id $SLURM_JOB_ID --rdzv-backend c10d \\
        --rdzv-endpoint $(scontrol show hostnames $SLURM_JOB_NODELIST | head -n 1):29500 \\
        -m cnnbook.torch.ddp --backend nccl --epochs 30 --checkpoint $SCRATCH/resnet20.pt \\
        --batch-size 1024 --lr 1.6
``--batch-size`` is the global batch: with many ranks, raise it (and ``--lr`` with it: there
is no warm-up here), so that every rank gets a useful share.
"""

from __future__ import annotations

import argparse
import functools
import os

import torch

from cnnbook.data import load_mnist, standardize, validation_split
from cnnbook.seeding import default_threads
from cnnbook.torch.distributed import train_rank
from cnnbook.torch.resnet import cifar_resnet


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="gloo", choices=["gloo", "nccl"])
    parser.add_argument("--checkpoint", default=None, help="path of the checkpoint file")
    parser.add_argument("--stop-after", type=int, default=None,
                        help="end after this many epochs (to try resuming)")
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first LIMIT training digits only (quick runs)")
    args = parser.parse_args(argv)
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cuda", local_rank) if args.backend == "nccl" else None
    if device is None:  # CPU processes share this machine's cores
        torch.set_num_threads(max(1, default_threads() // int(
            os.environ.get("LOCAL_WORLD_SIZE", world_size))))
    # As chapter 6 trains: standardised digits; x_train holds the training digits less the
    # validation ones.
    train = validation_split(standardize(load_mnist()))
    model_fn = functools.partial(cifar_resnet, args.depth, in_channels=1, width=args.width)
    images, labels = train.x_train[:args.limit], train.y_train[:args.limit]
    model = train_rank(rank, world_size, model_fn, images, labels,
                       epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                       momentum=args.momentum, seed=args.seed, backend=args.backend,
                       device=device, checkpoint=args.checkpoint, stop_after=args.stop_after)
    if rank == 0:
        reached = args.epochs if args.stop_after is None else min(args.epochs, args.stop_after)
        print(f"rank 0 of {world_size}: {sum(p.numel() for p in model.parameters()):,} "
              f"parameters trained to epoch {reached} of {args.epochs}", flush=True)


if __name__ == "__main__":
    main()
