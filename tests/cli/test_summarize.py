"""The summarize command on one's own videos: with a run folder, several videos, and a
model of another feature size (the videos and the run: tests/conftest.py)."""

import json

import av
import pytest

from conftest import acsumgan

pytestmark = pytest.mark.slow  # a run trained on own videos, and a tiny experiment


def test_summarize_with_a_run_folder(own_run, own_videos, tmp_path):
    out = tmp_path / "sum"
    proc = acsumgan("summarize", own_videos / "a.mp4", "--model", own_run / "run", "--out", out, "--budget", "0.3")
    assert "summary.mp4" in proc.stdout
    seg = json.loads((out / "segments.json").read_text())
    with av.open(str(out / "summary.mp4")) as c:
        n = sum(1 for _ in c.decode(video=0))
        assert c.streams.audio  # the source's audio is kept
    assert abs(n - seg["summary_frames"]) <= len(seg["shots"])
    assert seg["summary_frames"] <= int(0.3 * seg["n_frames"])
    assert sum(s["n_frames"] for s in seg["shots"]) == seg["summary_frames"]
    assert (out / "scores.png").stat().st_size > 0


def test_summarize_several_videos_into_subfolders(own_run, own_videos, tmp_path):
    out = tmp_path / "many"
    acsumgan("summarize", own_videos, "--model", own_run / "run", "--out", out, "--seconds", "3")
    for name in ("a", "b"):
        seg = json.loads((out / name / "segments.json").read_text())
        assert seg["summary_seconds"] <= 3.0 + 1e-6
        assert (out / name / "summary.mp4").stat().st_size > 0


def test_model_of_another_feature_size_is_refused_before_decoding(tiny_experiment, own_videos, tmp_path):
    proc = acsumgan(
        "summarize",
        own_videos / "a.mp4",
        "--model",
        tiny_experiment,
        "--out",
        tmp_path / "x",
        "--backbone",
        "efficientnet-lite0",
        check=False,
    )
    assert proc.returncode == 12
    assert "features have 1280 dimensions" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_stage_progress_shows_done_total_and_eta_per_stage_and_video():
    """Each stage has its own bar (done / total in its unit, elapsed, ETA); a new video
    starts the stage's bar again, so its rate and ETA are that video's."""
    from acsumgan.cli.progress import ProgressBars
    from acsumgan.progress import Event

    sp = ProgressBars()
    sp(Event("features", 300, 1000, item="a.mp4"))
    sp(Event("features", 600, 1000, item="a.mp4"))
    sp(Event("shots", 1, 3, item="a.mp4"))
    task = {t.fields["stage"]: t for t in sp.p.tasks}
    assert task["features"].completed == 600 and task["features"].total == 1000
    assert task["shots"].completed == 1 and task["shots"].total == 3
    sp(Event("features", 50, 200, item="b.mp4"))
    task = {t.fields["stage"]: t for t in sp.p.tasks}
    assert len(sp.p.tasks) == 2  # still one bar per stage
    assert task["features"].description == "b.mp4"
    assert task["features"].completed == 50 and task["features"].total == 200
    # the rate (and so the ETA) counts only b.mp4's frames: no sample of a.mp4 is left
    assert [s.completed for s in task["features"]._progress] == [50]
    columns = [type(c).__name__ for c in sp.p.columns]
    assert {"MofNCompleteColumn", "TimeElapsedColumn", "TimeRemainingColumn"} <= set(columns)


def test_summarize_preset_conflicts_and_unknown_names(tmp_path):
    from acsumgan.summarize.presets import preset_names

    out = tmp_path / "o"
    p = acsumgan("summarize", "nothing.mp4", "--out", out, "--preset", "reel-90", "--budget", "0.3", check=False)
    assert p.returncode == 2 and "--preset and --budget both set the summary length" in p.stderr
    p = acsumgan("summarize", "nothing.mp4", "--out", out, "--preset", "reel-90", "--seconds", "3", check=False)
    assert p.returncode == 2 and "--preset and --seconds both set the summary length" in p.stderr
    p = acsumgan("summarize", "nothing.mp4", "--out", out, "--preset", "reel-60", check=False)
    assert p.returncode == 2 and all(n in p.stderr for n in preset_names())
    assert not out.exists()
    assert all(n in acsumgan("summarize", "--help").stdout for n in preset_names())


