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
    p = run("render", folder, "--progress", "json", "--crf", "0", "--preset", "ultrafast")
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
    p = run("render", folder, "--progress", "json", "--preset", "nope", ok=False)
    assert p.returncode != 0 and p.stdout == "" and "Traceback" not in p.stderr
    (folder / "summary.mp4").write_bytes(b"my own cut")
    p = run("render", folder, "--progress", "json", ok=False)
    assert_one_line_error(p, 8, "summary.mp4", "not written by acsumgan")
    assert p.stdout == "" and (folder / "summary.mp4").read_bytes() == b"my own cut"


def start_render(folder: Path) -> subprocess.Popen:
    """A slow render (every frame, lossless, x264 veryslow) with its JSON progress read line by line."""
    return subprocess.Popen(
        [sys.executable, "-m", "acsumgan", "render", str(folder), "--progress", "json", "--crf", "0"]
        + ["--preset", "veryslow", "--threads", "1"],
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
    run("render", folder, "--crf", "0", "--preset", "ultrafast")
    assert [p.name for p in folder.iterdir() if p.name.startswith(".summary.")] == []
    seg = json.loads((folder / "segments.json").read_text())
    assert seg["summary_frames_written"] == 600 and seg["edits_version"] == 1
