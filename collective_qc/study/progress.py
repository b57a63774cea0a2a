"""Progress of a study: tqdm bars on a terminal, periodic one-line status when piped to a log.

Over points, and inside an in-process point (time samples or trajectories). When a point's run
starts over (the automatic Fock cutoff was not converged and the run is repeated with a doubled
cutoff) the point's bar or status line shows the pass, with no line per pass (the study sums the
passes up in one line, :func:`collective_qc.study.outputs.cutoff_note`), and the study's own
count does not move backwards.
"""

from __future__ import annotations

import sys
import time

__all__ = ["StudyProgress"]


class StudyProgress:
    """Progress over the points of one run.

    Parameters
    ----------
    name : str
        Study name (shown on each line).
    total, initial : int
        Points in the study, and those finished before this run.
    enabled : bool
        False: silent.
    interval : float
        Seconds between status lines when the stream is not a terminal.
    stream : file, optional
        Default ``sys.stderr``.
    """

    def __init__(self, name: str, total: int, initial: int, *, enabled: bool = True, interval: float = 30.0,
                 stream=None):
        self.stream = stream or sys.stderr
        self.name, self.total, self.done, self.loaded = name, total, initial, initial
        self.enabled, self.interval = enabled, interval
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = self.last = time.monotonic()
        self.bar = None
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=f"study {name}", unit="point", file=self.stream)

    def line(self, msg: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(msg, file=self.stream)
        else:
            self.stream.write(msg + "\n")
            self.stream.flush()

    def _status(self, extra: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if self.tty or not self.enabled or (not force and now - self.last < self.interval):
            return
        self.last = now
        computed = self.done - self.loaded
        self.line(f"study {self.name}: {self.done}/{self.total} points ({self.loaded} loaded, {computed} "
                  f"computed), {now - self.t0:.0f} s{extra}")

    def point_done(self, pid: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        self._status(f"; last {pid}", force=self.done == self.total)

    def inner(self, pid: str):
        """A ``progress(done, total)`` callback for one in-process point run."""
        if not self.enabled:
            return None
        state = {"last": -1, "pass": 1, "bar": None}

        def update(done, total):
            if done < state["last"]:  # the run started over (a doubled Fock cutoff): no line per pass,
                state["pass"] += 1  # the study sums the passes up in one line at the end
                self._close_inner(state)
            state["last"] = done
            tag = f" (pass {state['pass']})" if state["pass"] > 1 else ""
            if self.tty:
                self._tty_inner(state, pid + tag, done, total)
            else:
                self._status(f"; point {pid}{tag} {100.0 * done / max(total, 1):.0f}%")

        return update

    def _tty_inner(self, state, desc, done, total) -> None:
        from tqdm import tqdm

        if state["bar"] is None:
            state["bar"] = tqdm(total=total, desc=desc, file=self.stream, leave=False, position=1)
        state["bar"].update(done - state["bar"].n)
        if done >= total:
            self._close_inner(state)

    @staticmethod
    def _close_inner(state) -> None:
        if state["bar"] is not None:
            state["bar"].close()
            state["bar"] = None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
