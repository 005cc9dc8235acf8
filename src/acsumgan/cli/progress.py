"""The command line's one progress display: a rich bar per stage of :class:`~acsumgan.progress.Event` s."""

from __future__ import annotations

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
