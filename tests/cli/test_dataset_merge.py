"""``dataset merge`` and ``splits make --kind augmented|transfer`` on the real SumMe and TVSum
ground truth (imported by the project's importers) with seeded 32-d features; one-line
errors; a short experiment on the merged file. The library: tests/data/test_merge.py."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
import yaml

from acsumgan.data.dataset import load_dataset, save_dataset

from .conftest import ROOT, assert_one_line_error, run

SUMME_FILE = "eccv16_dataset_summe_google_pool5.h5"
TVSUM_FILE = "eccv16_dataset_tvsum_google_pool5.h5"


def _features(videos, dim, seed):
    rng = np.random.default_rng(seed)
    return {
        k: dataclasses.replace(v, features=rng.normal(size=(v.n_steps, dim)).astype(np.float32))
        for k, v in videos.items()
    }


@pytest.fixture(scope="module")
def files(tmp_path_factory, summe_videos, tvsum_videos_tsv):
    d = tmp_path_factory.mktemp("merge_cli")
    summe = save_dataset(d / SUMME_FILE, _features(summe_videos, 32, 0), attrs={"eval_metric": "max"})
    tvsum = save_dataset(d / TVSUM_FILE, _features(tvsum_videos_tsv, 32, 1), attrs={"eval_metric": "avg"})
    tvsum64 = save_dataset(d / "tvsum64.h5", _features(tvsum_videos_tsv, 64, 2))
    merged = d / "ALL.h5"
    p = run("dataset", "merge", summe, tvsum, "--out", merged)
    assert "75 videos of 2 datasets (summe 25, tvsum 50)" in _text(p)
    return {"summe": summe, "tvsum": tvsum, "tvsum64": tvsum64, "merged": merged, "dir": d}


@pytest.fixture(scope="module")
def keys(files):
    return list(load_dataset(files["merged"]))


def _text(p) -> str:
    """stdout with the console's line wrapping undone."""
    return " ".join(p.stdout.split())


def _of(keys, name):
    return [k for k in keys if k.startswith(name + "/")]


def test_merge_keeps_every_video_once(files, keys):
    assert len(keys) == len(set(keys)) == 75
    assert keys == [f"summe/{k}" for k in load_dataset(files["summe"])] + [
        f"tvsum/{k}" for k in load_dataset(files["tvsum"])
    ]
    p = run("dataset", "validate", files["merged"], "--purpose", "train", "--json")
    info = json.loads(p.stdout)
    assert [r["video"] for r in info["videos"]] == keys and {r["dim"] for r in info["videos"]} == {32}


def test_names_option(files, tmp_path):
    out = tmp_path / "named.h5"
    run("dataset", "merge", files["summe"], files["tvsum"], "--out", out, "--names", "s, t")
    assert list(load_dataset(out))[0].startswith("s/") and list(load_dataset(out))[-1].startswith("t/")


def test_transfer_split(files, keys, tmp_path):
    out = tmp_path / "transfer.json"
    p = run("splits", "make", "--dataset", files["merged"], "--out", out, "--kind", "transfer", "--target", "summe")
    assert "1 transfer split: test all 25 videos of summe, train on the 50 videos of tvsum" in _text(p)
    (split,) = json.loads(out.read_text())
    assert (split["setting"], split["target"]) == ("transfer", "summe")
    assert set(_of(keys, "summe")) <= set(split["test_keys"]) and set(split["test_keys"]) == set(_of(keys, "summe"))
    assert not set(split["test_keys"]) & set(split["train_keys"])
    assert sorted(split["train_keys"]) == sorted(_of(keys, "tvsum"))
    p = run("splits", "show", out, "--dataset", files["merged"])
    assert "setting: transfer, target: summe" in _text(p)


@pytest.mark.parametrize("extra", [(), ("--kfold",)])
def test_augmented_splits(files, keys, tmp_path, extra):
    out = tmp_path / "augmented.json"
    run(
        "splits",
        "make",
        "--dataset",
        files["merged"],
        "--out",
        out,
        "--kind",
        "augmented",
        "--target",
        "summe",
        "--seed",
        "5",
        *extra,
    )
    splits = json.loads(out.read_text())
    summe, tvsum = _of(keys, "summe"), _of(keys, "tvsum")
    assert len(splits) == 5
    for s in splits:
        assert (s["setting"], s["target"]) == ("augmented", "summe")
        assert len(s["test_keys"]) == 5 and set(s["test_keys"]) <= set(summe)
        train_summe = [k for k in s["train_keys"] if k in summe]
        assert sorted(train_summe + s["test_keys"]) == sorted(summe)
        assert not set(s["test_keys"]) & set(s["train_keys"])
        assert set(tvsum) <= set(s["train_keys"])
    if extra:
        assert sorted(k for s in splits for k in s["test_keys"]) == sorted(summe)
    p = run("splits", "show", out)
    assert "setting: augmented, target: summe (5 of 5 splits)" in _text(p)


