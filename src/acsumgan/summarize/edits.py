"""A person's edits of a summary: ``edits.json`` beside it.

::

    {
      "format": "acsumgan-edits/1",
      "version": 3,              # +1 on every save; 0: never saved (the model's choice)
      "analysis": "3f2a9c...",   # analysis_digest of the summary it was made on
      "video": "clip.mp4",       # the source's file name (display only)
      "length": {"mode": "preset", "value": 60.0, "preset": "short-60"},
      "model_selected": [2, 5, 7],
      "kept": [{"shot": 2, "start_frame": 120, "end_frame": 180}, ...],
      "saved_at": "2026-12-06T23:59:00Z"
    }

Reframed (optional keys): ``"aspect"`` (``"keep"`` or ``"W:H"``; absent: keep) and
``"reframe"`` (``"follow"`` | ``"center"``; absent: follow) at the top, and per kept entry
``"crop": {"x", "y", "w", "h"}``, a person's fixed window for that shot (upright pixels,
the aspect's window size; absent: the planned path, :mod:`.reframing`).

``length``: ``mode`` "preset" (``preset`` a name of :data:`~.presets.PRESETS`, ``value`` its
seconds), "seconds" (``value`` seconds) or "percent" (``value`` in (0, 100] of the video);
``model_selected``: the shots the model chose at that length (ascending); ``kept``: what
the summary keeps, one entry per kept shot, ascending, each an inclusive frame range
inside that shot (a trim). A kept shot is "chosen by the model" when the model chose it
and it is untrimmed, else "by the person" (added, or trimmed).

:func:`model_edits` is the model's choice at a length (version 0); :func:`check_edits`
validates and normalises edits against the summary they were made on; :func:`read_edits`
and :func:`save_edits` read and write ``edits.json`` (a save is refused with
:class:`EditConflict` unless it was made on the version saved: two tabs never mix);
:func:`edited_summary` is the :class:`~.summary.Summary` the edits describe, what
:func:`acsumgan.summarize.render.render_summary` writes.

``edits.json`` and its lock file ``.edits.json.lock`` are entered in the summary folder's
record (its manifest, or the marker of a several-video summarize's folder:
:func:`acsumgan.summarize.ownership.recorded`), so they stay acsumgan's: a later
``summarize`` of several videos still replaces that folder, and takes the edits over into
the new one (:data:`acsumgan.summarize.unit.CARRIED`). An ``edits.json`` changed by hand
is replaced by a save made on its version (the version check is the guard; the file is
the person's edits either way).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import threading
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import AcsumganError, ConfigError, OutputError
from ..fileio import output_error, write_json
from ..media.reframe import MODES, aspect_text, parse_aspect
from .analysis import analysis_digest
from .options import SummarizeOptions
from .ownership import recorded, records_of
from .presets import PRESETS
from .reframing import check_crop
from .summary import (
    Summary,
    build_segments,
    mean_shot_scores,
    reselect,
    resolve_budget,
    resolve_max_shot_seconds,
)

__all__ = [
    "EDITS_FILE",
    "FORMAT",
    "EditConflict",
    "check_edits",
    "check_length",
    "edited_summary",
    "length_options",
    "model_edits",
    "own_options",
    "read_edits",
    "save_edits",
    "summary_length",
]

EDITS_FILE = "edits.json"
#: The lock file of edits.json (fcntl.flock), beside it.
LOCK_FILE = f".{EDITS_FILE}.lock"
FORMAT = "acsumgan-edits/1"
LENGTH_MODES = ("preset", "seconds", "percent")
#: The keys of edits.json, in the order they are written.
KEYS = ("format", "version", "analysis", "video", "length", "model_selected", "kept", "saved_at")
#: Optional keys (reframing), written after ``length`` when present.
REFRAME_KEYS = ("aspect", "reframe")


def _ordered(data: dict) -> dict:
    """``data``'s keys of :data:`KEYS` in order, the reframing keys after ``length`` when present."""
    out = {}
    for k in KEYS:
        out[k] = data.get(k)
        if k == "length":
            out.update({r: data[r] for r in REFRAME_KEYS if r in data})
    return out


