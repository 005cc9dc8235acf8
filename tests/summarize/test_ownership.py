"""What summarize wrote (acsumgan.summarize.ownership): a summary folder's marker, the output
folder's manifest, and what counts as unchanged."""

from __future__ import annotations

import json
import os

import pytest

from acsumgan.errors import OutputError
from acsumgan.summarize.ownership import MANIFEST, MARKER, Manifest, file_record, matches, owned_folder, write_marker


def make_summary(folder, **files):
    folder.mkdir(parents=True)
    for name, text in files.items():
        p = folder / name.replace("__", "/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    write_marker(folder, "clip.mp4")
    return folder


def test_a_marked_folder_is_owned_until_someone_changes_it(tmp_path):
    s = make_summary(tmp_path / "clip", **{"summary.mp4": "v", "thumbs__shot0001.jpg": "t"})
    marker = json.loads((s / MARKER).read_text())
    assert marker["written_by"] == "acsumgan summarize" and sorted(marker["files"]) == [
        "summary.mp4",
        "thumbs/shot0001.jpg",
    ]
    assert marker["files"]["summary.mp4"]["sha256"] == file_record(s / "summary.mp4")["sha256"]
    assert owned_folder(s)
    (s / "notes.txt").write_text("mine")  # a file added
    assert not owned_folder(s)
    (s / "notes.txt").unlink()
    assert owned_folder(s)
    (s / "thumbs" / "shot0001.jpg").write_text("T")  # a file changed (same size)
    assert not owned_folder(s)


def test_a_copy_with_new_times_is_still_owned_by_its_content(tmp_path):
    s = make_summary(tmp_path / "clip", **{"summary.mp4": "video bytes"})
    os.utime(s / "summary.mp4", ns=(1, 1))  # as `cp` without -p leaves it: the content decides
    assert owned_folder(s)
    rec = file_record(s / "summary.mp4")
    (s / "summary.mp4").write_text("video bytez")
    assert not matches(s / "summary.mp4", rec)


def test_an_empty_folder_may_be_taken(tmp_path):
    """Nothing is lost: a folder made beforehand (``mkdir out/a``) takes the summary."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / ".keep").write_text("")  # not empty: a file of the user's
    assert owned_folder(tmp_path / "a") and Manifest(tmp_path).owns("a")
    assert not owned_folder(tmp_path / "b") and not Manifest(tmp_path).owns("b")


@pytest.mark.parametrize("what", ["no marker", "a marker of someone else", "a link", "a file"])
def test_other_things_are_not_owned(tmp_path, what):
    p = tmp_path / "clip"
    if what == "a link":
        make_summary(tmp_path / "real", **{"summary.mp4": "v"})
        p.symlink_to(tmp_path / "real", target_is_directory=True)
    elif what == "a file":
        p.write_text("x")
    else:
        p.mkdir()
        (p / "summary.mp4").write_text("v")
        if what == "a marker of someone else":
            (p / MARKER).write_text(json.dumps({"files": {"summary.mp4": file_record(p / "summary.mp4")}}))
    assert not owned_folder(p)


def test_the_manifest_owns_pending_recorded_and_log_entries_only(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("index.html", "mine.txt", "summarize.log", "features.h5"):
        (out / name).write_text(name)
    m = Manifest(out)
    assert m.owns("free name") and not m.owns("index.html") and not m.owns("mine.txt")
    m.begin(["features.h5"])  # pending: being written
    m.begin(["summarize.log"], kind="log")
    assert Manifest(out).owns("features.h5") and Manifest(out).owns("summarize.log")
    (out / "index.html").unlink()
    m.begin(["index.html"])
    (out / "index.html").write_text("the page")
    m.settle(["index.html", "features.h5"])
    again = Manifest(out)
    assert again.entries["index.html"]["kind"] == "file" and again.owns("index.html")
    (out / "index.html").write_text("edited by the user")
    assert not Manifest(out).owns("index.html") and not Manifest(out).owns("mine.txt")


def test_two_manifest_objects_of_one_folder_keep_each_others_entries(tmp_path):
    """The pipeline's object and the summary unit's write the same file: each change starts
    from the file (a stale object once dropped the unit's entries and the rerun refused them)."""
    out = tmp_path / "out"
    out.mkdir()
    pipeline, unit = Manifest(out), Manifest(out)
    pipeline.begin(["features.h5"])
    (out / "summary.mp4").write_text("v")
    unit.begin(["summary.mp4"])
    unit.settle(["summary.mp4"])
    pipeline.settle(["features.h5"])  # nothing there: dropped; summary.mp4 stays
    assert set(Manifest(out).entries) == {"summary.mp4"} and Manifest(out).owns("summary.mp4")


def test_a_folder_of_files_in_the_manifest(tmp_path):
    out = tmp_path / "out"
    (out / "thumbs").mkdir(parents=True)
    (out / "thumbs" / "shot0001.jpg").write_text("t")
    m = Manifest(out)
    m.begin(["thumbs"])
    m.settle(["thumbs"])
    assert Manifest(out).owns("thumbs")
    (out / "thumbs" / "mine.jpg").write_text("m")
    assert not Manifest(out).owns("thumbs")


def test_a_manifest_acsumgan_did_not_write_is_refused(tmp_path):
    (tmp_path / MANIFEST).write_text('{"entries": {"photos": {"kind": "pending"}}}')
    with pytest.raises(OutputError, match="was not written by acsumgan"):
        Manifest(tmp_path)


def test_a_units_stale_lock_file_does_not_make_it_the_users(tmp_path):
    """A writer of DIR/<video> killed with SIGKILL leaves its .lock: the unit stays acsumgan's;
    a live holder's lock, or any other file, does not."""
    import json
    import subprocess
    import sys

    from acsumgan.summarize.ownership import owned_folder, write_marker

    unit = tmp_path / "a"
    unit.mkdir()
    (unit / "segments.json").write_text("{}")
    write_marker(unit, "a.mp4")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (unit / ".lock").write_text(json.dumps({"pid": int(gone.stdout), "since": 0, "command": "acsumgan render"}))
    assert owned_folder(unit)
    (unit / ".lock").write_text("")
    assert owned_folder(unit)
    (unit / ".lock").write_text(json.dumps({"pid": os.getpid(), "since": 0, "command": "acsumgan render"}))
    assert not owned_folder(unit)
    (unit / ".lock").write_text("my notes")
    assert not owned_folder(unit)
