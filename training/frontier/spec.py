"""The ``[frontier]`` table of a frontier file, typed like the run config (unknown keys refused).

Part of the experiment file (``training/experiment.py:ExperimentFile.frontier``), so a bad value
fails when the file loads, before any data is read.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from training.config import Section

Reference = Literal["popularity", "ease", "rp3beta"]


class Compare(Section):
    """A claim: ``method`` against ``base`` (+ β knob) at the base's overall accuracy."""

    method: str
    base: str
    # Relative overall-HR@50 budget (0.01: within 1% of the base).
    tolerance: float = Field(0.01, ge=0.0, lt=1.0, allow_inf_nan=False)


class Curve(Section):
    """A trade-off curve drawn through several variants (e.g. SSL's α)."""

    name: str
    variants: list[str] = Field(min_length=2)
    knob: str


class FrontierTable(Section):
    references: list[Reference] = Field(default_factory=list)
    beta_grid: list[float] | None = None  # None: training/evaluation/beta_knob.py:DEFAULT_GRID
    ease_lambdas: list[float] | None = None  # None: the reference's own grid
    rp3beta_betas: list[float] | None = None
    compare: list[Compare] = Field(default_factory=list)
    curve: list[Curve] = Field(default_factory=list)