class EditConflict(AcsumganError):
    """A save made on a version of edits.json that is not the one saved (edited elsewhere)."""

    exit_code = 14


# --- the length ------------------------------------------------------------------------------


def _number(value, what: str, where) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise ConfigError(where, f"{what} must be a finite number, got {value!r}"[:200])
    return float(value)


def check_length(length, where=None) -> dict:
    """``length`` checked and normalised: ``{"mode", "value", "preset"}`` (a preset's value is
    its seconds; preset None for the other modes); a one-line ConfigError naming ``where``."""
    if not isinstance(length, dict):
        raise ConfigError(where, "length must be an object {mode, value, preset}")
    mode = length.get("mode")
    if mode not in LENGTH_MODES:
        raise ConfigError(where, f"length mode must be one of {', '.join(LENGTH_MODES)}, got {mode!r}"[:200])
    if mode == "preset":
        name = length.get("preset")
        if not isinstance(name, str) or name not in PRESETS:
            raise ConfigError(where, f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}"[:200])
        return {"mode": "preset", "value": float(PRESETS[name].seconds), "preset": name}
    value = _number(length.get("value"), f"length value ({mode})", where)
    if mode == "seconds" and not value > 0:
        raise ConfigError(where, f"length in seconds must be > 0, got {value:g}")
    if mode == "percent" and not 0 < value <= 100:
        raise ConfigError(where, f"length in percent must be in (0, 100], got {value:g}")
    return {"mode": mode, "value": value, "preset": None}


def length_options(length: dict, base: SummarizeOptions | None = None) -> SummarizeOptions:
    """The options of ``base`` (default :class:`SummarizeOptions`) at the length ``length``
    (see the module docstring); a one-line ConfigError for a bad length."""
    length = check_length(length)
    base = base or SummarizeOptions()
    if length["mode"] == "preset":
        return replace(base, length_preset=length["preset"], seconds=None)
    if length["mode"] == "seconds":
        return replace(base, seconds=length["value"], length_preset=None)
    return replace(base, budget=length["value"] / 100.0, seconds=None, length_preset=None)


def summary_length(summary: Summary) -> dict:
    """The length a summary was made at: a preset when its seconds are a preset's, else its
    seconds, else its budget in percent."""
    if summary.seconds is not None:
        for name, p in PRESETS.items():
            if float(p.seconds) == float(summary.seconds):
                return {"mode": "preset", "value": float(p.seconds), "preset": name}
        return {"mode": "seconds", "value": float(summary.seconds), "preset": None}
    return {"mode": "percent", "value": round(float(summary.budget) * 100.0, 9), "preset": None}


def own_options(summary: Summary, base: SummarizeOptions | None = None) -> SummarizeOptions:
    """Options that give ``summary`` back through :func:`~.summary.reselect` (its own budget
    or seconds and its maximum shot length)."""
    base = replace(base or SummarizeOptions(), aspect=summary.aspect, reframe=summary.reframe)
    if summary.seconds is not None:
        return replace(base, seconds=summary.seconds, length_preset=None, max_shot_seconds=summary.max_shot_seconds)
    return replace(
        base, budget=summary.budget, seconds=None, length_preset=None, max_shot_seconds=summary.max_shot_seconds
    )


# --- the edits ------------------------------------------------------------------------------


def _whole(summary: Summary, shots) -> list[dict]:
    cps = summary.change_points
    return [{"shot": int(i), "start_frame": int(cps[i, 0]), "end_frame": int(cps[i, 1])} for i in shots]


