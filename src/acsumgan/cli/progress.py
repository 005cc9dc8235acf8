"""The command line's progress displays of :class:`~acsumgan.progress.Event` s: a rich bar per
stage (:class:`ProgressBars`, ``--progress bars``), or one JSON object per event on stdout
(:class:`JsonLines`, ``--progress json``: what a program reads, e.g. the studio)."""

from __future__ import annotations

import json
import sys
import threading
from typing import TextIO

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..progress import Event
from .common import console, shown

#: The choices of ``--progress``.
PROGRESS_MODES = ("bars", "json")
#: The keys of one ``--progress json`` line, in order.
JSON_KEYS = ("stage", "done", "total", "note", "item")


class ProgressBars:
    """One bar per stage (features, shots, training, encoding, summaries, ...): done / total
    in the stage's unit, elapsed time, ETA and the event's note. A new ``item`` (the next
    video) starts its stage's bar again, so the rate and ETA are the item's. Names are
    :func:`~acsumgan.cli.common.shown`. Use as a context manager; call it with events::

        with ProgressBars() as bars:
            summarize_videos(..., progress=bars)
    """

    def __init__(self, transient: bool = False):
        self.p = Progress(
            TextColumn("[bold]{task.fields[stage]:<9}[/bold] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}"),
            console=console,
            transient=transient,
        )
        self.tasks: dict[str, int] = {}
        self.items: dict[str, str] = {}

    def __enter__(self) -> "ProgressBars":
        self.p.start()
        return self

    def __exit__(self, *exc) -> bool:
        self.p.stop()
        return False

    def __call__(self, event: Event) -> None:
        stage, total = event.stage, event.total or None
        text, note = shown(event.item), shown(event.note)
        if stage not in self.tasks:
            self.tasks[stage] = self.p.add_task(text, total=total, stage=stage, unit=event.unit, note=note)
            self.items[stage] = event.item
        elif self.items.get(stage) != event.item:
            self.items[stage] = event.item
            self.p.reset(self.tasks[stage], total=total, completed=0, description=text)
        self.p.update(self.tasks[stage], description=text, completed=event.done, total=total, note=note)


class JsonLines:
    """``--progress json``: each event as one line of JSON on ``stream`` (default stdout),
    ``{"stage": "features", "done": 10, "total": 300, "note": "", "item": "clip.mp4"}``
    (``total`` null when unknown), flushed at once; safe to call from several threads.
    A closed reader (a broken pipe) ends the lines, not the work."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> "JsonLines":
        return self

    def __exit__(self, *exc) -> bool:
        return False

    @staticmethod
    def line(event: Event) -> str:
        obj = {"stage": event.stage, "done": event.done, "total": event.total, "note": event.note, "item": event.item}
        return json.dumps(obj, ensure_ascii=False)

    def __call__(self, event: Event) -> None:
        text = self.line(event) + "\n"
        with self._lock:
            if self._closed:
                return
            stream = self.stream or sys.stdout
            try:
                stream.write(text)
                stream.flush()
            except (BrokenPipeError, ValueError):
                self._closed = True


def progress_option(f):
    """``--progress bars|json`` of the commands that report progress."""
    return click.option(
        "--progress",
        "progress_mode",
        type=click.Choice(PROGRESS_MODES),
        default="bars",
        show_default=True,
        help="bars: a bar per stage; json: one JSON object per progress event on stdout "
        '({"stage", "done", "total", "note", "item"}), nothing else on stdout (for programs).',
    )(f)


def progress_display(mode: str) -> ProgressBars | JsonLines:
    """The display of ``--progress mode`` (a context manager to call with events)."""
    return JsonLines() if mode == "json" else ProgressBars()


def report_console(mode: str) -> Console:
    """Where a command prints its results: stdout, but stderr with ``--progress json`` (stdout
    holds only the events)."""
    if mode == "json":
        return Console(highlight=False, emoji=False, stderr=True)
    return console
