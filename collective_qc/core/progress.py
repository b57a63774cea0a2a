"""Progress reporting for long runs: a tqdm bar on a terminal, one-line status lines when piped.

Interface (what the solvers, :func:`collective_qc.charge`, :func:`collective_qc.compare` and
studies call)::

    prog = Progress("charge xxz-ring N=10", unit="trajectories")
    prog(done, total)      # any number of times; done may restart from 0 (e.g. a rerun)
    prog.note("message")   # one line of news (e.g. "Fock cutoff doubled"), bar kept intact
    prog.close()           # final line when anything was shown

Nothing is shown for work that ends within ``delay`` seconds. On a terminal (``stream.isatty()``)
a tqdm bar is drawn; otherwise (a log file, a pipe) a line ``label: done/total unit (pct%),
elapsed, about ... left`` is written at most every ``interval`` seconds, and a last line when
the work ends. :func:`progress_for` builds one or returns None when progress is switched off.
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progress", "progress_for"]


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _count(x) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


class Progress:
    """A progress callback ``(done, total) -> None``.

    Parameters
    ----------
    label : str
        Shown in front of every bar or line.
    unit : str
        What is counted ("steps", "trajectories", "runs", "points").
    stream : file, optional
        Default ``sys.stderr``.
    interval : float
        Seconds between status lines when the stream is not a terminal.
    delay : float
        Seconds of silence before anything is shown (short runs stay quiet).
    tty : bool, optional
        Force the terminal (True) or line (False) mode; default: ``stream.isatty()``.
    clock : callable, optional
        Time source (seconds), for tests.
    """

    def __init__(self, label: str, *, unit: str = "steps", stream=None, interval: float = 10.0,
                 delay: float = 2.0, tty: bool | None = None, clock=time.monotonic):
        self.label, self.unit = label, unit
        self.stream = sys.stderr if stream is None else stream
        self.interval, self.delay, self.clock = interval, delay, clock
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self.start = clock()
        self.last_line = None  # time of the last status line (line mode)
        self.shown = False
        self.last_done = None
        self.done, self.total = 0, None
        self._bar = None

    # -- the callback -------------------------------------------------------------------------
    def __call__(self, done: int, total: int) -> None:
        if self.total is not None and (done < self.done or total != self.total):
            self._restart()
        self.done, self.total = done, int(total)
        now = self.clock()
        if now - self.start < self.delay and done < total:
            return
        if self.tty:
            self._draw_bar()
        elif done >= total:
            if self.shown and self.last_done != (done, total):
                self._line(now)
        elif self.last_line is None or now - self.last_line >= self.interval:
            self._line(now)

    def note(self, message: str) -> None:
        """One line of news, e.g. a rerun with a larger cutoff (always shown)."""
        text = f"{self.label}: {message}"
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    # -- helpers ------------------------------------------------------------------------------
    def _restart(self) -> None:
        """A new phase or a rerun (new total, or the count went back): its own clock and ETA."""
        self.start = self.clock()
        self.last_line = None
        if self._bar is not None:
            self._bar.reset(total=self.total)

    def _draw_bar(self) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=self.label, unit=f" {self.unit}", file=self.stream,
                             leave=False, dynamic_ncols=True)
            self.shown = True
        if self._bar.total != self.total:
            self._bar.reset(total=self.total)
        self._bar.update(self.done - self._bar.n)
        if self.done >= self.total:
            self.close()

    def _line(self, now: float) -> None:
        elapsed = now - self.start
        frac = self.done / self.total if self.total else 1.0
        text = f"{self.label}: {_count(self.done)}/{self.total} {self.unit} ({100 * frac:.0f}%), {_duration(elapsed)}"
        if self.done >= self.total:
            text += " (done)"
        elif frac >= 0.05:  # earlier estimates are dominated by start-up (compilation, set-up)
            text += f", about {_duration(elapsed * (1 - frac) / frac)} left"
        self.stream.write(text + "\n")
        self.stream.flush()
        self.last_line, self.shown = now, True
        self.last_done = (self.done, self.total)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def progress_for(label: str, enabled: bool = True, **kwargs) -> Progress | None:
    """A :class:`Progress` for `label`, or None when `enabled` is False."""
    return Progress(label, **kwargs) if enabled else None
