"""The files of a :class:`~acsumgan.summarize.summary.Summary`: summary.mp4, segments.json,
scores.png, summary.html (with thumbs/) and index.html.

Each writer takes the summary and what it needs besides. A summary is written into a
folder (a staging folder, :mod:`acsumgan.summarize.unit`) and named in the folder where
it will lie (``final``): :class:`SummaryFiles` and :class:`ReviewPage` hold the final
paths, so nothing is renamed after the swap and nothing is looked up on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch

from ..fileio import write_json
from ..media.browser import playable_href, relative_href, write_thumbnails
from ..media.encode import SourceFrames, WriteStats, write_summary_video
from ..media.encode_parts import write_in_parts
from ..media.geometry import Crop
from ..media.reframe import Reframe
from ..pages.plots import write_score_plot
from ..pages.summary import IndexEntry, ShotView, SummaryView, write_index_page, write_summary_page
from ..progress import Progress
from .analysis import ANALYSIS_FILE, write_analysis
from .options import SummarizeOptions
from .reframing import frame_size, reframe_plan, segments_crop, with_saliency
from .summary import Observe, Summary, timed

SUMMARY_FILE = "summary.mp4"
SEGMENTS_FILE = "segments.json"
PLOT_FILE = "scores.png"
PAGE_FILE = "summary.html"
THUMBS_DIR = "thumbs"
INDEX_FILE = "index.html"


class SummaryPaths:
    """The paths of a summary's files in its ``folder`` (:class:`SummaryFiles`, and the light
    :class:`~acsumgan.summarize.rows.SummaryRow`)."""

    folder: Path

    @property
    def summary_path(self) -> Path:
        return self.folder / SUMMARY_FILE

    @property
    def segments_path(self) -> Path:
        return self.folder / SEGMENTS_FILE

    @property
    def plot_path(self) -> Path:
        return self.folder / PLOT_FILE


@dataclass
class SummaryFiles(SummaryPaths):
    """A summary and its files (summary.mp4, segments.json, scores.png) in ``folder``."""

    summary: Summary
    folder: Path  # where the files lie (after a staging folder is swapped in: the final one)
    segments: dict  # the content of segments.json
    write_stats: WriteStats
    timings: dict = field(default_factory=dict)  # seconds per stage, the summary's and the writing's

    @property
    def out_dir(self) -> Path:
        return self.folder

    @property
    def analysis_path(self) -> Path:
        return self.folder / ANALYSIS_FILE

    def __getattr__(self, name: str):
        """The summary's values (``video_path``, ``extracted``, ``change_points``, ``scores``,
        ``selected``, ``budget``, ``fps``, ``summary_seconds``, ...: :class:`Summary`'s)."""
        if name.startswith("__") or name == "summary":  # copy/pickle probes, and before __init__
            raise AttributeError(name)
        return getattr(self.summary, name)


@dataclass(frozen=True)
class ReviewPage:
    """summary.html and its thumbnails (one per shot, in shot order), where they lie."""

    path: Path
    thumbs: list[Path]


def encode_summary(
    summary: Summary, path: Path, crf: int, preset: str, progress: Progress | None = None, crop: Crop | None = None
) -> WriteStats:
    """summary.mp4: the selected shots in order ("encoding" events to ``progress``), each frame
    cut to its window of ``crop`` when given (reframing)."""
    options = {"source": SourceFrames.of(summary.extracted), "crf": crf, "preset": preset, "progress": progress}
    if crop is not None:  # (without, the writers' arguments stay as they were)
        options["crop"] = crop
    # a long summary is written by one process per core and joined; where parts do not apply, by one writer
    parts = torch.get_num_threads()
    return write_in_parts(summary.video_path, summary.kept_ranges, path, parts=parts, **options) or (
        write_summary_video(summary.video_path, summary.kept_ranges, path, **options)
    )


def segments_content(summary: Summary, stats: WriteStats, plan: Reframe | None = None) -> dict:
    """segments.json: the summary's segments and what writing summary.mp4 gave; reframed
    (``plan``): ``"aspect"`` and ``"reframe"`` at the end and each shot's ``"crop"``
    (``{"keyframes": [[t, x, y, w, h], ...], "by": "model" | "person"}``)."""
    out = {
        **summary.segments,
        "summary_frames_written": stats.frames_written,
        "audio": stats.has_audio,
        "rotation": stats.rotation,
        "sample_aspect_ratio": str(stats.sample_aspect_ratio),
        "summary_width": stats.width,
        "summary_height": stats.height,
    }
    if plan is not None:  # only a reframed summary: else segments.json is as before reframing
        r = segments_crop(summary, plan)
        out["shots"] = [{**shot, "crop": crop} for shot, crop in zip(out["shots"], r["crops"])]
        out["aspect"], out["reframe"] = r["aspect"], r["reframe"]
    return out


def write_segments(path: Path, summary: Summary, stats: WriteStats, plan: Reframe | None = None) -> dict:
    """segments.json at ``path``; returns its content."""
    segments = segments_content(summary, stats, plan)
    write_json(path, segments)
    return segments


def write_plot(path: Path, summary: Summary) -> Path:
    """scores.png: importance over time, kept shots marked, shot boundaries (see
    :func:`acsumgan.pages.plots.score_figure`)."""
    ex = summary.extracted
    at = ex.times.at
    shots = [(at(int(s)), at(int(e) + 1)) for s, e in summary.change_points]
    return write_score_plot(
        path, ex.timestamps, at(ex.n_frames), summary.scores, shots, summary.selected, summary.video_path.name
    )


