"""The real commands: ``acsumgan dataset import-gt`` and ``acsumgan baseline``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from acsumgan.data.dataset import Video, dataset_attrs, load_dataset, save_dataset

from .conftest import SPLITS, SUMME, SUMME_CP, SUMME_GT, SUMME_MAP, TVSUM_TSV, h5_user_summary

ROOT = Path(__file__).resolve().parents[2]


def run(*args, ok=True):
    p = subprocess.run([sys.executable, "-m", "acsumgan", *map(str, args)], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    if ok:
        assert p.returncode == 0, p.stderr
    return p


def assert_one_line_error(p, code: int, *needles: str):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("acsumgan: error: ")
    assert "Traceback" not in p.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.fixture(scope="module")
def summe_h5(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "summe_gt.h5"
    p = run("dataset", "import-gt", "summe", "--gt-dir", SUMME_GT, "--change-points", SUMME_CP,
            "--mapping", SUMME_MAP, "--out", out)
    assert "25 summe videos" in p.stdout.replace("\n", " ")
    return out


def test_import_summe_writes_a_valid_evaluation_file(summe_h5):
    videos = load_dataset(summe_h5, "evaluate")
    # (HDF5 lists groups by name: video_1, video_10, ...; the names carry the order)
    assert sorted(videos, key=lambda k: int(k.split("_")[1])) == [f"video_{i}" for i in range(1, 26)]
    assert dataset_attrs(summe_h5)["eval_metric"] == "max"
    np.testing.assert_array_equal(videos["video_19"].user_summary,
                                  h5_user_summary(SUMME / "h5_user_summary" / "video_19.json.gz"))
    assert videos["video_19"].video_name == "St Maarten Landing"


def test_import_tvsum_from_mat_and_tsv_give_identical_files(tmp_path, tvsum_mat):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    p = run("dataset", "import-gt", "tvsum", "--anno", TVSUM_TSV, "--out", a, "--json")
    info = json.loads(p.stdout)
    assert info["videos"] == 50 and "user_scores" in info["fields"] and "user_summary" not in info["fields"]
    run("dataset", "import-gt", "tvsum", "--anno", tvsum_mat, "--out", b)
    va, vb = load_dataset(a), load_dataset(b)
    assert list(va) == list(vb) and len(va) == 50
    for k in va:
        for f in ("picks", "n_frames", "n_steps", "user_scores", "gtscore", "video_name"):
            np.testing.assert_array_equal(getattr(va[k], f), getattr(vb[k], f))
        assert va[k].change_points is None and va[k].user_summary is None
    assert dataset_attrs(a)["eval_metric"] == "avg"


def test_import_with_merge_and_a_mismatched_merge(tmp_path, summe_h5):
    gt = load_dataset(summe_h5)
    feats = [Video(key=k, features=np.full((v.n_steps, 4), 0.5, np.float32), n_frames=v.n_frames)
             for k, v in gt.items()]
    save_dataset(tmp_path / "feats.h5", feats)
    out = tmp_path / "merged.h5"
    run("dataset", "import-gt", "summe", "--gt-dir", SUMME_GT, "--change-points", SUMME_CP,
        "--merge", tmp_path / "feats.h5", "--out", out)
    merged = load_dataset(out, "evaluate")
    load_dataset(out, "train")
    assert merged["video_5"].features.shape == (gt["video_5"].n_steps, 4)
    feats[[f.key for f in feats].index("video_5")] = Video(key="video_5", features=np.ones((gt["video_5"].n_steps + 3, 4), np.float32))
    save_dataset(tmp_path / "bad.h5", feats)
    p = run("dataset", "import-gt", "summe", "--gt-dir", SUMME_GT, "--merge", tmp_path / "bad.h5",
            "--out", tmp_path / "x.h5", ok=False)
    assert_one_line_error(p, 3, "bad.h5", "video_5: has 346 steps but the ground truth's 5131 frames give 343")
    assert not (tmp_path / "x.h5").exists()


def test_import_errors_are_one_line(tmp_path):
    p = run("dataset", "import-gt", "summe", "--gt-dir", tmp_path / "missing", "--out", tmp_path / "o.h5", ok=False)
    assert_one_line_error(p, 3, "missing: folder not found")
    bad = tmp_path / "bad.tsv"
    bad.write_text("vid\tVT\t1,2,3\nvid\tVT\t1,2,oops\n")
    p = run("dataset", "import-gt", "tvsum", "--anno", bad, "--out", tmp_path / "o.h5", ok=False)
    assert_one_line_error(p, 3, "bad.tsv: line 2: score 3 ('oops') is not a number")
    p = run("dataset", "import-gt", "tvsum", "--anno", tmp_path / "none.tsv", "--out", tmp_path / "o.h5", ok=False)
    assert_one_line_error(p, 3, "none.tsv: file not found")
    assert not (tmp_path / "o.h5").exists()


def test_baseline_human_json_with_splits(summe_h5):
    p = run("baseline", "human", "--dataset", summe_h5, "--splits", SPLITS / "summe_splits.json", "--json")
    out = json.loads(p.stdout)
    assert out["metric"] == "max" and out["baseline"] == "human"
    assert [r["split"] for r in out["rows"]] == [0, 1, 2, 3, 4, "mean"]
    mean = out["rows"][-1]
    assert mean["f_score"] > 50 and mean["n_videos"] == 18 and mean["rank_reference"] == "user_summary"


def test_baseline_random_table(summe_h5):
    p = run("baseline", "random", "--dataset", summe_h5, "--draws", 3, "--seed", 1, "--metric", "avg",
            "--splits", SPLITS / "summe_splits.json", "--split-index", 1)
    assert "±" in p.stdout and "F-score (avg, %)" in p.stdout and "3 draws, seed 1" in p.stdout
    assert "mean" not in p.stdout.split("┃ split")[-1]  # one split only: no mean row


def test_baseline_errors(tmp_path, summe_h5):
    p = run("baseline", "human", "--dataset", summe_h5, "--split-index", 0, ok=False)
    assert_one_line_error(p, 11, "--split-index needs --splits")
    p = run("baseline", "human", "--dataset", summe_h5, "--splits", SPLITS / "tvsum_splits.json", ok=False)
    assert_one_line_error(p, 4, "tvsum_splits.json", "not in the dataset")
    p = run("baseline", "human", "--dataset", summe_h5, "--splits", SPLITS / "summe_splits.json",
            "--split-index", 7, ok=False)
    assert_one_line_error(p, 4, "split index 7 out of range")
    p = run("baseline", "uniform", "--dataset", tmp_path / "nope.h5", ok=False)
    assert_one_line_error(p, 3, "nope.h5: file not found")
    unlabeled = tmp_path / "collection.h5"
    save_dataset(unlabeled, [Video(key="v1", features=np.ones((4, 2), np.float32), picks=np.arange(0, 60, 15),
                                   n_frames=60)])
    p = run("baseline", "random", "--dataset", unlabeled, ok=False)
    assert_one_line_error(p, 11, "give --metric")
    p = run("baseline", "random", "--dataset", unlabeled, "--metric", "max", "--draws", 2, ok=False)
    assert_one_line_error(p, 3, "collection.h5: nothing to score the random baseline against")
