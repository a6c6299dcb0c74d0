"""Training progress for people: a live bar on a terminal, one line per epoch everywhere else.

On a terminal (``isatty()``) the batches of an epoch show as a tqdm bar, which redraws itself with
carriage returns; piped into a log file (``make demo > log``, the compose trainer, CI) that would
write thousands of half-lines, so there the bar is off and each epoch ends in one line::

    many-shot epoch 3/4  loss 5.1234  12,345 ex/s  valid NDCG@50 0.1234  ~0:00:42 left

``ex/s`` is an exponential moving average of the per-batch rate (the rate tqdm shows), ``left``
the mean epoch time so far times the epochs still to run (an upper bound: early stopping may end
sooner). On a terminal the same line is written above the bar. Only the main rank reports.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import TextIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")
SMOOTHING = 0.3  # weight of the newest batch in the moving average (tqdm's default)


def is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class EpochProgress:
    """Progress of one training phase of ``n_epochs`` epochs (``label``: "epoch", "few-shot")."""

    def __init__(
        self, label: str, n_epochs: int, *, enabled: bool, stream: TextIO | None = None
    ) -> None:
        self.label = label
        self.n_epochs = n_epochs
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.live = enabled and is_terminal(self.stream)
        self.rate: float | None = None  # smoothed examples per second
        self._epoch_seconds: list[float] = []
        self._epoch_start = 0.0
        self._losses: list[float] = []
        self._bar: tqdm | None = None

    def batches(self, batches: Iterable[T], epoch: int) -> Iterator[T]:
        """Iterate one epoch's batches (through a live bar on a terminal)."""
        self._epoch_start = time.perf_counter()
        self._losses = []
        if not self.live:
            yield from batches
            return
        items = list(batches)
        self._bar = tqdm(
            items,
            desc=f"{self.label} {epoch + 1}/{self.n_epochs}",
            leave=False,
            unit="batch",
            file=self.stream,
        )
        try:
            yield from self._bar
        finally:
            self._bar.close()
            self._bar = None

    def step(self, loss: float, examples: int, seconds: float) -> None:
        """Record one batch: its loss and ``examples`` trained in ``seconds``."""
        self._losses.append(loss)
        now = examples / max(seconds, 1e-9)
        self.rate = now if self.rate is None else SMOOTHING * now + (1 - SMOOTHING) * self.rate
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{loss:.4f}", ex_s=f"{self.rate:,.0f}")

    def end_epoch(self, epoch: int, metric: str, value: float | None) -> str | None:
        """Write (and return) the epoch's line; None when disabled."""
        self._epoch_seconds.append(time.perf_counter() - self._epoch_start)
        if not self.enabled:
            return None
        line = self.line(epoch, metric, value)
        if self.live:
            tqdm.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)
        return line

    def line(self, epoch: int, metric: str, value: float | None) -> str:
        loss = sum(self._losses) / len(self._losses) if self._losses else float("nan")
        rate = f"{self.rate:,.0f}" if self.rate is not None else "?"
        val = f"{value:.4f}" if value is not None else "n/a"
        mean = sum(self._epoch_seconds) / max(1, len(self._epoch_seconds))
        left = timedelta(seconds=round(mean * max(0, self.n_epochs - epoch - 1)))
        return (
            f"{self.label} {epoch + 1}/{self.n_epochs}  loss {loss:.4f}  {rate} ex/s  "
            f"valid {metric} {val}  ~{left} left"
        )
