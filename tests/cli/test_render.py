"""``acsumgan render`` end to end: edits rendered by the real command, its one-line refusals,
and an interrupted render (SIGTERM, SIGKILL) that leaves the previous summary whole."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from acsumgan.summarize.analysis import load_summary
from acsumgan.summarize.edits import EDITS_FILE, check_edits, model_edits, save_edits
from acsumgan.synthetic.media import counter_video

from .conftest import ROOT, assert_one_line_error, run


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A 20-s counter video (600 frames, 320x240) summarized by the command."""
    d = tmp_path_factory.mktemp("cli-render")
    video = counter_video(d / "long.mp4", 600, fps=30, size=(320, 240)).path
    run("summarize", video, "--out", d / "out", "--epochs", "1", "--budget", "0.5")
    return d / "out"


@pytest.fixture
def folder(made, tmp_path):
    dst = tmp_path / "out"
    shutil.copytree(made, dst)
    return dst


def test_render_edits_with_json_progress(folder):
    summary = load_summary(folder)
    e = model_edits(summary)
    k = e["kept"][0]
    kept = [{**k, "end_frame": k["start_frame"] + 4}] + e["kept"][1:]
    save_edits(folder, check_edits(summary, {**e, "kept": kept}, "t"), 0)
    p = run("render", folder, "--progress", "json", "--crf", "0", "--x264-preset", "ultrafast")
    events = [json.loads(line) for line in p.stdout.splitlines()]
    assert events and all(list(ev) == ["stage", "done", "total", "note", "item"] for ev in events)
    assert events[-1] == {"stage": "summaries", "done": 1, "total": 1, "note": "long.mp4", "item": "videos"}
    enc = [ev for ev in events if ev["stage"] == "encoding"]
    want = sum(x["end_frame"] - x["start_frame"] + 1 for x in kept)
    assert enc[-1]["done"] == enc[-1]["total"] == want
    assert "edits version 1" in p.stderr  # the result line: stderr in json mode
    seg = json.loads((folder / "segments.json").read_text())
    assert seg["edits_version"] == 1 and seg["summary_frames_written"] == want
    assert seg["shots"][0]["chosen_by"] == "person" and seg["shots"][0]["trimmed"] is True
    # bars mode prints the result on stdout; render --edits FILE takes any file
    (folder / "other.json").write_text(json.dumps({**e, "kept": e["kept"][:1]}))
    p = run("render", folder, "--edits", folder / "other.json")
    assert "edits version 0" in p.stdout
    seg = json.loads((folder / "segments.json").read_text())
    assert [s["shot"] for s in seg["shots"]] == [e["kept"][0]["shot"]]


def test_render_refusals_are_one_line(folder, tmp_path):
    p = run("render", tmp_path, ok=False)
    assert_one_line_error(p, 11, "no analysis.h5: summarize the video first")
    (tmp_path / "bad.json").write_text("{oops")
    p = run("render", folder, "--edits", tmp_path / "bad.json", ok=False)
    assert_one_line_error(p, 11, "bad.json", "corrupt edits file")
    p = run("render", folder, "--progress", "json", "--x264-preset", "nope", ok=False)
    assert p.returncode != 0 and p.stdout == "" and "Traceback" not in p.stderr
    (folder / "summary.mp4").write_bytes(b"my own cut")
    p = run("render", folder, "--progress", "json", ok=False)
    assert_one_line_error(p, 8, "summary.mp4", "not written by acsumgan")
    assert p.stdout == "" and (folder / "summary.mp4").read_bytes() == b"my own cut"


