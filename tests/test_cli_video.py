"""From raw videos: dataset build, training without labels, summarize, the demo."""

import json
import subprocess
import sys

import av
import numpy as np
import pytest

from acsumgan.data.dataset import dataset_attrs, load_dataset
from acsumgan.evaluation.summary import keyshot_summary
from acsumgan.inference import Scorer, resolve_model_path
from acsumgan.synthetic.media import make_scene_video


def acsumgan(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "acsumgan", *map(str, args)], capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def own_videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("own")
    make_scene_video(d / "a.mp4", [60, 150, 40, 110], size=(96, 64))
    make_scene_video(d / "b.mp4", [80, 50, 120], size=(96, 64), audio=False)
    return d


@pytest.fixture(scope="module")
def own_run(tmp_path_factory, own_videos):
    d = tmp_path_factory.mktemp("own_run")
    acsumgan("dataset", "build", own_videos, "--out", d / "own.h5")
    acsumgan("train", "--dataset", d / "own.h5", "--out", d / "run", "--n_epochs", "2", "--input_size", "1280",
             "--hidden_size", "16", "--no-progress")
    return d


def test_build_writes_an_unlabeled_dataset_train_accepts(own_run, own_videos):
    videos = load_dataset(own_run / "own.h5", purpose="summarize")
    assert [v.video_name for v in videos.values()] == ["a.mp4", "b.mp4"]
    for v in videos.values():
        assert v.features.shape[1] == 1280 and v.user_summary is None
        assert v.change_points[-1, 1] == v.n_frames - 1
    assert dataset_attrs(own_run / "own.h5")["backbone"] == "efficientnet-lite0"
    assert (own_run / "run" / "COMPLETE").exists()


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
    proc = acsumgan("summarize", own_videos / "a.mp4", "--model", tiny_experiment, "--out", tmp_path / "x",
                    "--backbone", "efficientnet-lite0", check=False)
    assert proc.returncode == 12
    assert "features have 1280 dimensions" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_model_argument_forms(tiny_experiment):
    exp_best = resolve_model_path(tiny_experiment)
    assert exp_best == tiny_experiment / "best" / "label-free" / "split0.pt"
    assert resolve_model_path(tiny_experiment, rule="oracle", split=1) == tiny_experiment / "best/oracle/split1.pt"
    run = tiny_experiment / "sigma0.3" / "split0"
    chosen = resolve_model_path(run)
    from acsumgan.runs import read_metrics
    from acsumgan.selection import chosen_epoch

    assert chosen.name == f"epoch-{chosen_epoch(read_metrics(run)):03d}.pt"
    scorer = Scorer.load(chosen, policy="greedy")
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(130, 32)).astype(np.float32)
    a, b = scorer(feats), scorer(feats)
    np.testing.assert_array_equal(a, b)  # greedy: deterministic
    sampled = Scorer.load(chosen, seed=1)
    np.testing.assert_array_equal(sampled(feats), sampled(feats))  # seeded sampling: reproducible


def test_scores_follow_the_keyshot_protocol(own_run):
    videos = load_dataset(own_run / "own.h5")
    scorer = Scorer.load(own_run / "run", policy="greedy")
    for v in videos.values():
        s = scorer(v.features)
        assert s.shape == (v.steps,) and np.isfinite(s).all()
        summary = keyshot_summary(s, v.picks, v.n_frames, v.change_points, 0.3)
        assert summary.sum() <= int(0.3 * v.n_frames)


def test_demo_runs_end_to_end(tmp_path, own_videos):
    out = tmp_path / "demo"
    proc = acsumgan("demo", "--out", out, "--epochs", "1", "--synthetic-videos", "5", "--videos", own_videos)
    assert "summary video:" in proc.stdout and "importance plot:" in proc.stdout
    assert (out / "summary" / "summary.mp4").stat().st_size > 0
    assert (out / "summary" / "scores.png").stat().st_size > 0
    assert (out / "synthetic_run" / "COMPLETE").exists() and (out / "own_run" / "COMPLETE").exists()