def test_progress_json_lines_are_all_the_stdout(own_videos, tmp_path):
    """--progress json: every stdout line is one event with the documented keys, the stages
    in order, the last one "summaries" done == total; the rest goes to stderr."""
    out = tmp_path / "pj"
    proc = acsumgan("summarize", own_videos / "a.mp4", "--out", out, "--epochs", "1", "--progress", "json")
    lines = proc.stdout.splitlines()
    assert len(lines) > 5
    events = [json.loads(line) for line in lines]  # every line is JSON
    assert all(list(e) == ["stage", "done", "total", "note", "item"] for e in events)
    assert all(isinstance(e["done"], int) and (e["total"] is None or isinstance(e["total"], int)) for e in events)
    first = list(dict.fromkeys(e["stage"] for e in events))
    assert first == ["features", "shots", "training", "encoding", "summaries"]
    assert {e["item"] for e in events if e["stage"] in ("features", "shots", "encoding")} == {"a.mp4"}
    last = events[-1]
    assert last["stage"] == "summaries" and last["done"] == last["total"] == 1 and last["note"] == "a.mp4"
    enc = [e for e in events if e["stage"] == "encoding"]
    assert enc[-1]["done"] == enc[-1]["total"] == json.loads((out / "segments.json").read_text())["summary_frames"]
    assert "summary.mp4" in proc.stderr  # the closing table went to stderr
    assert (out / "analysis.h5").is_file()
    # an error: one line on stderr, nothing on stdout
    bad = acsumgan("summarize", tmp_path / "none.mp4", "--out", tmp_path / "x", "--progress", "json", check=False)
    assert bad.returncode != 0 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1 and bad.stderr.startswith("acsumgan: error: ")


# --- reframing (issue 25) ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def moving_clip(tmp_path_factory):
    from acsumgan.synthetic.media import moving_object_video

    return moving_object_video(tmp_path_factory.mktemp("moving") / "moving.mp4")


def test_summarize_and_render_reframe_through_the_command(moving_clip, tmp_path):
    import numpy as np

    out = tmp_path / "vertical"
    acsumgan("summarize", moving_clip.path, "--out", out, "--epochs", "2", "--aspect", "9:16", "--budget", "0.5")
    seg = json.loads((out / "segments.json").read_text())
    assert (seg["aspect"], seg["reframe"], seg["summary_width"], seg["summary_height"]) == ("9:16", "follow", 404, 720)
    with av.open(str(out / "summary.mp4")) as c:
        assert (c.streams.video[0].width, c.streams.video[0].height) == (404, 720)
    inside = []  # the known answer through the real command: the object inside the window
    for shot in seg["shots"]:
        keys = np.asarray(shot["crop"]["keyframes"])
        frames = np.arange(shot["start_frame"], shot["end_frame"] + 1)
        x = np.interp(frames / 15.0, keys[:, 0], keys[:, 1])
        cx = moving_clip.centres[frames, 0, 0]
        inside.extend((cx >= x) & (cx < x + 404))
    assert np.mean(inside) >= 0.95
    proc = acsumgan("render", out, "--aspect", "1:1", "--reframe", "center")
    assert "reframed to 1:1 (center): 720x720" in proc.stdout
    seg = json.loads((out / "segments.json").read_text())
    assert (seg["aspect"], seg["reframe"], seg["summary_width"]) == ("1:1", "center", 720)
    assert all(k[1] == 280.0 for s in seg["shots"] for k in s["crop"]["keyframes"])  # the middle
    # a preset names its aspect; --aspect keep keeps the frame (and segments.json as before)
    acsumgan("summarize", moving_clip.path, "--out", tmp_path / "story", "--epochs", "2", "--preset", "story-15")
    assert json.loads((tmp_path / "story" / "segments.json").read_text())["aspect"] == "9:16"
    for args, text in (
        (("--aspect", "16/9"), "--aspect must be keep, 9:16, 1:1, 4:5 or W:H"),
        (("--aspect", "keep", "--reframe", "center"), "--reframe center needs an --aspect other than keep"),
    ):
        proc = acsumgan("summarize", moving_clip.path, "--out", tmp_path / "bad", *args, check=False)
        assert proc.returncode != 0 and text in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    proc = acsumgan("render", out, "--aspect", "wide", check=False)
    assert proc.returncode != 0 and "--aspect must be" in proc.stderr and "Traceback" not in proc.stderr