# --- one-line errors --------------------------------------------------------------------


def test_mismatched_feature_sizes(files, tmp_path):
    out = tmp_path / "x.h5"
    p = run("dataset", "merge", files["summe"], files["tvsum64"], "--out", out, ok=False)
    assert_one_line_error(p, 3, str(files["tvsum64"]), str(files["summe"]), "64", "32", "one feature size")
    assert not out.exists()


def test_out_equal_to_an_input(files):
    before = files["tvsum"].read_bytes()
    p = run("dataset", "merge", files["summe"], files["tvsum"], "--out", files["tvsum"], ok=False)
    assert_one_line_error(p, 8, f"{files['tvsum']}: is also an input")
    assert files["tvsum"].read_bytes() == before


@pytest.mark.parametrize(
    "args,code,needles",
    [
        (("dataset", "merge", "{summe}", "--out", "{dir}/x.h5"), 11, ["at least 2 dataset files"]),
        (
            ("dataset", "merge", "{summe}", "{tvsum}", "--out", "{dir}/x.h5", "--names", "a"),
            11,
            ["1 names for 2 files"],
        ),
        (("dataset", "merge", "{summe}", "{dir}/none.h5", "--out", "{dir}/x.h5"), 3, ["none.h5: file not found"]),
        (
            ("dataset", "merge", "{merged}", "{summe}", "--out", "{dir}/x.h5", "--names", "a,b"),
            3,
            ["is already a merged file"],
        ),
        (
            (
                "splits",
                "make",
                "--dataset",
                "{merged}",
                "--out",
                "{dir}/s.json",
                "--kind",
                "transfer",
                "--target",
                "summe",
                "--n-splits",
                "5",
            ),
            11,
            ["makes 1 split"],
        ),
        (
            (
                "splits",
                "make",
                "--dataset",
                "{merged}",
                "--out",
                "{dir}/s.json",
                "--kind",
                "augmented",
                "--target",
                "ovp",
            ),
            11,
            ["has no dataset 'ovp'", "summe, tvsum"],
        ),
        (
            ("splits", "make", "--dataset", "{merged}", "--out", "{dir}/s.json", "--kind", "transfer"),
            11,
            ["needs --target"],
        ),
        (
            (
                "splits",
                "make",
                "--dataset",
                "{summe}",
                "--out",
                "{dir}/s.json",
                "--kind",
                "transfer",
                "--target",
                "summe",
            ),
            11,
            ["needs a merged file"],
        ),
        (
            ("splits", "make", "--dataset", "{merged}", "--out", "{dir}/s.json", "--target", "summe"),
            11,
            ["--target goes with --kind augmented or transfer"],
        ),
    ],
)
def test_one_line_errors(files, args, code, needles):
    p = run(*[a.format(**files) for a in args], ok=False)
    assert_one_line_error(p, code, *needles)
    assert not (files["dir"] / "x.h5").exists() and not (files["dir"] / "s.json").exists()


# --- a short experiment on the merged file -------------------------------------------------


@pytest.mark.slow
def test_experiment_on_a_merged_file_with_a_transfer_split(files, tmp_path):
    splits = tmp_path / "S.json"
    run("splits", "make", "--dataset", files["merged"], "--out", splits, "--kind", "transfer", "--target", "summe")
    out = tmp_path / "EXP"
    # no --eval-metric: the trainer takes the test keys' dataset (summe: max) from the merged file
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "acsumgan",
            "experiment",
            "--dataset",
            str(files["merged"]),
            "--splits",
            str(splits),
            "--out",
            str(out),
            "--sigmas",
            "0.5",
            "--n_epochs",
            "2",
            "--hidden_size",
            "8",
            "--input_size",
            "32",
            "--workers",
            "1",
            "--threads",
            "1",
            "--baseline-draws",
            "2",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert (out / "report.md").is_file()
    assert len(json.loads((out / "results.json").read_text())["runs"]) == 1
    run_dir = out / "sigma0.5" / "split0"
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["eval_metric"] == "max"
    # the run's scores (keys summe/video_k) read back
    from acsumgan.evaluation.scores import read_scores

    scores = read_scores(run_dir / "scores.h5")
    assert sorted(scores) == [-1, 0, 1] and all(k.startswith("summe/") for k in scores[1])
