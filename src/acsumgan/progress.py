"""The one progress protocol: every long piece of work reports :class:`Event` values.

Feature extraction, KTS, training, encoding and the summaries call ``progress(event)``
(a :data:`Progress`, or ``None`` for silence) with what stage it is in, how much of it
is done, out of how much, a short note (a reward, "reused") and the item the count is
of (a video's name: a new item starts the stage's count again). The command
line shows them as one bar per stage (``acsumgan.cli.progress``); a library user may
pass any callable, e.g. ``events.append``.

A leaf module: it imports nothing of acsumgan, so that every layer (``media`` included)
may report through it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional

#: What each stage counts.
UNITS = {
    "features": "frames",
    "shots": "KTS windows",
    "training": "epochs",
    "encoding": "frames",
    "summaries": "videos",
    "videos": "videos",
}


@dataclass(frozen=True)
class Event:
    """``done`` of ``total`` (``None``: unknown) units of ``stage`` are done, for ``item``."""

    stage: str
    done: int
    total: Optional[int]
    note: str = ""
    item: str = ""

    @property
    def unit(self) -> str:
        return UNITS.get(self.stage, "")


Progress = Callable[[Event], None]


def report(progress: Progress | None, stage: str, done: int, total: int | None, note: str = "", item: str = "") -> None:
    """Send one :class:`Event` to ``progress`` (nothing when it is ``None``)."""
    if progress is not None:
        progress(Event(stage, int(done), None if total is None else int(total), note, item))


def for_item(progress: Progress | None, item: str) -> Progress | None:
    """``progress`` with every event's ``item`` set to ``item`` (e.g. the video a stage works on)."""
    if progress is None:
        return None
    return lambda event: progress(replace(event, item=item))
