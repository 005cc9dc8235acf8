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
