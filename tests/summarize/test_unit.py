"""A summary folder is one unit (acsumgan.summarize.unit): the old summary or the new one, never a mix."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from acsumgan.errors import OutputError
from acsumgan.summarize import unit as U
from acsumgan.summarize.unit import summary_unit


def files(folder):
    """The unit's files (its marker and the folder's manifest, dot files, aside)."""
    return {
        p.relative_to(folder).as_posix(): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def fill(folder, **content):
    for name, text in content.items():
        p = folder / name.replace("__", "/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def written(final, whole=True, **content):
    """A unit acsumgan wrote at ``final``, holding ``content``."""
    with summary_unit(final, whole=whole, source="clip.mp4") as stage:
        fill(stage, **content)


@pytest.mark.parametrize("exchange", [True, False])
def test_a_folder_of_its_own_is_swapped_whole(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(U, "_exchange", lambda a, b: False)
    final = tmp_path / "out" / "clip"
    written(final, **{"summary.mp4": "old", "scores.png": "old", "thumbs__shot0001.jpg": "old"})
    with summary_unit(final, source="clip.mp4") as stage:
        assert stage.parent == final.parent and stage.name.startswith(".clip.")
        fill(stage, **{"summary.mp4": "new", "segments.json": "new"})
        assert files(final)["scores.png"] == "old"  # not yet
    assert files(final) == {"summary.mp4": "new", "segments.json": "new"}
    assert sorted(p.name for p in final.parent.iterdir()) == ["clip"]  # nothing left beside it
    marker = json.loads((final / ".acsumgan-summary.json").read_text())
    assert sorted(marker["files"]) == ["segments.json", "summary.mp4"] and marker["source"] == "clip.mp4"


@pytest.mark.parametrize(
    "layout",
    ["a user's folder", "a user's file added to a summary", "a summary's file edited", "a link to a folder"],
)
def test_a_folder_acsumgan_did_not_write_is_never_replaced(tmp_path, layout):
    final = tmp_path / "out" / "clip"
    if layout == "a user's folder":
        fill(final, **{"photo.jpg": "mine", "summary.mp4": "mine"})
    elif layout == "a link to a folder":
        fill(tmp_path / "photos", **{"photo.jpg": "mine"})
        final.parent.mkdir(parents=True)
        final.symlink_to(tmp_path / "photos", target_is_directory=True)
    else:
        written(final, **{"summary.mp4": "old", "segments.json": "old"})
        fill(final, **({"notes.txt": "mine"} if "added" in layout else {"segments.json": "edited by hand"}))
    before = files(final)
    with pytest.raises(OutputError, match="was not written by acsumgan"):
        with summary_unit(final, source="clip.mp4") as stage:
            fill(stage, **{"summary.mp4": "new"})
    assert files(final) == before
    assert sorted(p.name for p in final.parent.iterdir()) == ["clip"]  # the staging folder went too


def test_a_failure_leaves_the_previous_summary_whole(tmp_path):
    final = tmp_path / "clip"
    written(final, **{"summary.mp4": "old", "segments.json": "old", "scores.png": "old"})
    for exc in (OSError(28, "No space left on device"), KeyboardInterrupt()):
        with pytest.raises(type(exc)):
            with summary_unit(final) as stage:
                fill(stage, **{"summary.mp4": "new", "segments.json": "new"})
                raise exc
        assert files(final) == {"summary.mp4": "old", "segments.json": "old", "scores.png": "old"}
        assert sorted(p.name for p in tmp_path.iterdir()) == ["clip"]


def test_one_video_in_the_output_folder_itself(tmp_path):
    """One video: the unit's members are replaced in OUT, the rest of OUT is kept, and what the
    new unit lacks (summary.html after --no-page) goes."""
    out = tmp_path / "out"
    old = {"summary.mp4": "old", "summary.html": "old", "thumbs__shot0001.jpg": "old", "segments.json": "old"}
    fill(out, **{"features.h5": "keep", "model__COMPLETE": "keep"})
    written(out, whole=False, **old)
    with summary_unit(out, whole=False) as stage:
        assert stage.parent == out
        fill(stage, **{"summary.mp4": "new", "segments.json": "new", "scores.png": "new"})
    assert files(out) == {
        "features.h5": "keep",
        "model/COMPLETE": "keep",
        "scores.png": "new",
        "segments.json": "new",
        "summary.mp4": "new",
    }
    with pytest.raises(RuntimeError):
        with summary_unit(out, whole=False) as stage:
            fill(stage, **{"summary.mp4": "newer"})
            raise RuntimeError("scorer failed")
    assert files(out)["summary.mp4"] == "new" and not [p for p in out.iterdir() if p.name.endswith(".new")]


@pytest.mark.parametrize("member", ["segments.json", "thumbs__shot0001.jpg", "original.mp4"])
def test_one_video_never_replaces_or_removes_a_users_file_of_a_members_name(tmp_path, member):
    """Nor removes one: ``original.mp4`` is a member the new unit lacks, and a user's file of that name stays."""
    out = tmp_path / "out"
    written(out, whole=False, **{"summary.mp4": "old", "segments.json": "old"})
    fill(out, **{member: "mine"})
    before = files(out)
    new = {"summary.mp4": "new", "segments.json": "new", "thumbs__shot0001.jpg": "new"}
    try:
        with summary_unit(out, whole=False) as stage:
            fill(stage, **new)
    except OutputError as exc:
        assert "was not written by acsumgan" in str(exc) and member != "original.mp4"
        assert files(out) == before
    else:
        assert member == "original.mp4"
        assert files(out) == {**before, "summary.mp4": "new", "segments.json": "new", "thumbs/shot0001.jpg": "new"}


def test_staging_folders_of_a_dead_process_are_removed(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(proc.stdout)
    stale = tmp_path / f".clip.{dead}.0123abcd.new"
    fill(stale, **{"summary.mp4": "half"})
    mine = tmp_path / f".other.{os.getpid()}.0123abcd.new"
    mine.mkdir()
    with summary_unit(tmp_path / "clip") as stage:
        fill(stage, **{"summary.mp4": "new"})
    assert not stale.exists() and mine.exists()
    assert files(tmp_path / "clip") == {"summary.mp4": "new"}
