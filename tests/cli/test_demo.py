"""The demo command, end to end."""

import pytest

from conftest import acsumgan

pytestmark = pytest.mark.slow


def test_demo_runs_end_to_end(tmp_path, own_videos):
    out = tmp_path / "demo"
    proc = acsumgan("demo", "--out", out, "--epochs", "1", "--synthetic-videos", "5", "--videos", own_videos)
    assert "summary video:" in proc.stdout and "importance plot:" in proc.stdout
    assert (out / "summary" / "summary.mp4").stat().st_size > 0
    assert (out / "summary" / "scores.png").stat().st_size > 0
    assert (out / "synthetic_run" / "COMPLETE").exists() and (out / "own_run" / "COMPLETE").exists()
