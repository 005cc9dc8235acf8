"""`summarize` without a model: features and model kept in the output folder and reused."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from acsumgan.errors import ConfigError, OutputError
from acsumgan.summarize.options import SummarizeOptions
from acsumgan.summarize.pipeline import (
    DEFAULT_EPOCHS,
    TOP_LEVEL,
    output_names,
    plan_outputs,
    safe_name,
    summarize_videos,
)
from acsumgan.summarize.unit import MEMBERS
from acsumgan.synthetic.media import make_scene_video

pytestmark = pytest.mark.slow

SMALL = {"hidden_size": 16}


@pytest.fixture
def two_videos(tmp_path) -> list[Path]:
    return [
        make_scene_video(tmp_path / "a.mp4", [30, 50, 20, 40], fps=10, size=(96, 72)),
        make_scene_video(tmp_path / "b.mp4", [25, 35, 45], fps=10, size=(96, 72)),
    ]


def _log(out: Path) -> list[str]:
    return [line.split(" ", 2)[2] for line in (out / "summarize.log").read_text().splitlines()]


def test_trains_then_reuses_then_recomputes_only_what_changed(tmp_path, two_videos):
    out = tmp_path / "out"
    t0 = time.perf_counter()
    first = summarize_videos(two_videos, out, SummarizeOptions(epochs=2, train_options=SMALL, page=False))
    t_first = time.perf_counter() - t0
    assert first.model.trained and (out / "model" / "COMPLETE").is_file()
    assert [p.name for p in first.features.computed] == ["a.mp4", "b.mp4"] and not first.features.reused
    assert first.model_path.parent == out / "model" / "checkpoints"
    for name in ("a", "b"):
        assert (out / name / "summary.mp4").stat().st_size > 0 and (out / name / "segments.json").is_file()
    assert (out / "features.h5").is_file()

    # the same call again: nothing computed, nothing trained
    n_log = len(_log(out))
    t0 = time.perf_counter()
    again = summarize_videos(two_videos, out, SummarizeOptions(epochs=2, train_options=SMALL, page=False))
    t_again = time.perf_counter() - t0
    assert not again.model.trained and not again.features.computed
    assert [p.name for p in again.features.reused] == ["a.mp4", "b.mp4"]
    new = _log(out)[n_log:]
    assert "features: a.mp4 reused from features.h5" in new and "features: b.mp4 reused from features.h5" in new
    assert any(line.startswith("model: ") and "reused" in line for line in new)
    assert not any(
        line.startswith(("model: trained", "features: a.mp4 computed", "features: b.mp4 computed")) for line in new
    )
    assert t_again < t_first
    assert again.summaries[0].segments["shots"] == first.summaries[0].segments["shots"]

    # touch one video (same content, new mtime): only its features are recomputed; the
    # features come out equal, so the model is kept
    st = two_videos[0].stat()
    os.utime(two_videos[0], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    n_log = len(_log(out))
    touched = summarize_videos(two_videos, out, SummarizeOptions(epochs=2, train_options=SMALL, page=False))
    assert [p.name for p in touched.features.computed] == ["a.mp4"]
    assert [p.name for p in touched.features.reused] == ["b.mp4"]
    assert not touched.model.trained
    new = _log(out)[n_log:]
    assert any(line.startswith("features: a.mp4 computed") for line in new)
    assert "features: b.mp4 reused from features.h5" in new


def test_a_changed_or_added_video_retrains(tmp_path, two_videos):
    out = tmp_path / "out"
    summarize_videos(two_videos[:1], out, SummarizeOptions(epochs=1, train_options=SMALL, page=False))
    grown = summarize_videos(two_videos, out, SummarizeOptions(epochs=1, train_options=SMALL, page=False))
    assert [p.name for p in grown.features.computed] == ["b.mp4"] and grown.model.trained
    make_scene_video(two_videos[1], [60, 20, 40], fps=10, size=(96, 72))  # other content, same name
    changed = summarize_videos(two_videos, out, SummarizeOptions(epochs=1, train_options=SMALL, page=False))
    assert [p.name for p in changed.features.computed] == ["b.mp4"] and changed.model.trained
    other_epochs = summarize_videos(two_videos, out, SummarizeOptions(epochs=2, train_options=SMALL, page=False))
    assert other_epochs.model.trained and not other_epochs.features.computed


def test_train_on_a_folder_or_a_dataset_file(tmp_path, two_videos):
    coll = tmp_path / "collection"
    coll.mkdir()
    make_scene_video(coll / "c.mp4", [20, 30, 25], fps=10, size=(96, 72))
    make_scene_video(coll / "d.mp4", [35, 15], fps=10, size=(96, 72))
    out = tmp_path / "out"
    res = summarize_videos(
        two_videos[:1], out, SummarizeOptions(epochs=1, train_options=SMALL, page=False), train_on=coll
    )
    split = yaml.safe_load((out / "training_split.json").read_text())
    assert split == [{"train_keys": ["video_2", "video_3"], "test_keys": []}]  # c and d, not the target a
    assert sorted(p.name for p in res.features.computed) == ["a.mp4", "c.mp4", "d.mp4"]
    # an eccv16 file as the collection (its features: the cached ones above)
    out2 = tmp_path / "out2"
    res2 = summarize_videos(
        two_videos[1:], out2, SummarizeOptions(epochs=1, train_options=SMALL, page=False), train_on=out / "features.h5"
    )
    assert res2.model.trained and len(res2.summaries) == 1


def test_model_and_training_options_exclude_each_other(tmp_path, two_videos):
    with pytest.raises(ConfigError, match="cannot be used with --model"):
        summarize_videos(two_videos, tmp_path / "o", SummarizeOptions(epochs=3), model=tmp_path / "m.pt")
    with pytest.raises(ConfigError, match="set by summarize itself"):
        summarize_videos(two_videos, tmp_path / "o", SummarizeOptions(epochs=1, train_options={"n_epochs": 3}))


def test_output_names_never_collide():
    paths = [Path(p) for p in ("x.mp4", "x.avi", "x-2.mp4", "model.mp4", "y/x.mkv")]
    assert output_names(paths) == ["x", "x-2", "x-2-2", "model-2", "x-3"]


def test_safe_names_of_hostile_stems():
    assert [safe_name(s) for s in ("", ".", "..", " . ", ".hidden", "ok", "a b")] == [
        "video",
        "video",
        "video",
        "video",
        "_.hidden",
        "ok",
        "a b",
    ]
    long = "é" * 150  # 300 bytes
    cut = safe_name(long)
    assert len(os.fsencode(cut)) <= 200 and cut.startswith("é" * 90) and cut != safe_name("é" * 151)
    bad = os.fsdecode(b"caf\xe9" * 70)  # not UTF-8: bytes are counted as the file system sees them
    assert len(os.fsencode(safe_name(bad))) <= 200
    names = output_names([Path(n) for n in ("Index.html.mp4", "THUMBS.mp4", "a.mp4")], reserved=TOP_LEVEL + MEMBERS)
    assert names == ["Index.html-2", "THUMBS-2", "a"]  # names compare without case


def test_plan_outputs(tmp_path):
    v = tmp_path / "V"
    (v / "trip").mkdir(parents=True)
    for name in ("trip/trip.mp4", "zebra.mp4", "beach.mp4"):
        (v / name).write_bytes(b"video")
    (v / "beach").mkdir()
    (v / "beach" / "photo.jpg").write_bytes(b"photo")
    videos = [v / "trip" / "trip.mp4", v / "zebra.mp4", v / "beach.mp4"]
    plan = plan_outputs(videos, v, model=tmp_path / "m.pt")
    assert [t.name for t in plan.targets] == ["trip-2", "zebra", "beach-2"]
    assert plan.writes == ["summarize.log", "index.html"] and len(plan.notes) == 2
    assert "holds the video" in plan.notes[0] and "was not written by acsumgan" in plan.notes[1]
    assert plan_outputs(videos, tmp_path / "new").writes == [
        "summarize.log",
        "features.h5",
        "model",
        "model.json",
        "index.html",
    ]
    one = plan_outputs(videos[:1], tmp_path / "one", model=tmp_path / "m.pt", page=False)
    assert one.targets == [tmp_path / "one"] and one.writes == ["summarize.log"]
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "features.h5").write_bytes(b"mine")
    with pytest.raises(OutputError, match="features.h5: exists and was not written by acsumgan; pass --force"):
        plan_outputs(videos[:1], tmp_path / "one")
    assert plan_outputs(videos[:1], tmp_path / "one", force=True).targets == [tmp_path / "one"]
    with pytest.raises(OutputError, match="features.h5: is --train-on"):
        plan_outputs(videos[:1], tmp_path / "one", train_on=tmp_path / "one" / "features.h5", force=True)
    with pytest.raises(OutputError, match=r"V/out: lies inside --train-on"):
        plan_outputs(videos[:1], v / "out", train_on=v)
    with pytest.raises(OutputError, match=r"summary.mp4: is the video"):
        plan_outputs([v / "summary.mp4"], v, model=tmp_path / "m.pt")


def test_the_cli_trains_without_model(tmp_path, two_videos):
    cfg = tmp_path / "small.yaml"
    cfg.write_text("hidden_size: 16\n")
    out = tmp_path / "cli"
    cmd = [
        sys.executable,
        "-m",
        "acsumgan",
        "summarize",
        *map(str, two_videos),
        "--out",
        str(out),
        "--epochs",
        "1",
        "--train-config",
        str(cfg),
        "--no-page",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "features: 2 computed, 0 reused" in proc.stdout and "model: trained" in proc.stdout
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert "features: 0 computed, 2 reused" in proc.stdout and "model: reused" in proc.stdout
    help_text = subprocess.run(
        [sys.executable, "-m", "acsumgan", "summarize", "--help"], capture_output=True, text=True
    ).stdout
    assert f"[default: {DEFAULT_EPOCHS}]" in " ".join(help_text.split())  # click wraps the help
