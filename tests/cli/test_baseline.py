"""The baseline command on the real ground truth: JSON, tables and one-line errors."""

from __future__ import annotations

import json

import numpy as np

from acsumgan.data.dataset import Video, save_dataset
from conftest import SPLITS

from .conftest import assert_one_line_error, run


def test_baseline_human_json_with_splits(summe_h5):
    p = run("baseline", "human", "--dataset", summe_h5, "--splits", SPLITS / "summe_splits.json", "--json")
    out = json.loads(p.stdout)
    assert out["metric"] == "max" and out["baseline"] == "human"
    assert [r["split"] for r in out["rows"]] == [0, 1, 2, 3, 4, "mean"]
    mean = out["rows"][-1]
    assert mean["f_score"] > 50 and mean["n_videos"] == 18 and mean["rank_reference"] == "user_summary"


def test_baseline_random_table(summe_h5):
    p = run(
        "baseline",
        "random",
        "--dataset",
        summe_h5,
        "--draws",
        3,
        "--seed",
        1,
        "--metric",
        "avg",
        "--splits",
        SPLITS / "summe_splits.json",
        "--split-index",
        1,
    )
    assert "±" in p.stdout and "F-score (avg, %)" in p.stdout and "3 draws, seed 1" in p.stdout
    assert "mean" not in p.stdout.split("┃ split")[-1]  # one split only: no mean row


def test_baseline_errors(tmp_path, summe_h5):
    p = run("baseline", "human", "--dataset", summe_h5, "--split-index", 0, ok=False)
    assert_one_line_error(p, 11, "--split-index needs --splits")
    p = run("baseline", "human", "--dataset", summe_h5, "--splits", SPLITS / "tvsum_splits.json", ok=False)
    assert_one_line_error(p, 4, "tvsum_splits.json", "not in the dataset")
    p = run(
        "baseline",
        "human",
        "--dataset",
        summe_h5,
        "--splits",
        SPLITS / "summe_splits.json",
        "--split-index",
        7,
        ok=False,
    )
    assert_one_line_error(p, 4, "split index 7 out of range")
    p = run("baseline", "uniform", "--dataset", tmp_path / "nope.h5", ok=False)
    assert_one_line_error(p, 3, "nope.h5: file not found")
    unlabeled = tmp_path / "collection.h5"
    save_dataset(
        unlabeled, [Video(key="v1", features=np.ones((4, 2), np.float32), picks=np.arange(0, 60, 15), n_frames=60)]
    )
    p = run("baseline", "random", "--dataset", unlabeled, ok=False)
    assert_one_line_error(p, 11, "give --metric")
    p = run("baseline", "random", "--dataset", unlabeled, "--metric", "max", "--draws", 2, ok=False)
    assert_one_line_error(p, 3, "collection.h5: nothing to score the random baseline against")
