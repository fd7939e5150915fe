"""Training progress that reads well live and leaves one clean line per epoch.

In a notebook the progress is one display that is updated in place (Jupyter stores only
its final state, so a stored notebook shows one line per epoch, and the HTML book needs
no JavaScript to show it); elsewhere each finished epoch prints one line.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

from tqdm import tqdm


@dataclass
class History:
    """What ``fit`` returns, in both frameworks: one entry per epoch.

    ``train_loss`` is the running mean over the epoch's batches *in training mode* (Dropout
    on, weights still changing), what the progress bar shows while it trains.
    ``train_eval_loss`` and ``train_eval_accuracy`` are measured after the epoch in evaluation
    mode, as the validation figures are: only those two are comparable with ``val_loss``.
    """

    train_loss: list[float] = field(default_factory=list)
    train_eval_loss: list[float] = field(default_factory=list)
    train_eval_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def add(self, train_loss, train_eval, val, seconds):
        """One epoch: the running training loss, (loss, accuracy) pairs, its duration."""
        self.train_loss.append(float(train_loss))
        self.train_eval_loss.append(float(train_eval[0]))
        self.train_eval_accuracy.append(float(train_eval[1]))
        self.val_loss.append(float(val[0]))
        self.val_accuracy.append(float(val[1]))
        self.seconds.append(float(seconds))

    def summary(self, epoch: int | None = None) -> str:
        """One short line for ``epoch`` (default: the last), to fit a book page:
        ``loss 0.342 | train 0.139 96.1% | val 0.159 96.3%  (0.4 s)``: the running loss, then
        loss and accuracy on the training digits (eval mode) and on the validation digits."""
        i = len(self.seconds) - 1 if epoch is None else epoch
        val = ("" if math.isnan(self.val_loss[i])  # a final run with no validation digits
               else f" | val {self.val_loss[i]:.3f} {self.val_accuracy[i]:.1%}")
        return (f"loss {self.train_loss[i]:.3f} | train {self.train_eval_loss[i]:.3f} "
                f"{self.train_eval_accuracy[i]:.1%}{val}  ({self.seconds[i]:.1f} s)")


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class EpochProgress:
    """A live progress bar for the running epoch; each finished epoch stays as one line."""

    def __init__(self, epochs: int, batches: int, enabled: bool = True, min_interval: float = 0.3):
        self.epochs, self.batches, self.enabled = epochs, batches, enabled
        self.min_interval = min_interval
        self.lines: list[str] = []
        self._handle = None
        self._last = 0.0
        self._start = 0.0
        self._epoch = 0
        self._notebook = enabled and _in_notebook()

    def start_epoch(self, epoch: int) -> None:
        self._epoch, self._start, self._last = epoch, time.perf_counter(), 0.0
        self.update(0)

    def update(self, batch: int, **metrics) -> None:
        """Show the bar after ``batch`` batches (throttled to ``min_interval`` seconds)."""
        now = time.perf_counter()
        if not self._notebook or (batch not in (0, self.batches) and now - self._last < self.min_interval):
            return
        self._last = now
        postfix = ", ".join(f"{k} {v:.3f}" for k, v in metrics.items())
        self._show(self._bar(batch, now - self._start, postfix))

    def end_epoch(self, summary: str) -> None:
        # A finished epoch keeps its summary, not its (full) bar: one short line that fits.
        line = f"{self._prefix()}  {summary}"
        self.lines.append(line)
        if self._notebook:
            self._show()
        elif self.enabled:
            print(line, file=sys.stdout, flush=True)

    def _bar(self, batch: int, elapsed: float, postfix: str) -> str:
        return tqdm.format_meter(batch, self.batches, elapsed, ncols=60, prefix=self._prefix(),
                                 ascii=True, postfix=postfix or None,
                                 bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt}{postfix}")

    def _prefix(self) -> str:
        return f"epoch {self._epoch:>{len(str(self.epochs))}}/{self.epochs}"

    def _show(self, current: str | None = None) -> None:
        from IPython.display import Pretty, display

        text = "\n".join(self.lines + ([current] if current else []))
        if self._handle is None:
            self._handle = display(Pretty(text), display_id=True)
        else:
            self._handle.update(Pretty(text))
