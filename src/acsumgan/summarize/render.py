"""A summary written again from its analysis and a person's edits, with no model call:
:func:`render_summary` (``acsumgan render``).

The summary folder's ``analysis.h5`` (:mod:`.analysis`) gives the shots and scores; the
edits (``edits.json``, :mod:`.edits`) what to keep: without edits, the model's choice at
the summary's own length. summary.mp4, segments.json, scores.png, analysis.h5,
summary.html and thumbs/ are written through the summary's staging unit
(:mod:`.unit`), so an interrupted render (an error, Ctrl-C, SIGTERM, SIGKILL) leaves the
previous summary whole, and the folder's record (:mod:`.ownership`): only files
acsumgan wrote are replaced, anything else in the way is a refusal before any work.

The folder is either the output folder of ``acsumgan summarize VIDEO --out DIR`` (the
record: its manifest) or a video's folder of ``acsumgan summarize A B --out DIR``
(``DIR/<video>``, a whole unit; the record: its marker ``.acsumgan-summary.json``). In
the second, the members are committed one by one as in the first, and the marker gets
their new records, so a later ``summarize A B --out DIR`` still finds the folder its own
and replaces it. A file the user added to the folder is left as it is, and is never
recorded: render still works, and a later ``summarize`` leaves that folder alone (the
summary goes to ``DIR/<video>-2``).

The review page's thumbnails (``thumbs/``, one per shot: the shots' middle frames) depend
only on the video and the shots, which an edit does not change: when the folder's
``thumbs/`` are the ones acsumgan wrote with its ``analysis.h5`` (unchanged, one per shot)
and the shots are the same (:func:`~.analysis.analysis_digest`), they are linked (or
copied) into the new summary instead of decoding the whole video again
(:func:`reusable_thumbs`).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

from ..errors import ConfigError, OutputError
from ..locks import hold_lock
from ..progress import Progress, for_item, report
from .analysis import ANALYSIS_FILE, analysis_digest, load_summary, source_changed
from .edits import EDITS_FILE, check_edits, edited_summary, own_options, read_edits, read_edits_file
from .options import SummarizeOptions, check_aspect, check_reframe
from .outputs import THUMBS_DIR, SummaryFiles, write_review_page, write_summary
from .ownership import MARKER, Manifest, Marker, occupied
from .summary import Summary, reselect
from .unit import MEMBERS, summary_unit

__all__ = ["render_summary", "reusable_thumbs", "summary_to_render"]


def summary_to_render(
    folder: str | os.PathLike,
    edits_path: str | os.PathLike | None = None,
    aspect: str | None = None,
    reframe: str | None = None,
) -> Summary:
    """The Summary :func:`render_summary` writes: the folder's analysis with the edits of
    ``edits_path`` (default ``folder/edits.json``; none: the model's choice at the
    summary's own length and shape). ``aspect`` / ``reframe`` (``render --aspect``,
    ``--reframe``; None: the edits', else the summary's own) replace the shape; a person's
    windows (edits' crops) are kept only when the aspect stays. One-line ConfigErrors for
    a missing analysis, bad edits, a bad aspect."""
    folder = Path(folder)
    if aspect is not None or reframe is not None:  # checked before any reading
        aspect_given = None if aspect is None else check_aspect(aspect)
        check_reframe(reframe, aspect_given or "9:16")
    summary = load_summary(folder)
    if edits_path is not None:
        data, where = read_edits_file(edits_path), Path(edits_path)
    else:
        data, where = read_edits(folder), folder / EDITS_FILE
    if data is None:
        target = reselect(summary, own_options(summary))
    else:
        target = edited_summary(summary, check_edits(summary, data, where))
    if aspect is None and reframe is None:
        return target
    new_aspect = target.aspect if aspect is None else check_aspect(aspect)
    if new_aspect == "keep":
        if reframe is not None:
            check_reframe(reframe, "keep")  # the one-line refusal
        return replace(target, aspect="keep", reframe=None, crops=None)
    crops = target.crops if new_aspect == target.aspect else None
    return replace(target, aspect=new_aspect, reframe=reframe or target.reframe or "follow", crops=crops)


def thumb_names(n_shots: int) -> list[str]:
    """The file names :func:`acsumgan.media.browser.write_thumbnails` gives ``n_shots`` thumbnails."""
    digits = max(4, len(str(n_shots)))
    return [f"shot{i + 1:0{digits}d}.jpg" for i in range(n_shots)]


def reusable_thumbs(folder: str | os.PathLike, target: Summary) -> list[Path] | None:
    """``folder``'s thumbnails (in shot order) when they are those of ``target``'s shots:
    ``folder/thumbs`` holds exactly one regular file per shot, by its name, and the folder's
    analysis has ``target``'s digest (the same shots and scores of the same video; the
    caller has checked that the folder's files are acsumgan's and the video unchanged).
    None when they must be written again."""
    folder = Path(folder)
    thumbs = folder / THUMBS_DIR
    names = thumb_names(len(target.change_points))
    try:
        if thumbs.is_symlink() or not thumbs.is_dir():
            return None
        have = sorted(p.name for p in thumbs.iterdir())
        if have != sorted(names) or not all((thumbs / n).is_file() and not (thumbs / n).is_symlink() for n in names):
            return None
    except OSError:
        return None
    if analysis_digest(load_summary(folder)) != analysis_digest(target):
        return None
    return [thumbs / n for n in names]


def _link_thumbs(thumbs: list[Path], into: Path) -> list[Path]:
    """Hard links (else copies) of ``thumbs`` in ``into``: the same bytes, no decoding."""
    into.mkdir(exist_ok=True)
    out = []
    for p in thumbs:
        q = into / p.name
        try:
            os.link(p, q)
        except OSError:
            shutil.copy2(p, q)
        out.append(q)
    return out


def _check_folder(folder: Path) -> None:
    """Refuse, before any work, a folder whose outputs acsumgan may not replace (its record:
    the marker of a several-video summarize's folder, else the manifest)."""
    record = Marker(folder) if occupied(folder / MARKER) else Manifest(folder)
    for name in MEMBERS:
        if not record.owns(name):
            raise OutputError(
                folder / name, "exists and was not written by acsumgan; render replaces only its own files"
            )


def render_summary(
    folder: str | os.PathLike,
    edits_path: str | os.PathLike | None = None,
    options: SummarizeOptions | None = None,
    progress: Progress | None = None,
    *,
    aspect: str | None = None,
    reframe: str | None = None,
) -> SummaryFiles:
    """Write the summary of ``folder`` (a summary folder of one video, with analysis.h5:
    ``summarize VIDEO --out folder``, or ``folder`` = ``DIR/<video>`` of ``summarize A B
    --out DIR``) again from its edits (see the module docstring); ``options``: crf, preset (x264) and
    page of summary.mp4 and summary.html. ``progress`` gets the "encoding" events (``item``
    the video's name) and "summaries" at the end. ``aspect``, ``reframe``: another shape
    (:func:`summary_to_render`; None: the edits', else the summary's own). Returns the
    files written."""
    folder = Path(folder)
    options = options or SummarizeOptions()
    if not (folder / ANALYSIS_FILE).is_file():
        load_summary(folder)  # the one-line "no analysis.h5" error
    with hold_lock(folder, tree=True):  # one writer: no summarize or render of it meanwhile
        _check_folder(folder)
        target = summary_to_render(folder, edits_path, aspect, reframe)
        if source_changed(folder, target):
            raise ConfigError(
                target.video_path, "changed since it was summarized (size or modification time); summarize it again"
            )
        if not Path(target.video_path).is_file():
            raise ConfigError(target.video_path, "the source video is gone; render needs it")
        name = target.video_path.name
        item = for_item(progress, name)
        reuse = reusable_thumbs(folder, target) if options.page else None
        with summary_unit(folder, whole=False, source=target.video_path) as stage:
            files = write_summary(target, stage, options, final=folder, progress=item, analysis=True)
            if options.page:
                linked = _link_thumbs(reuse, stage / THUMBS_DIR) if reuse is not None else None
                write_review_page(files, stage, thumbs=linked)
    report(progress, "summaries", 1, 1, name, "videos")
    return files
