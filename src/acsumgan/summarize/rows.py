"""One line per summarized video (:class:`SummaryRow`): what ``summarize`` reports and the
index links, small enough to keep for thousands of videos (the summaries themselves,
features included, go once written). A row is also kept in the marker of the video's
folder (:func:`row_record`), so a later call that finds the summary up to date reuses it
without reading the video again."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from ..pages.summary import IndexEntry
from .outputs import PAGE_FILE, ReviewPage, SummaryFiles, SummaryPaths, index_entry


@dataclass
class SummaryRow(SummaryPaths):
    """One video's summary, in its folder: lengths, shots, and its line of index.html."""

    video: str  # the video file's name
    folder: Path  # where summary.mp4, segments.json ... lie
    duration_seconds: float
    shots: int
    kept: int
    summary_seconds: float
    page: bool  # summary.html was written
    index: IndexEntry | None  # the line of index.html (several videos, with a page)
    reused: bool = False  # up to date: taken from an earlier call

    @property
    def page_path(self) -> Path | None:
        return self.folder / PAGE_FILE if self.page else None


def summary_row(files: SummaryFiles, page: ReviewPage | None, out: Path | None) -> SummaryRow:
    """The row of a summary just written (``out``: the folder of index.html, None: no index)."""
    s = files.summary
    return SummaryRow(
        video=s.video_path.name,
        folder=files.folder,
        duration_seconds=float(files.segments.get("duration_seconds") or s.n_frames / s.fps),
        shots=len(s.change_points),
        kept=len(s.selected),
        summary_seconds=float(files.summary_seconds),
        page=page is not None,
        index=None if page is None or out is None else index_entry(files, page, out),
    )


def row_record(row: SummaryRow) -> dict:
    """The row as JSON values (the folder is not kept: it is where the record lies)."""
    d = asdict(row)
    del d["folder"], d["reused"]
    return d


def row_of_record(record: dict, folder: Path) -> SummaryRow | None:
    """The row a marker keeps (:func:`row_record`), in ``folder``; None when malformed."""
    try:
        index = record.get("index")
        return SummaryRow(
            video=str(record["video"]),
            folder=Path(folder),
            duration_seconds=float(record["duration_seconds"]),
            shots=int(record["shots"]),
            kept=int(record["kept"]),
            summary_seconds=float(record["summary_seconds"]),
            page=bool(record["page"]),
            index=None if index is None else IndexEntry(**index),
            reused=True,
        )
    except (KeyError, TypeError, ValueError):
        return None
