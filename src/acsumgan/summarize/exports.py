"""A summary folder's shots for an editor: an edit decision list, or a contact sheet.

:func:`export_summary` reads ``segments.json`` of a folder ``acsumgan summarize`` wrote
and writes one file (atomically):

- ``otio``: an OpenTimelineIO timeline (``.otio``): one video track, one clip per kept
  shot, in order, each the shot's frame range of the source video;
- ``edl``: the same timeline as a CMX 3600 EDL (OTIO's ``cmx_3600`` adapter); it needs a
  SMPTE timecode rate (24, 25, 30, 29.97, ...): other rates are a one-line ConfigError;
- ``fcpxml``: the same timeline as Final Cut Pro 7 XML (OTIO's ``fcp_xml`` adapter),
  which Premiere and Resolve read too; it needs a SMPTE rate too;
- ``contact-sheet``: one JPEG of the kept shots' middle frames
  (:func:`acsumgan.media.sheet.write_contact_sheet`);
- ``gif``, ``webp``: an animated preview of the kept ranges, played in order
  (:func:`acsumgan.media.preview.write_preview`: 320 pixels wide, 6 frames per second,
  at most 8 MB by default; fewer frames per second, then narrower, until it fits).

An edited summary's segments.json (``acsumgan render``) is read as it is: its shots are
the kept, trimmed ranges.

The timelines count frames at the video's ``fps`` (segments.json): a clip's source range
starts at ``start_frame`` and lasts ``n_frames``, so reading one back gives the same frame
ranges to the frame. (A variable-rate video's frames are counted at its average rate, as
an editor would count them.)

A file written inside the summary folder (the default names, the studio's ``exports/``)
is entered in the folder's record (:func:`acsumgan.summarize.ownership.recorded`: the
manifest of ``summarize VIDEO --out DIR``, the marker of ``DIR/<video>`` of a several-video
summarize), so the next export replaces it without ``force``. An existing file that
acsumgan did not write, or that changed since, is refused unless ``force`` (with it:
replaced, and recorded as acsumgan's).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import opentimelineio as otio

from ..errors import ConfigError, OutputError
from ..fileio import atomic_path
from ..media.preview import DEFAULT_FPS, DEFAULT_MAX_BYTES, DEFAULT_WIDTH, write_preview
from ..media.sheet import write_contact_sheet
from .ownership import MANIFEST, MARKER, occupied, recorded, records_of

__all__ = ["DEFAULT_NAMES", "FORMATS", "export_summary", "load_segments", "source_video", "timeline_of"]

#: Export formats -> OTIO adapter name (None: not a timeline).
FORMATS: dict[str, str | None] = {
    "otio": "otio_json",
    "edl": "cmx_3600",
    "fcpxml": "fcp_xml",
    "gif": None,
    "webp": None,
    "contact-sheet": None,
}
#: The file each format writes into the summary folder when no ``out`` is given.
DEFAULT_NAMES = {
    "otio": "summary.otio",
    "edl": "summary.edl",
    "fcpxml": "summary.xml",
    "gif": "summary.gif",
    "webp": "summary.webp",
    "contact-sheet": "shots.jpg",
}
#: Frame rates a CMX 3600 timecode can count (OTIO's SMPTE rates).
SMPTE_RATES = (23.976, 24.0, 25.0, 29.97, 30.0, 47.952, 48.0, 50.0, 59.94, 60.0)


def load_segments(folder: str | os.PathLike) -> dict:
    """The content of ``folder/segments.json``; a one-line ConfigError when the folder has
    none or it is not a summary's."""
    path = Path(folder) / "segments.json"
    if not path.is_file():
        raise ConfigError(Path(folder), "no segments.json here: not a folder `acsumgan summarize` wrote")
    try:
        seg = json.loads(path.read_text(encoding="utf-8"))
        shots = seg["shots"]
        float(seg["fps"])
        [(int(s["start_frame"]), int(s["n_frames"])) for s in shots]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            path, f"not a summary's segments.json ({type(exc).__name__}: {exc})".splitlines()[0]
        ) from None
    if not shots:
        raise ConfigError(path, "no kept shot to export")
    return seg


def _media_url(video: str) -> str:
    p = Path(video)
    return p.resolve().as_uri() if p.exists() else video


