"""Data-parallel context: PyTorch DDP under ``torchrun``, a no-op in a single process.

Equivalence with a single process (tested): every rank draws the same global batch and the same
augmentations from identically seeded generators and embeds its contiguous chunk of rows; the
embeddings are all-gathered *with autograd* so every rank computes the loss of the whole global
batch (in-batch negatives included). The all-gather's backward sums the gradient of each chunk over
ranks (×world), and DDP averages parameter gradients over ranks (÷world), so each step applies
exactly the single-process full-batch gradient.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world: int = 1

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def chunk(self, n: int) -> slice:
        """This rank's contiguous share of ``n`` global rows (``n`` must divide by the world)."""
        if n % self.world:
            raise ValueError(f"global batch of {n} rows does not split over {self.world} ranks")
        size = n // self.world
        return slice(self.rank * size, (self.rank + 1) * size)

    def gather_rows(self, x: torch.Tensor) -> torch.Tensor:
        """Concatenate every rank's ``[n/world, d]`` chunk into ``[n, d]``, differentiably."""
        if not self.enabled:
            return x
        from torch.distributed.nn.functional import all_gather

        return torch.cat(all_gather(x), dim=0)

    def broadcast_float(self, value: float) -> float:
        """Rank 0's value on every rank (a tensor broadcast; nothing is pickled)."""
        if not self.enabled:
            return value
        t = torch.tensor([value], dtype=torch.float64)
        dist.broadcast(t, src=0)
        return float(t.item())

    def wrap(self, module: nn.Module, device: torch.device, find_unused: bool = False) -> nn.Module:
        if not self.enabled:
            return module
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=find_unused)

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def init_distributed(device: str) -> DistContext:
    """Join the process group when launched by torchrun (``WORLD_SIZE`` > 1): gloo on CPU, NCCL
    on GPU."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device == "cuda" else "gloo")
    return DistContext(rank=dist.get_rank(), world=dist.get_world_size())


def shutdown_distributed(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()
