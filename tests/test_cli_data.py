"""splits and evaluate commands: formats, known answers, one-line errors."""

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from acsumgan.data.dataset import load_dataset
from acsumgan.data.splits import get_split, make_kfold_splits, make_random_splits, read_splits
from acsumgan.errors import SplitsError
from acsumgan.evaluation.metrics import evaluate_video
from acsumgan.evaluation.scores import read_scores, write_scores
from conftest import DATA


def run(*args):
    return subprocess.run([sys.executable, "-m", "acsumgan", *map(str, args)], capture_output=True, text=True)


def test_random_splits_like_the_standard_files():
    keys = [f"video_{i}" for i in range(1, 26)]
    splits = make_random_splits(keys, 5, 0.2, seed=3)
    assert len(splits) == 5
    for s in splits:
        assert len(s["test_keys"]) == 5 and len(s["train_keys"]) == 20
        assert set(s["test_keys"]) | set(s["train_keys"]) == set(keys)
    assert make_random_splits(keys, 5, 0.2, seed=3) == splits
    assert make_random_splits(keys, 5, 0.2, seed=4) != splits


def test_kfold_tests_every_video_exactly_once():
    keys = [f"video_{i}" for i in range(1, 51)]
    folds = make_kfold_splits(keys, 5, seed=0)
    tested = [k for f in folds for k in f["test_keys"]]
    assert sorted(tested) == sorted(keys) and len(tested) == 50
    for f in folds:
        assert not set(f["test_keys"]) & set(f["train_keys"])


def test_standard_splits_files_read_and_overlap():
    summe = read_splits(DATA / "splits" / "summe_splits.json")
    assert len(summe) == 5 and all(len(s["test_keys"]) == 5 for s in summe)
    assert len({k for s in summe for k in s["test_keys"]}) == 18  # the overlap method.md describes
    tvsum = read_splits(DATA / "splits" / "tvsum_splits.json")
    assert len({k for s in tvsum for k in s["test_keys"]}) == 34


def test_splits_make_and_show_cli(tmp_path, tiny_synth):
    out = tmp_path / "s.json"
    p = run("splits", "make", "--dataset", tiny_synth, "--out", out, "--kind", "kfold", "--n-splits", "4")
    assert p.returncode == 0, p.stderr
    folds = json.loads(out.read_text())
    assert sorted(k for f in folds for k in f["test_keys"]) == sorted(load_dataset(tiny_synth))
    p = run("splits", "show", out, "--dataset", tiny_synth)
    assert p.returncode == 0 and "8/8 videos are tested" in p.stdout


@pytest.mark.parametrize("content,message", [
    ("{bad json", "not valid JSON"),
    ("[]", "non-empty JSON list"),
    ('[{"train_keys": ["video_1"]}]', "split 0: missing test_keys"),
    ('[{"train_keys": ["video_1"], "test_keys": ["video_99"]}]', "'video_99', which is not in the dataset"),
    ('[{"train_keys": ["video_1"], "test_keys": ["video_1"]}]', "in both train_keys and test_keys"),
    ('[{"train_keys": "video_1", "test_keys": []}]', "must be a list of video names"),
])
def test_bad_splits_one_line_exit_4(tmp_path, tiny_synth, content, message):
    f = tmp_path / "bad.json"
    f.write_text(content)
    p = run("splits", "show", f, "--dataset", tiny_synth)
    assert p.returncode == 4 and message in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_get_split_checks_index_and_empty_parts(tmp_path):
    f = tmp_path / "s.json"
    f.write_text('[{"train_keys": [], "test_keys": ["a"]}]')
    with pytest.raises(SplitsError, match="out of range"):
        get_split(f, 3)
    with pytest.raises(SplitsError, match="train_keys is empty"):
        get_split(f, 0)


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


@pytest.mark.parametrize("make,message", [
    (lambda p, v: p.write_text("not json"), "neither HDF5 nor valid JSON"),
    (lambda p, v: p.write_text(json.dumps({"video_1": [0.1, "x"]})), "must be a list of numbers"),
    (lambda p, v: p.write_text(json.dumps({"video_1": [float("nan")] * v["video_1"].steps})), "NaN or inf"),
    (lambda p, v: p.write_text(json.dumps({"video_1": [0.5] * 3})), "has 3 scores but the video has"),
    (lambda p, v: p.write_text(json.dumps({"video_404": [0.5]})), "video_404: not a video of"),
    (lambda p, v: h5py.File(p, "w").close(), "holds no scores"),
])
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
