"""What every trainer needs before its first step: device, threads, tensors, seeds."""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass

import numpy as np
import torch

from models.feature_batch import TensorTable
from training.config import RunConfig
from training.protocol.prepared import Prepared
from training.trainers.distributed import DistContext

log = logging.getLogger("training")


@dataclass
class TrainTensors:
    """Pre-tensorised training data: no per-example Python work happens in the loop."""

    users: torch.Tensor  # int64 [n_train] training interactions' user index
    items: torch.Tensor  # int64 [n_train]
    user_table: TensorTable
    item_table: TensorTable
    log_q: torch.Tensor  # float32 [n_items]: log of each item's share of training interactions
    device: torch.device


def set_threads(cfg: RunConfig, ctx: DistContext) -> None:
    """Use the configured threads, or share the machine's cores evenly between ranks."""
    n = cfg.train.threads or max(1, (os.cpu_count() or 1) // ctx.world)
    torch.set_num_threads(n)


def train_tensors(
    p: Prepared,
    device: torch.device,
    users: np.ndarray | None = None,
    items: np.ndarray | None = None,
) -> TrainTensors:
    u = p.split.train_users if users is None else users
    i = p.split.train_items if items is None else items
    counts = p.headtail.train_counts.astype(np.float64)
    share = counts / max(1.0, counts.sum())
    # Items never seen in training never appear as in-batch candidates; clamp avoids log(0).
    log_q = torch.from_numpy(np.log(np.maximum(share, 1e-12))).float()
    return TrainTensors(
        users=torch.from_numpy(np.ascontiguousarray(u, dtype=np.int64)),
        items=torch.from_numpy(np.ascontiguousarray(i, dtype=np.int64)),
        user_table=TensorTable.from_table(p.dataset.user_features, device),
        item_table=TensorTable.from_table(p.dataset.item_features, device),
        log_q=log_q.to(device),
        device=device,
    )


def resolve_device(cfg: RunConfig, ctx: DistContext) -> torch.device:
    if cfg.train.device == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("train.device = 'cuda' but no CUDA device is available")
        return torch.device("cuda", ctx.rank % torch.cuda.device_count())
    return torch.device("cpu")


def step_precision(cfg: RunConfig, device: torch.device) -> contextlib.AbstractContextManager[None]:
    """Where a training step's forward and loss run: under bfloat16 autocast when
    ``train.precision`` is "bf16", else as they are (float32)."""
    if cfg.train.precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
