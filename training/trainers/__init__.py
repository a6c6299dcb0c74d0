"""Trainers: typed functions that own optimisers and loops; the CLI is a thin shell over them.

``TRAINERS`` maps each model kind (models/kinds.py) to its trainer, used by the pipeline and the
experiment runner alike; a new kind adds one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from training.config import RunConfig
from training.protocol.prepared import Prepared
from training.trainers.distributed import DistContext
from training.trainers.exported import Exported

# (cfg, prepared data, rank context, cache_dir for reusable phases) -> the exported model on the
# main rank, None on the others.
TrainFn = Callable[[RunConfig, Prepared, DistContext, Path | None], Exported | None]


@dataclass(frozen=True)
class Trainer:
    train: TrainFn
    # RunConfig sections only this kind reads: left out of other kinds' run keys (experiment.py).
    sections: tuple[str, ...] = ()
    # Whether the experiment runner keeps its item vectors for the embedding-projection figure.
    projection_figure: bool = False


def _two_tower(
    cfg: RunConfig, p: Prepared, ctx: DistContext, _cache: Path | None
) -> Exported | None:
    from training.trainers.exported import export_model
    from training.trainers.two_tower import train_two_tower

    res = train_two_tower(cfg, p, ctx)
    if not ctx.is_main:
        return None
    return export_model(
        res.model,
        p,
        kind=cfg.model.kind,
        valid=res.valid,
        history=res.history,
        best_epoch=res.best_epoch,
        seconds=res.seconds,
        examples_per_second=res.examples_per_second,
    )


def _mirec(cfg: RunConfig, p: Prepared, ctx: DistContext, cache: Path | None) -> Exported | None:
    from training.trainers.mirec import train_mirec

    return train_mirec(cfg, p, ctx, cache_dir=cache)


TRAINERS: dict[str, Trainer] = {
    "two_tower": Trainer(_two_tower),
    "ssl": Trainer(_two_tower),
    "mirec": Trainer(_mirec, sections=("mirec",), projection_figure=True),
}


def trainer_for(kind: str) -> Trainer:
    try:
        return TRAINERS[kind]
    except KeyError:
        raise ValueError(f"no trainer for model kind {kind!r}; known: {list(TRAINERS)}") from None
