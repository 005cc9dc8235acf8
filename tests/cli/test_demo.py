"""The demo command, end to end."""

import json

import pytest

from conftest import acsumgan

pytestmark = pytest.mark.slow


def test_demo_runs_end_to_end(tmp_path, own_videos):
    out = tmp_path / "demo"
    proc = acsumgan("demo", "--out", out, "--epochs", "1", "--synthetic-videos", "5", "--videos", own_videos)
    assert (out / "synthetic_run" / "COMPLETE").exists()
    summary = out / "summary"
    assert (summary / "model" / "COMPLETE").exists() and (summary / "features.h5").is_file()
    videos = sorted(p.stem for p in own_videos.iterdir() if p.suffix == ".mp4")
    for name in videos:
        assert (summary / name / "summary.mp4").stat().st_size > 0
        assert (summary / name / "scores.png").stat().st_size > 0
        assert json.loads((summary / name / "segments.json").read_text())["n_selected"] >= 1
        assert (summary / name / "summary.html").is_file()
    # the demo ends by naming the page to open
    last = proc.stdout.strip().splitlines()[-1]
    assert "review page" in last and last.endswith("index.html") and (summary / "index.html").is_file()