def write_summary(
    summary: Summary,
    into: Path,
    options: SummarizeOptions,
    final: Path | None = None,
    progress: Progress | None = None,
    observe: Observe | None = None,
    analysis: bool = False,
) -> SummaryFiles:
    """summary.mp4, segments.json and scores.png of ``summary`` written into the folder
    ``into``, named in ``final`` (where ``into`` will be swapped in; default ``into``);
    with ``analysis`` also analysis.h5 (:mod:`.analysis`, before segments.json: what the
    studio and ``acsumgan render`` rebuild the summary from).
    A summary with an aspect other than keep (:attr:`Summary.aspect`) is reframed: its crop
    windows planned (:func:`~.reframing.reframe_plan`, stage "reframe") and summary.mp4 cut
    by them. The stages "encoding" and "outputs" are timed (inside ``observe``)."""
    timings = dict(summary.timings)
    plan = None
    if summary.aspect != "keep":
        with timed(timings, "reframe", observe):
            if (summary.reframe or "follow") == "follow":
                summary = with_saliency(summary)  # (kept in analysis.h5 too)
            plan = reframe_plan(summary, summary.aspect, summary.reframe, summary.crops)
    crop = None if plan is None else plan.crop(summary.extracted.times)
    with timed(timings, "encoding", observe):
        stats = encode_summary(summary, into / SUMMARY_FILE, options.crf, options.preset, progress, crop)
    with timed(timings, "outputs", observe):
        if analysis:
            write_analysis(into / ANALYSIS_FILE, summary)
        segments = write_segments(into / SEGMENTS_FILE, summary, stats, plan)
        write_plot(into / PLOT_FILE, summary)
    return SummaryFiles(summary, Path(final or into), segments, stats, timings)


def write_review_page(files: SummaryFiles, into: Path, thumbs: Sequence[Path] | None = None) -> ReviewPage:
    """summary.html and thumbs/ beside a summary's files, written into ``into`` (the folder
    that becomes ``files.folder``); the link to the source video is relative to
    ``files.folder``. ``thumbs``: the thumbnails, already in ``into/thumbs`` (the same
    shots' of the same video, e.g. ``acsumgan render`` reusing them), one per shot in shot
    order; else they are written (one pass over the video)."""
    s = files.summary
    final = files.folder
    at = s.extracted.times.at
    cps = s.change_points
    if thumbs is not None:
        written = list(thumbs)
    else:
        written = write_thumbnails(s.video_path, [(int(a), int(b)) for a, b in cps], into / THUMBS_DIR)
    thumbs = [final / THUMBS_DIR / p.name for p in written]
    kept = set(int(i) for i in s.selected)
    shots = [
        ShotView(
            index=i + 1,
            start_frame=int(a),
            end_frame=int(b),
            start_seconds=at(int(a)),
            end_seconds=at(int(b) + 1),
            score=s.shot_scores[i],
            kept=i in kept,
            thumbnail=relative_href(thumbs[i], final),
        )
        for i, (a, b) in enumerate(cps)
    ]
    seg = files.segments
    view = SummaryView(
        title=s.video_path.name,
        video_href=playable_href(s.video_path, into, base_dir=final),
        summary_href=relative_href(files.summary_path, final),
        fps=float(s.fps),
        n_frames=int(s.n_frames),
        duration_seconds=at(s.n_frames),
        curve_times=[float(t) for t in s.timestamps],
        curve_scores=[float(x) for x in s.scores],
        shots=shots,
        budget=None if seg.get("seconds_requested") is not None else float(s.budget),
        seconds_requested=seg.get("seconds_requested"),
        summary_seconds=float(files.summary_seconds),
        links={
            "summary.mp4": relative_href(files.summary_path, final),
            "segments.json": relative_href(files.segments_path, final),
            "scores.png": relative_href(files.plot_path, final),
        },
        reframe=_page_reframe(s, seg),
    )
    write_summary_page(into / PAGE_FILE, view)
    return ReviewPage(final / PAGE_FILE, thumbs)


def _page_reframe(summary: Summary, seg: dict) -> dict | None:
    """The review page's crop frame of a reframed summary (its segments.json ``seg``; None:
    not reframed): the upright frame's size and each kept shot's times and keyframes."""
    if "aspect" not in seg:
        return None
    shots = [
        {"start": sh["start_seconds"], "end": sh["end_seconds"], "keyframes": sh["crop"]["keyframes"]}
        for sh in seg["shots"]
    ]
    return {"aspect": seg["aspect"], "frame": list(frame_size(summary)), "shots": shots}


def index_entry(files: SummaryFiles, page: ReviewPage, out: Path) -> IndexEntry:
    """The line of index.html (in ``out``) for one summary: its review page, lengths, shots
    and the thumbnail of its first kept shot; small, so a run of thousands of videos keeps
    these and lets the summaries go."""
    s = files.summary
    first_kept = min(s.selected) if s.selected else 0
    thumb = page.thumbs[first_kept] if first_kept < len(page.thumbs) else None
    return IndexEntry(
        title=s.video_path.name,
        href=relative_href(page.path, out),
        duration_seconds=float(files.segments.get("duration_seconds", s.n_frames / s.fps)),
        summary_seconds=float(files.summary_seconds),
        thumbnail=None if thumb is None else relative_href(thumb, out),
        shots_kept=len(s.selected),
        shots_total=len(s.change_points),
    )


def write_index(out: Path, entries: Sequence[IndexEntry | tuple[SummaryFiles, ReviewPage]]) -> Path:
    """index.html in ``out`` linking every video's review page, one page of cards at a time
    (:func:`~acsumgan.pages.summary.index_html`); ``entries`` from :func:`index_entry` (or
    the (files, page) pairs themselves)."""
    lines = [e if isinstance(e, IndexEntry) else index_entry(*e, out) for e in entries]
    return write_index_page(out / INDEX_FILE, lines)
