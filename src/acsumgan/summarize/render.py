"""A summary written again from its analysis and a person's edits, with no model call:
:func:`render_summary` (``acsumgan render``).

The summary folder's ``analysis.h5`` (:mod:`.analysis`) gives the shots and scores; the
edits (``edits.json``, :mod:`.edits`) what to keep: without edits, the model's choice at
the summary's own length. summary.mp4, segments.json, scores.png, analysis.h5,
summary.html and thumbs/ are written through the summary's staging unit
(:mod:`.unit`), so an interrupted render (an error, Ctrl-C, SIGTERM, SIGKILL) leaves the
previous summary whole, and the folder's manifest (:mod:`.ownership`): only files
acsumgan wrote are replaced, anything else in the way is a refusal before any work.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError, OutputError
from ..locks import hold_lock
from ..progress import Progress, for_item, report
from .analysis import ANALYSIS_FILE, load_summary, source_changed
from .edits import EDITS_FILE, check_edits, edited_summary, own_options, read_edits, read_edits_file
from .options import SummarizeOptions
from .outputs import SummaryFiles, write_review_page, write_summary
from .ownership import MARKER, Manifest
from .summary import Summary, reselect
from .unit import MEMBERS, summary_unit

__all__ = ["render_summary", "summary_to_render"]


def summary_to_render(folder: str | os.PathLike, edits_path: str | os.PathLike | None = None) -> Summary:
    """The Summary :func:`render_summary` writes: the folder's analysis with the edits of
    ``edits_path`` (default ``folder/edits.json``; none: the model's choice at the
    summary's own length). One-line ConfigErrors for a missing analysis, bad edits."""
    folder = Path(folder)
    summary = load_summary(folder)
    if edits_path is not None:
        data, where = read_edits_file(edits_path), Path(edits_path)
    else:
        data, where = read_edits(folder), folder / EDITS_FILE
    if data is None:
        return reselect(summary, own_options(summary))
    return edited_summary(summary, check_edits(summary, data, where))


def _check_folder(folder: Path) -> None:
    """Refuse, before any work, a folder whose outputs acsumgan may not replace."""
    if (folder / MARKER).exists():
        raise OutputError(
            folder,
            "a video's folder of a several-video summarize; render renders a folder of one video "
            "(acsumgan summarize VIDEO --out DIR)",
        )
    manifest = Manifest(folder)
    for name in MEMBERS:
        if not manifest.owns(name):
            raise OutputError(
                folder / name, "exists and was not written by acsumgan; render replaces only its own files"
            )


def render_summary(
    folder: str | os.PathLike,
    edits_path: str | os.PathLike | None = None,
    options: SummarizeOptions | None = None,
    progress: Progress | None = None,
) -> SummaryFiles:
    """Write the summary of ``folder`` (a summary folder of one video, with analysis.h5)
    again from its edits (see the module docstring); ``options``: crf, preset (x264) and
    page of summary.mp4 and summary.html. ``progress`` gets the "encoding" events (``item``
    the video's name) and "summaries" at the end. Returns the files written."""
    folder = Path(folder)
    options = options or SummarizeOptions()
    if not (folder / ANALYSIS_FILE).is_file():
        load_summary(folder)  # the one-line "no analysis.h5" error
    with hold_lock(folder, tree=True):  # one writer: no summarize or render of it meanwhile
        _check_folder(folder)
        target = summary_to_render(folder, edits_path)
        if source_changed(folder, target):
            raise ConfigError(
                target.video_path, "changed since it was summarized (size or modification time); summarize it again"
            )
        if not Path(target.video_path).is_file():
            raise ConfigError(target.video_path, "the source video is gone; render needs it")
        name = target.video_path.name
        item = for_item(progress, name)
        with summary_unit(folder, whole=False, source=target.video_path) as stage:
            files = write_summary(target, stage, options, final=folder, progress=item, analysis=True)
            if options.page:
                write_review_page(files, stage)
    report(progress, "summaries", 1, 1, name, "videos")
    return files