def timeline_of(seg: dict) -> otio.schema.Timeline:
    """The OTIO timeline of a segments.json's content: one clip per kept shot, in order."""
    fps = float(seg["fps"])
    video = str(seg["video"])
    media = otio.schema.ExternalReference(
        target_url=_media_url(video),
        available_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, fps), otio.opentime.RationalTime(int(seg["n_frames"]), fps)
        ),
    )
    track = otio.schema.Track(name="summary", kind=otio.schema.TrackKind.Video)
    for s in seg["shots"]:
        clip = otio.schema.Clip(
            name=f"shot {int(s['shot']) + 1}",
            media_reference=media.clone(),
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(int(s["start_frame"]), fps),
                otio.opentime.RationalTime(int(s["n_frames"]), fps),
            ),
        )
        track.append(clip)
    timeline = otio.schema.Timeline(name=f"{Path(video).stem} summary")
    timeline.global_start_time = otio.opentime.RationalTime(0, fps)
    timeline.tracks.append(track)
    return timeline


def _check_rate(fmt: str, fps: float, where: Path) -> None:
    if fmt in ("edl", "fcpxml") and not any(abs(fps - r) < 0.01 for r in SMPTE_RATES):
        what = "a CMX 3600 EDL" if fmt == "edl" else "an FCP 7 XML"
        raise ConfigError(
            where, f"{what} needs a timecode rate (24, 25, 30, ...), this video has {fps:g} fps; export otio instead"
        )


def source_video(folder: Path, seg: dict) -> Path:
    """The source video of a summary folder: segments.json's ``video``; where that (relative)
    path does not lead to it from here, the absolute path analysis.h5 records."""
    p = Path(seg["video"])
    if p.is_absolute() or p.exists():
        return p
    try:
        with h5py.File(folder / "analysis.h5", "r") as h5:
            q = Path(os.fsdecode(bytes(h5.attrs["video_abs"])))
    except (OSError, KeyError, TypeError):
        return p
    return q if q.exists() else p


def export_summary(
    folder: str | os.PathLike,
    fmt: str,
    out: str | os.PathLike | None = None,
    force: bool = False,
    *,
    width: int = DEFAULT_WIDTH,
    fps: float = DEFAULT_FPS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Path:
    """Write ``folder``'s kept shots as ``fmt`` (see :data:`FORMATS`) to ``out`` (default:
    :data:`DEFAULT_NAMES` in the folder); the path written. ``width``, ``fps`` and
    ``max_bytes``: a gif or webp preview's (see :func:`~acsumgan.media.preview.write_preview`).
    One-line errors: an unknown format, a folder without segments.json, an existing ``out``
    without ``force``."""
    if fmt not in FORMATS:
        raise ConfigError(None, f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    folder = Path(folder)
    seg = load_segments(folder)
    target = Path(out) if out is not None else folder / DEFAULT_NAMES[fmt]
    if target.is_dir():
        raise OutputError(target, "is a folder; give a file name")
    rel = _name_inside(folder, target)
    if rel in (MARKER, MANIFEST):
        raise OutputError(target, "is acsumgan's record of the folder; give another file name")
    if occupied(target) and not force:
        record = records_of(folder) if rel is not None else None
        if record is None or not record.owns(rel):
            raise OutputError(target, "exists; --force replaces it (acsumgan did not write it, or it changed since)")
    _check_rate(fmt, float(seg["fps"]), folder / "segments.json")
    if rel is None:
        return _write_export(folder, seg, fmt, target, width, fps, max_bytes)
    with recorded(folder, [rel]):
        return _write_export(folder, seg, fmt, target, width, fps, max_bytes)


def _name_inside(folder: Path, target: Path) -> str | None:
    """``target``'s name relative to ``folder`` (``summary.otio``, ``exports/summary.gif``)
    when it lies inside it (after following links of its folder), else None."""
    try:
        rel = target.parent.resolve().relative_to(folder.resolve()) / target.name
    except (OSError, ValueError):
        return None
    return rel.as_posix()


def _write_export(folder: Path, seg: dict, fmt: str, target: Path, width: int, fps: float, max_bytes: int) -> Path:
    ranges = [(int(s["start_frame"]), int(s["end_frame"])) for s in seg["shots"]]
    if fmt == "contact-sheet":
        return write_contact_sheet(source_video(folder, seg), ranges, target)
    if fmt in ("gif", "webp"):
        video = source_video(folder, seg)
        write_preview(
            video, ranges, target, fmt=fmt, source_fps=float(seg["fps"]), width=width, fps=fps, max_bytes=max_bytes
        )
        return target
    text = otio.adapters.write_to_string(timeline_of(seg), adapter_name=FORMATS[fmt])
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target
