"""Exclusive lock on a study directory: an OS file lock (``fcntl.flock``) on the directory itself.

Locking the directory's own file descriptor creates no file, so a refused run leaves a foreign
directory exactly as it was. The lock is released by the kernel when its holder exits, killed
or not: there is never a stale lock to clean. The holder's PID is read from ``/proc/locks``
(Linux) or, once the holder has accepted the directory, from its ``.cqc-lock`` note.
"""

from __future__ import annotations

import contextlib
import os

from ..core.errors import InputError

__all__ = ["DirLock", "NOTE"]

NOTE = ".cqc-lock"  # "PID@host" of the holder, written after the directory is accepted


def _proc_locks_pid(fd: int) -> int | None:
    """The PID holding an flock on the file of `fd`, from /proc/locks (None if unknown)."""
    st = os.fstat(fd)
    want = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    try:
        with open("/proc/locks") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if len(parts) < 6 or "FLOCK" not in parts or "->" in parts:
            continue
        k = parts.index("FLOCK")
        try:
            pid = int(parts[k + 3])
            major, minor, ino = parts[k + 4].split(":")
            if (int(major, 16), int(minor, 16), int(ino)) == want and pid != os.getpid():
                return pid
        except (ValueError, IndexError):
            continue
    return None


class DirLock:
    """``with DirLock(path, wait=False, log=print): ...`` holds the directory exclusively.

    Parameters
    ----------
    path : str
        An existing directory.
    wait : bool
        Block until the other holder finishes (default: refuse at once with its PID).
    """

    def __init__(self, path: str, *, wait: bool = False, log=None):
        self.path, self.wait, self.log = path, wait, log or (lambda msg: None)
        self.fd = None
        self.noted = False
        self.file_lock = False  # True: the fallback lock on the note file

    def holder(self) -> str:
        pid = _proc_locks_pid(self.fd) if self.fd is not None else None
        if pid is None:
            with contextlib.suppress(OSError), open(os.path.join(self.path, NOTE)) as fh:
                note = fh.read().strip()
                return f"PID {note}" if note else "PID unknown"
            return "PID unknown"
        return f"PID {pid}"

    def __enter__(self):
        import fcntl

        self.fd = os.open(self.path, os.O_RDONLY)
        try:
            self._take(fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = self.holder()
            if not self.wait:
                os.close(self.fd)
                self.fd = None
                raise InputError(f"study directory {self.path!r} is in use by another run ({who}); wait for it "
                                 f"to finish, or rerun with --wait to queue behind it") from None
            self.log(f"study directory {self.path} is in use by another run ({who}); waiting for it to finish")
            self._take(fcntl.LOCK_EX)
        return self

    def _take(self, how: int) -> None:
        """flock the directory; where directories cannot be locked (some network file systems),
        lock the note file instead (kept afterwards, so that every run locks the same file)."""
        import fcntl

        try:
            fcntl.flock(self.fd, how)
        except BlockingIOError:
            raise
        except OSError:
            if self.file_lock:
                raise
            os.close(self.fd)
            self.fd = os.open(os.path.join(self.path, NOTE), os.O_RDWR | os.O_CREAT, 0o644)
            self.file_lock = True
            fcntl.flock(self.fd, how)

    def note(self) -> None:
        """Write the holder note (after the directory has been accepted as a study directory)."""
        import socket

        with open(os.path.join(self.path, NOTE), "w") as fh:
            fh.write(f"{os.getpid()}@{socket.gethostname()}\n")
        self.noted = True

    def __exit__(self, *exc):
        import fcntl

        if self.noted:
            with contextlib.suppress(OSError):
                if self.file_lock:
                    os.truncate(os.path.join(self.path, NOTE), 0)
                else:
                    os.remove(os.path.join(self.path, NOTE))
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        return False