def start_render(folder: Path) -> subprocess.Popen:
    """A slow render (every frame, lossless, x264 veryslow) with its JSON progress read line by line."""
    return subprocess.Popen(
        [sys.executable, "-m", "acsumgan", "render", str(folder), "--progress", "json", "--crf", "0"]
        + ["--x264-preset", "veryslow", "--threads", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def wait_for_encoding(proc: subprocess.Popen) -> dict:
    for line in proc.stdout:
        ev = json.loads(line)
        if ev["stage"] == "encoding" and 0 < ev["done"] < (ev["total"] or 0):
            return ev
    raise AssertionError("the render ended before encoding: " + proc.stderr.read())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_an_interrupted_render_leaves_the_previous_summary_whole(folder, sig):
    summary = load_summary(folder)
    e = model_edits(summary, {"mode": "percent", "value": 100, "preset": None})  # every frame: a long encode
    save_edits(folder, e, 0)
    names = ("summary.mp4", "segments.json", "scores.png", "analysis.h5", "summary.html", EDITS_FILE)
    before = {n: sha(folder / n) for n in names}
    proc = start_render(folder)
    try:
        ev = wait_for_encoding(proc)
        assert ev["item"] == "long.mp4"
        proc.send_signal(sig)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == (143 if sig == signal.SIGTERM else -signal.SIGKILL)
    assert {n: sha(folder / n) for n in names} == before  # the previous summary, whole and unchanged
    staging = [p.name for p in folder.iterdir() if p.name.startswith(".summary.")]
    if sig == signal.SIGTERM:
        assert staging == []  # removed on the way out
    # the next render finishes (and removes what a killed one left)
    run("render", folder, "--crf", "0", "--x264-preset", "ultrafast")
    assert [p.name for p in folder.iterdir() if p.name.startswith(".summary.")] == []
    seg = json.loads((folder / "segments.json").read_text())
    assert seg["summary_frames_written"] == 600 and seg["edits_version"] == 1


# --- a video's folder of a several-video summarize (a whole unit with its marker) -----------------


@pytest.fixture(scope="module")
def unit_made(tmp_path_factory):
    """`acsumgan summarize a.mp4 b.mp4 --out D`: D/a and D/b, each a unit with its marker."""
    d = tmp_path_factory.mktemp("cli-render-unit")
    for name, n in (("a", 120), ("b", 100)):
        counter_video(d / f"{name}.mp4", n, fps=10, size=(96, 72))
    run("summarize", d / "a.mp4", d / "b.mp4", "--out", d / "D", "--epochs", "1")
    return d


@pytest.fixture
def unit(unit_made, tmp_path):
    """A copy of the videos and D (the marker records sizes and hashes: a copy is still acsumgan's)."""
    dst = tmp_path / "u"
    shutil.copytree(unit_made, dst)
    return dst


def summarize_again(unit: Path):
    return run("summarize", unit / "a.mp4", unit / "b.mp4", "--out", unit / "D", "--epochs", "1")


def trimmed_edits(folder: Path, path: Path) -> list[dict]:
    """Edits of ``folder``'s summary (its first kept shot trimmed to 3 frames) written to ``path``."""
    summary = load_summary(folder)
    e = model_edits(summary)
    k = e["kept"][0]
    kept = [{**k, "end_frame": k["start_frame"] + 2}] + e["kept"][1:]
    path.write_text(json.dumps({**e, "kept": kept}))
    return kept


def test_render_a_video_folder_of_a_several_video_summarize(unit, tmp_path):
    from acsumgan.summarize.ownership import owned_folder

    a = unit / "D" / "a"
    kept = trimmed_edits(a, tmp_path / "e.json")
    p = run("render", a, "--edits", tmp_path / "e.json")
    assert "a.mp4:" in p.stdout
    seg = json.loads((a / "segments.json").read_text())
    assert [(s["start_frame"], s["end_frame"]) for s in seg["shots"]] == [
        (k["start_frame"], k["end_frame"]) for k in kept
    ]
    assert owned_folder(a)  # the marker records the new files: still acsumgan's unit
    assert not [p.name for p in (unit / "D").iterdir() if p.name.endswith((".new", ".old"))]
    # a later summarize of the same videos replaces the folder (no a-2)
    summarize_again(unit)
    assert sorted(p.name for p in (unit / "D").iterdir() if p.is_dir()) == ["a", "b", "model"]
    seg = json.loads((a / "segments.json").read_text())
    assert "edits_version" not in seg  # the model's summary again
    assert owned_folder(a)


def test_render_leaves_a_users_file_in_a_unit_alone(unit, tmp_path):
    a = unit / "D" / "a"
    (a / "my notes.txt").write_text("keep me\n")
    trimmed_edits(a, tmp_path / "e.json")
    run("render", a, "--edits", tmp_path / "e.json")
    assert (a / "my notes.txt").read_text() == "keep me\n"
    assert json.loads((a / "segments.json").read_text())["edits_version"] == 0
    marker = json.loads((a / ".acsumgan-summary.json").read_text())
    assert "my notes.txt" not in marker["files"]  # never recorded as acsumgan's
    rendered = sha(a / "segments.json")
    # the later summarize leaves the folder alone: the summary goes to a-2
    summarize_again(unit)
    assert (a / "my notes.txt").read_text() == "keep me\n" and sha(a / "segments.json") == rendered
    assert (unit / "D" / "a-2" / "summary.mp4").is_file()


def test_render_refuses_a_changed_file_of_a_unit_before_any_work(unit):
    a = unit / "D" / "a"
    (a / "summary.html").write_text("my own page")
    before = {p.name: sha(p) for p in a.iterdir() if p.is_file()}
    p = run("render", a, ok=False)
    assert_one_line_error(p, 8, "summary.html", "not written by acsumgan")
    assert {p.name: sha(p) for p in a.iterdir() if p.is_file()} == before
    assert not [p.name for p in (unit / "D").iterdir() if p.name.endswith(".new")]


def test_edits_and_exports_in_a_unit_are_acsumgans(unit, tmp_path):
    """edits.json, its lock, exports/ and export's files are entered in the marker: the unit
    stays acsumgan's, a later summarize replaces it (no a-2), takes the edits over and drops
    the old summary's exports."""
    from acsumgan.summarize.ownership import owned_folder

    a = unit / "D" / "a"
    summary = load_summary(a)
    e = model_edits(summary)
    save_edits(a, check_edits(summary, {**e, "kept": e["kept"][:1]}, "t"), 0)
    assert (a / ".edits.json.lock").is_file()
    run("render", a)
    run("export", a, "--format", "otio")
    run("export", a, "--format", "otio")  # no --force: acsumgan's own, unchanged
    run("export", a, "--format", "otio", "--out", a / "exports" / "summary.otio")
    p = run("export", a, "--format", "fcpxml", ok=False)  # 10 fps: no timecode rate
    assert_one_line_error(p, 11, "an FCP 7 XML needs a timecode rate", "10 fps")
    marker = json.loads((a / ".acsumgan-summary.json").read_text())
    assert {EDITS_FILE, ".edits.json.lock", "summary.otio", "exports/summary.otio"} <= set(marker["files"])
    assert "pending" not in marker and owned_folder(a)
    edits = (a / EDITS_FILE).read_bytes()
    summarize_again(unit)
    assert not (unit / "D" / "a-2").exists() and owned_folder(a)
    assert (a / EDITS_FILE).read_bytes() == edits  # taken over into the new unit
    assert not (a / "summary.otio").exists() and not (a / "exports").exists()  # the old summary's exports
    assert "edits_version" not in json.loads((a / "segments.json").read_text())
    p = run("render", a)  # the same analysis: the carried edits render as they are
    assert "edits version 1" in p.stdout


def test_a_users_file_in_a_units_exports_is_never_recorded(unit):
    a = unit / "D" / "a"
    run("export", a, "--format", "otio", "--out", a / "exports" / "summary.otio")
    (a / "exports" / "mine.txt").write_text("keep me\n")
    run("export", a, "--format", "otio", "--out", a / "exports" / "summary.otio")
    marker = json.loads((a / ".acsumgan-summary.json").read_text())
    assert "exports/summary.otio" in marker["files"] and "exports/mine.txt" not in marker["files"]
    summarize_again(unit)  # not acsumgan's folder any more: the summary goes to a-2
    assert (a / "exports" / "mine.txt").read_text() == "keep me\n" and (unit / "D" / "a-2" / "summary.mp4").is_file()