def model_edits(summary: Summary, length: dict | None = None) -> dict:
    """The model's choice at ``length`` (default: the summary's own length) as edits of
    version 0: the chosen shots kept whole. A ConfigError when no shot fits the length."""
    if length is None:
        length = summary_length(summary)
        options = own_options(summary)
    else:
        length = check_length(length)
        options = length_options(length)
    model = reselect(summary, options)
    out = {
        "format": FORMAT,
        "version": 0,
        "analysis": analysis_digest(summary),
        "video": summary.video_path.name,
        "length": length,
        "model_selected": [int(i) for i in model.selected],
        "kept": _whole(summary, model.selected),
        "saved_at": None,
    }
    if summary.aspect != "keep":  # the summary's own shape (absent: keep, as before reframing)
        out["aspect"], out["reframe"] = summary.aspect, summary.reframe or "follow"
    return _ordered(out)


def _int(value, what: str, where) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(where, f"{what} must be an integer, got {value!r}"[:200])
    return int(value)


def _shot_list(value, what: str, n_shots: int, where) -> list[int]:
    if not isinstance(value, list):
        raise ConfigError(where, f"{what} must be a list of shot indices")
    out = [_int(v, f"{what} entry", where) for v in value]
    for i in out:
        if not 0 <= i < n_shots:
            raise ConfigError(where, f"{what}: unknown shot {i} (the video has {n_shots} shots, 0 to {n_shots - 1})")
    if any(b <= a for a, b in zip(out, out[1:])):
        raise ConfigError(where, f"{what} must be ascending without repeats, got {out}"[:200])
    return out


def check_edits(summary: Summary, data, where) -> dict:
    """``data`` (edits made on ``summary``) checked and normalised (the keys of
    :data:`KEYS` in order, the length normalised, unknown keys dropped): a one-line
    ConfigError naming ``where`` for a wrong format, another summary's edits (analysis
    digest), a length that is not one, an unknown shot, a trim outside its shot or with
    start after end, kept shots not ascending or repeated, nothing kept."""
    if not isinstance(data, dict):
        raise ConfigError(where, "edits must be a JSON object")
    if data.get("format") != FORMAT:
        raise ConfigError(where, f"not acsumgan edits (format must be {FORMAT!r}, got {data.get('format')!r})"[:200])
    version = _int(data.get("version"), "version", where)
    if version < 0:
        raise ConfigError(where, f"version must be >= 0, got {version}")
    digest = analysis_digest(summary)
    if data.get("analysis") != digest:
        raise ConfigError(
            where,
            f"made on another analysis of the video ({str(data.get('analysis'))[:20]!r}, this summary is "
            f"{digest!r}): summarize again or start from the model's choice",
        )
    video = data.get("video", summary.video_path.name)
    if not isinstance(video, str):
        raise ConfigError(where, "video must be a file name (text)")
    length = check_length(data.get("length"), where)
    cps = np.asarray(summary.change_points, dtype=np.int64)
    n_shots = int(cps.shape[0])
    model_selected = _shot_list(data.get("model_selected"), "model_selected", n_shots, where)
    aspect, reframe = _check_reframe(data, where)
    kept_in = data.get("kept")
    if not isinstance(kept_in, list):
        raise ConfigError(where, "kept must be a list of {shot, start_frame, end_frame}")
    if not kept_in:
        raise ConfigError(where, "kept is empty: a summary keeps at least one shot")
    kept = []
    for k in kept_in:
        if not isinstance(k, dict):
            raise ConfigError(where, "each kept entry must be an object {shot, start_frame, end_frame}")
        shot = _int(k.get("shot"), "kept shot", where)
        if not 0 <= shot < n_shots:
            raise ConfigError(where, f"kept: unknown shot {shot} (the video has {n_shots} shots, 0 to {n_shots - 1})")
        a, b = int(cps[shot, 0]), int(cps[shot, 1])
        s = _int(k.get("start_frame", a), f"kept shot {shot} start_frame", where)
        e = _int(k.get("end_frame", b), f"kept shot {shot} end_frame", where)
        if s > e:
            raise ConfigError(where, f"kept shot {shot}: start_frame {s} is after end_frame {e}")
        if s < a or e > b:
            raise ConfigError(where, f"kept shot {shot}: frames {s}-{e} are outside the shot (frames {a}-{b})")
        if kept and shot <= kept[-1]["shot"]:
            what = "repeated" if shot == kept[-1]["shot"] else "not ascending"
            raise ConfigError(where, f"kept: shot {shot} is {what} (one entry per shot, in order)")
        entry = {"shot": shot, "start_frame": s, "end_frame": e}
        if k.get("crop") is not None:
            if aspect == "keep":
                raise ConfigError(where, f"kept shot {shot}: a crop needs an aspect other than keep")
            entry["crop"] = check_crop(summary, aspect, k["crop"], where)
        kept.append(entry)
    saved_at = data.get("saved_at")
    if saved_at is not None and not isinstance(saved_at, str):
        raise ConfigError(where, "saved_at must be a time (text) or null")
    out = {
        "format": FORMAT,
        "version": version,
        "analysis": digest,
        "video": video,
        "length": length,
        "model_selected": model_selected,
        "kept": kept,
        "saved_at": saved_at,
    }
    if "aspect" in data:
        out["aspect"] = aspect
        if aspect != "keep":
            out["reframe"] = reframe
    return _ordered(out)


