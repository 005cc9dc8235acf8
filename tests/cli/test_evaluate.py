"""The evaluate command: score formats, known answers, one-line errors."""

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from acsumgan.data.dataset import load_dataset
from acsumgan.evaluation.metrics import evaluate_video
from acsumgan.evaluation.scores import read_scores, write_scores


def run(*args):
    return subprocess.run([sys.executable, "-m", "acsumgan", *map(str, args)], capture_output=True, text=True)


def _scores(videos, seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(size=v.steps) for k, v in videos.items()}


def test_evaluate_release_json_known_answers(tmp_path, tiny_synth):
    videos = load_dataset(tiny_synth, purpose="evaluate")
    scores = _scores(videos)
    f = tmp_path / "TVSum_7.json"
    f.write_text(json.dumps({k: v.tolist() for k, v in scores.items()}))
    p = run("evaluate", "--dataset", tiny_synth, "--scores", f, "--json")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["metric"] == "max"  # from the synthetic file's eval_metric attribute
    for k, v in videos.items():
        assert res["videos"][k] == pytest.approx(evaluate_video(scores[k], v, "max"))
    assert res["mean"] == pytest.approx(np.mean(list(res["videos"].values())))
    # avg is never above max
    p = run("evaluate", "--dataset", tiny_synth, "--scores", f, "--json", "--metric", "avg")
    assert json.loads(p.stdout)["mean"] <= res["mean"]


def test_evaluate_hdf5_flat_and_epochs_and_rank(tmp_path, tiny_synth):
    videos = load_dataset(tiny_synth, purpose="evaluate")
    flat = write_scores(tmp_path / "flat.h5", {None: _scores(videos)})
    both = write_scores(tmp_path / "epochs.h5", {-1: _scores(videos, 1), 0: _scores(videos, 2)})
    assert sorted(read_scores(both)) == [-1, 0] and list(read_scores(flat)) == [None]
    p = run("evaluate", "--dataset", tiny_synth, "--scores", both, "--json")
    res = json.loads(p.stdout)
    assert set(res["epochs"]) == {"-1", "0"}
    p = run("evaluate", "--dataset", tiny_synth, "--scores", flat, "--metric", "all", "--json")
    res = json.loads(p.stdout)
    assert set(res) == {"max", "kendall", "spearman"}
    assert -1 <= res["kendall"]["mean"] <= 1
    # a video's own gtscore ranks like its annotators far better than noise
    gt = write_scores(tmp_path / "gt.h5", {None: {k: v.gtscore for k, v in videos.items()}})
    p = run("evaluate", "--dataset", tiny_synth, "--scores", gt, "--metric", "spearman", "--json")
    assert json.loads(p.stdout)["mean"] > 0.3
    p = run("evaluate", "--dataset", tiny_synth, "--scores", gt)
    assert p.returncode == 0 and "mean" in p.stdout


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p, v: p.write_text("not json"), "neither HDF5 nor valid JSON"),
        (lambda p, v: p.write_text(json.dumps({"video_1": [0.1, "x"]})), "must be a list of numbers"),
        (lambda p, v: p.write_text(json.dumps({"video_1": [float("nan")] * v["video_1"].steps})), "NaN or inf"),
        (lambda p, v: p.write_text(json.dumps({"video_1": [0.5] * 3})), "has 3 scores but the video has"),
        (lambda p, v: p.write_text(json.dumps({"video_404": [0.5]})), "video_404: not a video of"),
        (lambda p, v: h5py.File(p, "w").close(), "holds no scores"),
    ],
)
def test_bad_scores_one_line_exit_5(tmp_path, tiny_synth, make, message):
    videos = load_dataset(tiny_synth)
    f = tmp_path / "scores.json"
    make(f, videos)
    p = run("evaluate", "--dataset", tiny_synth, "--scores", f)
    assert p.returncode == 5, p.stderr
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_evaluate_needs_a_metric_it_can_infer(tmp_path, tiny_synth):
    import shutil

    plain = tmp_path / "collection.h5"
    shutil.copy(tiny_synth, plain)
    with h5py.File(plain, "a") as h5:
        del h5.attrs["eval_metric"]
    videos = load_dataset(plain)
    f = tmp_path / "s.json"
    f.write_text(json.dumps({k: v.tolist() for k, v in _scores(videos).items()}))
    p = run("evaluate", "--dataset", plain, "--scores", f)
    assert p.returncode == 11 and "--metric max|avg" in p.stderr
    assert run("evaluate", "--dataset", plain, "--scores", f, "--metric", "avg").returncode == 0


