"""Errors a user can cause, each with its own exit code.

Every command catches these at the top (``acsumgan.cli.main``) and prints one line,
``acsumgan: error: <file>: <problem>``, then exits with the class's code. Anything
else is a bug and shows a traceback. The exit codes are listed in docs/reliability.md.
"""

from __future__ import annotations

import math
import os
import reprlib
from typing import Callable

#: At most this many characters of a user's value in a message (:func:`shown`), and of a
#: whole problem (:meth:`AcsumganError.one_line`): no message can grow huge.
SHOWN_CHARS = 80
MAX_PROBLEM_CHARS = 2000


class _Short(reprlib.Repr):
    def repr_int(self, x, level):
        if x.bit_length() > 4 * self.maxlong:  # too long to show (or to convert at all: Python's digit limit)
            return f"<an integer of {x.bit_length()} bits>"
        return super().repr_int(x, level)


_SHORT = _Short()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxdict = 3, 8, 8, 6
_SHORT.maxset = _SHORT.maxfrozenset = _SHORT.maxdeque = _SHORT.maxarray = 8
_SHORT.maxstring = _SHORT.maxother = SHOWN_CHARS
_SHORT.maxlong = 40


def shown(value, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` for a message, at most ``limit`` characters (cut with "..."). Built
    piece by piece (``reprlib``), so a value of billions of elements (a YAML alias bomb,
    a nested list) costs no more than a short one."""
    try:
        text = _SHORT.repr(value)
    except Exception:  # a repr of its own that fails
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class AcsumganError(Exception):
    """A problem with the user's input or environment (never a bug)."""

    exit_code = 1
    kind = "error"

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``<file>: <problem>``, the problem on one line (the CLI shows a newline of a file
        name, and every other control character, as its escape: ``acsumgan.cli.common.visible``)."""
        where = f"{self.path}: " if self.path else ""
        problem = self.problem
        if len(problem) > MAX_PROBLEM_CHARS:
            problem = problem[: MAX_PROBLEM_CHARS - 3] + "..."
        return where + problem.replace("\n", " ")


class DatasetError(AcsumganError):
    """Dataset file missing, unreadable, or not of the eccv16 schema."""

    exit_code = 3


class SplitsError(AcsumganError):
    """Splits file missing, malformed, or naming videos the dataset lacks."""

    exit_code = 4


class ScoresError(AcsumganError):
    """Scores file missing or malformed."""

    exit_code = 5


class CheckpointError(AcsumganError):
    """Checkpoint missing, truncated, or from an incompatible version."""

    exit_code = 6


class VideoError(AcsumganError):
    """Video file missing, empty, corrupt, or without a video stream."""

    exit_code = 7


class OutputError(AcsumganError):
    """Output location cannot be written."""

    exit_code = 8


class DiskFullError(OutputError):
    """The disk filled up while writing; nothing half-written was left behind."""

    exit_code = 9


class TrainingDivergedError(AcsumganError):
    """A loss became NaN or infinite during training."""

    exit_code = 10


class ConfigError(AcsumganError):
    """An option value is out of range, or a run folder holds another config."""

    exit_code = 11


class FeatureSizeError(AcsumganError):
    """Features of one size given to a model trained on another."""

    exit_code = 12


class MissingDependencyError(AcsumganError):
    """An optional dependency (e.g. Ray) is needed but not installed."""

    exit_code = 13


class BusyError(AcsumganError):
    """Another command is writing the same output folder or file (it holds the lock)."""

    exit_code = 14


class TasksFailed(AcsumganError):
    """Some videos' tasks failed for good (``--executor ray``); the others finished and were kept.

    ``failures``: one line per video, ``<video>: <problem>``."""

    exit_code = 15

    def __init__(self, path, failures: list[str], total: int):
        self.failures = list(failures)
        n = len(self.failures)
        super().__init__(
            path,
            f"{n} of {total} video{'s' if total != 1 else ''} failed (the others are kept; run again to retry "
            f"only these): {self.failures[0]}" + (f" (and {n - 1} more)" if n > 1 else ""),
        )


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C raises KeyboardInterrupt, so that every
    ``except KeyboardInterrupt`` (and every atomic unit that holds a Ctrl-C) treats the
    three signals alike."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = int(signum)


#: How each signal that ends a command is named in its message, and its exit code (128 + signal).
SIGNAL_NAMES = {2: "SIGINT", 1: "SIGHUP", 15: "SIGTERM"}


def interruption(exc: BaseException | None = None) -> tuple[str, int]:
    """``("interrupted (Ctrl-C)", 130)`` for a KeyboardInterrupt, ``("terminated (SIGTERM)", 143)``
    or ``("terminated (SIGHUP)", 129)`` for a :class:`Terminated`: the words and the exit code."""
    signum = getattr(exc, "signum", 2)
    if signum == 2:
        return "interrupted (Ctrl-C)", 130
    return f"terminated ({SIGNAL_NAMES.get(signum, f'signal {signum}')})", 128 + signum


class InterruptedByUser(AcsumganError):
    """Ctrl-C, SIGTERM or SIGHUP: what was finished is kept, the run is marked unfinished.
    Exit 130 (Ctrl-C), 143 (SIGTERM) or 129 (SIGHUP)."""

    exit_code = 130

    def __init__(self, path, problem: str, exit_code: int | None = None):
        super().__init__(path, problem)
        if exit_code is not None:
            self.exit_code = exit_code


def checked_number(value, what: str, ok: Callable[[float], bool], expected: str) -> float:
    """``value`` as a finite float for which ``ok`` holds, else a ConfigError:
    "<what> must be a number, got ..." or "<what> must be <expected>, got ..."."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(None, f"{what} must be a number, got {shown(value)}") from None
    if not math.isfinite(v):
        raise ConfigError(None, f"{what} must be a finite number, got {v}")
    if not ok(v):
        raise ConfigError(None, f"{what} must be {expected}, got {shown(value)}")
    return v
