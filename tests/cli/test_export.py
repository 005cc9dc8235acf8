"""``acsumgan export`` end to end, on a real summary folder."""

from __future__ import annotations

import json

import opentimelineio as otio
import pytest

from acsumgan.summarize.options import SummarizeOptions
from acsumgan.summarize.pipeline import summarize_video
from media.conftest import *  # noqa: F401,F403  (the generated videos' fixtures)
from media.conftest import distance_scorer

from .conftest import assert_one_line_error, run


@pytest.fixture(scope="module")
def summary_dir(scenes_audio_video, backbone, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-export") / "out"
    summarize_video(scenes_audio_video.path, distance_scorer, out, SummarizeOptions(budget=0.5, backbone=backbone))
    return out


def test_export_every_format(summary_dir, tmp_path):
    seg = json.loads((summary_dir / "segments.json").read_text())
    want = [(s["start_frame"], s["n_frames"]) for s in seg["shots"]]
    for fmt, adapter, name in [
        ("otio", None, "summary.otio"),
        ("edl", "cmx_3600", "summary.edl"),
        ("fcpxml", "fcp_xml", "summary.xml"),
    ]:
        p = run("export", summary_dir, "--format", fmt)
        assert name in p.stdout
        kw = {"adapter_name": adapter, **({"rate": 25} if fmt == "edl" else {})} if adapter else {}
        tl = otio.adapters.read_from_file(str(summary_dir / name), **kw)
        got = [
            (c.source_range.start_time.rescaled_to(25).value, c.source_range.duration.rescaled_to(25).value)
            for c in tl.find_clips()
        ]
        assert got == want
    run("export", summary_dir, "--format", "contact-sheet", "--out", tmp_path / "s.jpg")
    assert (tmp_path / "s.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_export_errors_are_one_line(summary_dir, tmp_path):
    p = run("export", tmp_path, "--format", "otio", ok=False)
    assert_one_line_error(p, 11, "no segments.json here")
    (tmp_path / "x.otio").write_text("mine")
    p = run("export", summary_dir, "--format", "otio", "--out", tmp_path / "x.otio", ok=False)
    assert_one_line_error(p, 8, "exists; --force replaces it")
    assert (tmp_path / "x.otio").read_text() == "mine"
    run("export", summary_dir, "--format", "otio", "--out", tmp_path / "x.otio", "--force")
    assert (tmp_path / "x.otio").read_text() != "mine"


def test_export_animated_previews(summary_dir, tmp_path):
    import math

    from PIL import Image

    seg = json.loads((summary_dir / "segments.json").read_text())
    frames = math.ceil(seg["summary_frames"] * 6 / seg["fps"])  # 6 frames per second of the summary
    for fmt, magic in [("gif", b"GIF89a"), ("webp", b"RIFF")]:
        p = run("export", summary_dir, "--format", fmt, "--width", "64")
        path = summary_dir / f"summary.{fmt}"
        assert f"summary.{fmt}" in p.stdout and path.read_bytes()[:6].startswith(magic)
        with Image.open(path) as im:
            assert im.n_frames == frames and im.size == (64, 48)
        p = run("export", summary_dir, "--format", fmt, ok=False)
        assert_one_line_error(p, 8, "exists; --force replaces it")
    # a small cap: fewer frames or narrower, under the cap
    run("export", summary_dir, "--format", "gif", "--out", tmp_path / "s.gif", "--max-mb", "0.02")
    assert (tmp_path / "s.gif").stat().st_size <= 0.02 * 1024 * 1024
    with Image.open(tmp_path / "s.gif") as im:
        assert im.n_frames < frames or im.size[0] < 96


@pytest.fixture(scope="module")
def cli_made(tmp_path_factory):
    """`acsumgan summarize v.mp4 --out O`: a one-video folder with its manifest."""
    from acsumgan.synthetic.media import counter_video

    d = tmp_path_factory.mktemp("cli-export-manifest")
    counter_video(d / "v.mp4", 150, fps=25, size=(96, 72))
    run("summarize", d / "v.mp4", "--out", d / "O", "--epochs", "1")
    return d


@pytest.fixture
def one(cli_made, tmp_path):
    import shutil

    shutil.copytree(cli_made, tmp_path / "c")
    return tmp_path / "c" / "O"


def entries(folder) -> dict:
    return json.loads((folder / ".acsumgan.json").read_text())["entries"]


def test_export_replaces_its_own_files_and_refuses_the_users(one):
    import hashlib

    def sha(p):
        return hashlib.sha256(p.read_bytes()).hexdigest()

    for fmt, name in [("otio", "summary.otio"), ("gif", "summary.gif"), ("contact-sheet", "shots.jpg")]:
        run("export", one, "--format", fmt)
        assert entries(one)[name]["sha256"] == sha(one / name)
        run("export", one, "--format", fmt)  # acsumgan's own, unchanged: replaced without --force
        assert entries(one)[name]["sha256"] == sha(one / name)
    # changed since acsumgan wrote it: refused, untouched
    (one / "summary.otio").write_text("edited in my editor")
    p = run("export", one, "--format", "otio", ok=False)
    assert_one_line_error(p, 8, "summary.otio", "exists; --force replaces it", "did not write it")
    assert (one / "summary.otio").read_text() == "edited in my editor"
    # the user's file at a default name: refused; --force replaces it (then it is acsumgan's)
    (one / "summary.edl").write_text("mine")
    p = run("export", one, "--format", "edl", ok=False)
    assert_one_line_error(p, 8, "summary.edl", "exists; --force replaces it")
    assert (one / "summary.edl").read_text() == "mine" and "summary.edl" not in entries(one)
    run("export", one, "--format", "edl", "--force")
    run("export", one, "--format", "edl")
    assert (one / "summary.edl").read_text() != "mine"
    # a user's file in exports/ is never recorded nor touched
    (one / "exports").mkdir()
    (one / "exports" / "notes.txt").write_text("keep me\n")
    for _ in range(2):
        run("export", one, "--format", "webp", "--out", one / "exports" / "summary.webp")
    assert (one / "exports" / "notes.txt").read_text() == "keep me\n"
    assert "exports/summary.webp" in entries(one) and "exports/notes.txt" not in entries(one)
    # the record's own names are no export's
    p = run("export", one, "--format", "otio", "--out", one / ".acsumgan.json", "--force", ok=False)
    assert_one_line_error(p, 8, "acsumgan's record")


def test_saved_edits_are_recorded_in_the_manifest(one):
    from acsumgan.summarize.analysis import load_summary
    from acsumgan.summarize.edits import model_edits, save_edits
    from acsumgan.summarize.ownership import Manifest

    save_edits(one, model_edits(load_summary(one)), 0)
    save_edits(one, model_edits(load_summary(one)), 1)
    m = Manifest(one)
    assert m.owns("edits.json") and m.owns(".edits.json.lock")
    assert entries(one)["edits.json"]["kind"] == "file" and entries(one)[".edits.json.lock"]["size"] == 0
    # a later summarize of the video keeps the edits (they are not its members) and succeeds
    run("summarize", one.parent / "v.mp4", "--out", one, "--epochs", "1")
    assert json.loads((one / "edits.json").read_text())["version"] == 2