def test_evaluate_against_one_reference(tmp_path, tiny_synth):
    """--reference gtscore: the gtscore as scores gives 100; the multi-user output is unchanged without it."""
    videos = load_dataset(tiny_synth, purpose="evaluate")
    f = tmp_path / "gt.json"
    f.write_text(json.dumps({k: v.gtscore.tolist() for k, v in videos.items()}))
    p = run("evaluate", "--dataset", tiny_synth, "--scores", f, "--json", "--reference", "gtscore")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["reference"] == "gtscore" and res["metric"] == "gtscore"
    assert all(v == pytest.approx(100.0) for v in res["videos"].values())
    users = json.loads(run("evaluate", "--dataset", tiny_synth, "--scores", f, "--json").stdout)
    assert "reference" not in users and users["metric"] == "max"
    p = run("evaluate", "--dataset", tiny_synth, "--scores", f, "--reference", "gtsummary")
    assert p.returncode == 0 and "vs gtsummary" in p.stdout


def test_evaluate_reference_missing_field_is_one_line(tmp_path, tiny_synth):
    videos = load_dataset(tiny_synth, purpose="evaluate")
    data = tmp_path / "no_gtscore.h5"
    with h5py.File(tiny_synth, "r") as src, h5py.File(data, "w") as dst:
        for k in src:
            src.copy(src[k], dst, name=k)
            del dst[k]["gtscore"]
        dst.attrs.update(dict(src.attrs))
    f = tmp_path / "s.json"
    f.write_text(json.dumps({k: np.ones(v.steps).tolist() for k, v in videos.items()}))
    p = run("evaluate", "--dataset", data, "--scores", f, "--reference", "gtscore")
    assert p.returncode == 3 and "Traceback" not in p.stderr
    assert p.stderr.strip().endswith("gtscore: missing (needed for --reference gtscore)")
    assert len(p.stderr.strip().splitlines()) == 1


def test_evaluate_a_model_with_policy_samples(tmp_path, tiny_synth, tiny_splits):
    """--model: one F-score per draw, their mean and std; draw j equals a single-draw run with its seed."""
    from acsumgan.model.episode import draw_seed

    run_dir = tmp_path / "run"
    p = run(
        "train",
        "--dataset",
        tiny_synth,
        "--splits",
        tiny_splits,
        "--out",
        run_dir,
        "--n_epochs",
        "1",
        "--hidden_size",
        "8",
        "--no-progress",
    )
    assert p.returncode == 0, p.stderr
    base = ["evaluate", "--dataset", tiny_synth, "--model", run_dir, "--splits", tiny_splits, "--json"]
    three = json.loads(run(*base, "--eval-samples", "3", "--seed", "2").stdout)
    per_draw = [three["draws"][str(j)]["max"]["mean"] for j in range(3)]
    assert three["eval_samples"] == 3
    assert three["summary"]["max"]["mean"] == pytest.approx(np.mean(per_draw))
    assert three["summary"]["max"]["std"] == pytest.approx(np.std(per_draw))
    single = json.loads(run(*base, "--seed", str(draw_seed(2, 1))).stdout)
    assert single["draws"]["0"]["max"]["mean"] == pytest.approx(per_draw[1])
    p = run("evaluate", "--dataset", tiny_synth)
    assert p.returncode == 11 and "give either --scores" in p.stderr