def _check_reframe(data: dict, where) -> tuple[str, str | None]:
    """(aspect, reframe) of edits: ``"keep"`` and None when absent; reframe follow by default."""
    raw = data.get("aspect", "keep")
    if not isinstance(raw, str):
        raise ConfigError(where, f"aspect must be keep or W:H (text), got {raw!r}"[:200])
    try:
        aspect = aspect_text(parse_aspect(raw))
    except ConfigError as exc:
        raise ConfigError(where, exc.problem) from None
    reframe = data.get("reframe")
    if reframe is not None and reframe not in MODES:
        raise ConfigError(where, f"reframe must be one of {', '.join(MODES)}, got {reframe!r}"[:200])
    return aspect, (None if aspect == "keep" else reframe or "follow")


def _loose_check(data, path: Path) -> dict:
    """What can be checked of edits without their summary (a corrupt file is one line)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(path, f"corrupt edits file (not {FORMAT})")
    v = data.get("version")
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ConfigError(path, f"corrupt edits file (version {v!r})"[:200])
    if not isinstance(data.get("kept"), list) or not isinstance(data.get("length"), dict):
        raise ConfigError(path, "corrupt edits file (no kept list or length)")
    return data


def read_edits_file(path: str | os.PathLike) -> dict:
    """The edits of a file (any name: ``render --edits``); a one-line ConfigError when it is
    missing or not edits. Check them against their summary with :func:`check_edits`."""
    path = Path(path)
    try:
        raw = path.read_bytes()[: 64 << 20]
    except FileNotFoundError:
        raise ConfigError(path, "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, "is a folder, expected an edits file (edits.json)") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot read ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(path, f"corrupt edits file (not JSON: {exc})".splitlines()[0]) from None
    return _loose_check(data, path)


def read_edits(folder: str | os.PathLike) -> dict | None:
    """``folder/edits.json``, or None when there is none; a one-line ConfigError when corrupt."""
    path = Path(folder) / EDITS_FILE
    if not os.path.lexists(path):
        return None
    return read_edits_file(path)


#: One lock per edits file for the threads of this process (the file lock covers processes).
_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@contextlib.contextmanager
def edits_lock(folder: str | os.PathLike) -> Iterator[None]:
    """Hold the lock of ``folder/edits.json``: a thread lock (this process) and an OS file
    lock (``fcntl.flock`` on ``folder/.edits.json.lock``: other processes); waits for it."""
    folder = Path(folder)
    key = os.path.realpath(folder / EDITS_FILE)
    with _thread_locks_guard:
        tlock = _thread_locks.setdefault(key, threading.Lock())
    with tlock:
        path = folder / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
        except FileNotFoundError:
            fd = _new_lock_file(folder, path)
        except OSError as exc:
            raise output_error(path, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # drops the flock


def _new_lock_file(folder: Path, path: Path) -> int:
    """Create the lock file (entered in the folder's record) and open it."""
    try:
        with recorded(folder, [LOCK_FILE]):
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise output_error(path, exc) from None


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def save_edits(folder: str | os.PathLike, data: dict, base_version: int) -> dict:
    """Save ``data`` (edits, checked by the caller with :func:`check_edits`) as
    ``folder/edits.json``, made on version ``base_version`` of it (0: none saved yet):
    under :func:`edits_lock`, an :class:`EditConflict` unless the saved version is
    ``base_version``, else written atomically with ``version`` base_version + 1 and
    ``saved_at`` now (UTC). Returns what was written."""
    folder = Path(folder)
    path = folder / EDITS_FILE
    if isinstance(base_version, bool) or not isinstance(base_version, int) or base_version < 0:
        raise ConfigError(path, f"base version must be an integer >= 0, got {base_version!r}"[:200])
    _loose_check({**data, "version": 0}, path)
    if not folder.is_dir():
        raise OutputError(folder, "no such summary folder")
    with edits_lock(folder):
        saved = read_edits(folder)
        have = 0 if saved is None else int(saved["version"])
        if have != base_version:
            raise EditConflict(
                path, f"edited elsewhere: version {have} is saved, this edit was made on version {base_version}; reload"
            )
        out = _ordered(data)
        out["format"] = FORMAT
        out["version"] = base_version + 1
        out["saved_at"] = _utc_now()
        record = records_of(folder)
        lock = folder / LOCK_FILE
        if record is not None and not record.owns(LOCK_FILE) and lock.is_file() and lock.stat().st_size == 0:
            record.settle([LOCK_FILE])  # the (empty) lock file of an earlier release
        with recorded(folder, [EDITS_FILE]):
            write_json(path, out)
    return out


# --- the edited summary -------------------------------------------------------------------------


def edited_summary(summary: Summary, edits: dict) -> Summary:
    """The Summary ``edits`` describe (checked with :func:`check_edits`): the edits' length
    (budget, seconds), its ``selected`` the kept shots and its ``kept`` their ranges (trims
    included: :attr:`~.summary.Summary.kept_ranges`); its segments those of the kept ranges,
    each shot with ``"chosen_by": "model" | "person"`` and ``"trimmed"``, and
    ``"edits_version"`` at the end."""
    e = check_edits(summary, edits, EDITS_FILE)
    ex = summary.extracted
    options = length_options(e["length"])
    budget = resolve_budget(options, ex)
    max_shot_seconds = resolve_max_shot_seconds(options, budget, ex)
    seconds = options.target_seconds
    cps = np.asarray(summary.change_points, dtype=np.int64)
    trimmed_cps = cps.copy()
    selected = [k["shot"] for k in e["kept"]]
    for k in e["kept"]:
        trimmed_cps[k["shot"]] = (k["start_frame"], k["end_frame"])
    values, has_steps = mean_shot_scores(summary.scores, np.asarray(ex.picks), cps)
    segments = build_segments(summary.video_path, ex, trimmed_cps, values, has_steps, selected, budget, seconds)
    segments["max_shot_seconds"] = max_shot_seconds
    model = set(e["model_selected"])
    for shot in segments["shots"]:
        i = shot["shot"]
        trimmed = (shot["start_frame"], shot["end_frame"]) != (int(cps[i, 0]), int(cps[i, 1]))
        shot["chosen_by"] = "model" if i in model and not trimmed else "person"
        shot["trimmed"] = trimmed
    segments["edits_version"] = e["version"]
    aspect, reframe = _check_reframe(e, EDITS_FILE)
    crops = {k["shot"]: k["crop"] for k in e["kept"] if "crop" in k}
    return replace(
        summary,
        aspect=aspect,
        reframe=reframe,
        crops=crops or None,
        selected=selected,
        kept=tuple((k["start_frame"], k["end_frame"]) for k in e["kept"]),
        budget=budget,
        seconds=seconds,
        max_shot_seconds=max_shot_seconds,
        segments=segments,
        timings={},
    )
