"""The dataset commands: ``acsumgan dataset import-gt`` on the real ground truth, and
``dataset build`` of one's own videos (``dataset validate``: tests/data/test_dataset.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from acsumgan.data.dataset import Video, dataset_attrs, load_dataset, save_dataset
from conftest import SUMME, SUMME_CP, SUMME_GT, TVSUM_TSV, h5_user_summary

from .conftest import assert_one_line_error, run


def test_import_summe_writes_a_valid_evaluation_file(summe_h5):
    videos = load_dataset(summe_h5, "evaluate")
    # (HDF5 lists groups by name: video_1, video_10, ...; the names carry the order)
    assert sorted(videos, key=lambda k: int(k.split("_")[1])) == [f"video_{i}" for i in range(1, 26)]
    assert dataset_attrs(summe_h5)["eval_metric"] == "max"
    np.testing.assert_array_equal(
        videos["video_19"].user_summary, h5_user_summary(SUMME / "h5_user_summary" / "video_19.json.gz")
    )
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
    feats = [
        Video(key=k, features=np.full((v.n_steps, 4), 0.5, np.float32), n_frames=v.n_frames) for k, v in gt.items()
    ]
    save_dataset(tmp_path / "feats.h5", feats)
    out = tmp_path / "merged.h5"
    run(
        "dataset",
        "import-gt",
        "summe",
        "--gt-dir",
        SUMME_GT,
        "--change-points",
        SUMME_CP,
        "--merge",
        tmp_path / "feats.h5",
        "--out",
        out,
    )
    merged = load_dataset(out, "evaluate")
    load_dataset(out, "train")
    assert merged["video_5"].features.shape == (gt["video_5"].n_steps, 4)
    feats[[f.key for f in feats].index("video_5")] = Video(
        key="video_5", features=np.ones((gt["video_5"].n_steps + 3, 4), np.float32)
    )
    save_dataset(tmp_path / "bad.h5", feats)
    p = run(
        "dataset",
        "import-gt",
        "summe",
        "--gt-dir",
        SUMME_GT,
        "--merge",
        tmp_path / "bad.h5",
        "--out",
        tmp_path / "x.h5",
        ok=False,
    )
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


@pytest.mark.slow  # a run trained on own videos
def test_build_writes_an_unlabeled_dataset_train_accepts(own_run, own_videos):
    videos = load_dataset(own_run / "own.h5", purpose="summarize")
    assert [v.video_name for v in videos.values()] == ["a.mp4", "b.mp4"]
    for v in videos.values():
        assert v.features.shape[1] == 1280 and v.user_summary is None
        assert v.change_points[-1, 1] == v.n_frames - 1
    assert dataset_attrs(own_run / "own.h5")["backbone"] == "efficientnet-lite0"
    assert (own_run / "run" / "COMPLETE").exists()


def test_one_video_is_one_video_not_one_videos(tmp_path):
    one, two = tmp_path / "one.h5", tmp_path / "two.h5"
    p = run("dataset", "synth", "--videos", "1", "--dim", "8", "--out", one)
    assert "1 summe video (summe profile" in " ".join(p.stdout.split())
    p = run("dataset", "validate", one)
    assert "1 video, valid" in " ".join(p.stdout.split())
    p = run("dataset", "synth", "--videos", "2", "--dim", "8", "--out", two)
    assert "2 summe videos (summe profile" in " ".join(p.stdout.split())
    p = run("dataset", "validate", two)
    assert "2 videos, valid" in " ".join(p.stdout.split())
