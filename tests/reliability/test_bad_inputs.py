"""Bad input (docs/reliability.md, the groups naming this file): every bad input, run through the real command.

Each row runs ``python -m acsumgan ...`` in a subprocess and checks the exit code of
the problem's class (acsumgan.errors), ONE line on stderr that names the file and the
problem, and no traceback; or, where that is sensible, that the command works.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from acsumgan.evaluation.scores import read_scores
from acsumgan.train.trainer import read_metrics

from .conftest import PYTHON, TINY, assert_one_line_error, assert_usage_error, cli


def validate_args(dataset, *extra):
    """`dataset validate --purpose train`: the same reader and checks as `train`, without
    importing torch (a faster row)."""
    return ["dataset", "validate", dataset, "--purpose", "train", *extra]


def train_args(dataset, out, splits=None, *extra):
    return [
        "train",
        "--dataset",
        dataset,
        "--out",
        out,
        *([] if splits is None else ["--splits", splits]),
        "--n_epochs",
        "1",
        *TINY,
        *extra,
    ]


# id -> (bad, models, videos, tmp) -> (argv, exit code, file named, phrases)
ROWS = {
    # --- dataset files (the checks of load_dataset, whatever command reads the file) ---
    "dataset-missing": lambda b, m, v, t: (
        train_args(b["missing"], t / "r", b["splits"]),
        3,
        b["missing"],
        ["file not found"],
    ),
    "dataset-not-hdf5": lambda b, m, v, t: (validate_args(b["not_hdf5"]), 3, b["not_hdf5"], ["not an HDF5 file"]),
    "dataset-truncated": lambda b, m, v, t: (validate_args(b["truncated"]), 3, b["truncated"], ["truncated HDF5 file"]),
    "dataset-no-features": lambda b, m, v, t: (
        train_args(b["no_features"], t / "r", b["splits"]),
        3,
        b["no_features"],
        ["video_3/features: missing (needed to train)"],
    ),
    "dataset-nan": lambda b, m, v, t: (
        train_args(b["nan"], t / "r", b["splits"]),
        3,
        b["nan"],
        ["video_2/features: contains NaN or inf (first at step 7)"],
    ),
    "dataset-inf": lambda b, m, v, t: (
        validate_args(b["inf"]),
        3,
        b["inf"],
        ["video_2/features: contains NaN or inf (first at step 7)"],
    ),
    "dataset-T0": lambda b, m, v, t: (
        train_args(b["t0"], t / "r", b["splits"]),
        3,
        b["t0"],
        ["video_4/features: has 0 steps"],
    ),
    "dataset-shots-gap": lambda b, m, v, t: (
        validate_args(b["cp_gap"]),
        3,
        b["cp_gap"],
        ["video_5/change_points: do not cover the video"],
    ),
    "train-input-size": lambda b, m, v, t: (
        train_args(b["good"], t / "r", b["splits"], "--input_size", "1024"),
        12,
        b["good"],
        ["features have 32 dimensions but input_size is 1024", "pass --input_size 32"],
    ),
    # --- splits ---
    "splits-unknown-video": lambda b, m, v, t: (
        train_args(b["good"], t / "r", b["splits_unknown"]),
        4,
        b["splits_unknown"],
        ["'video_42', which is not in the dataset"],
    ),
    "splits-empty-train": lambda b, m, v, t: (
        train_args(b["good"], t / "r", b["splits_empty_train"]),
        4,
        b["splits_empty_train"],
        ["split 0: train_keys is empty"],
    ),
    # --- options ---
    "budget-config-file": lambda b, m, v, t: (
        train_args(b["good"], t / "r", b["splits"], "--config", b["config_budget"]),
        11,
        b["config_budget"],
        ["budget must be between 0 and 1 (exclusive), got 1.5"],
    ),
    # --- checkpoints (summarize loads the model before decoding) ---
    "model-missing": lambda b, m, v, t: (
        ["summarize", v["one_frame"], "--model", m["missing"], "--out", t / "o"],
        6,
        m["missing"],
        ["model not found"],
    ),
    "model-truncated": lambda b, m, v, t: (
        ["summarize", v["one_frame"], "--model", m["truncated"], "--out", t / "o"],
        6,
        m["truncated"],
        ["truncated or corrupt checkpoint"],
    ),
    "model-version-99": lambda b, m, v, t: (
        ["summarize", v["one_frame"], "--model", m["version99"], "--out", t / "o"],
        6,
        m["version99"],
        ["checkpoint version 99 is not supported"],
    ),
    "model-random-dict": lambda b, m, v, t: (
        ["summarize", v["one_frame"], "--model", m["random_dict"], "--out", t / "o"],
        6,
        m["random_dict"],
        ["not an acsumgan checkpoint"],
    ),
    "model-pickled-module": lambda b, m, v, t: (
        ["summarize", v["one_frame"], "--model", m["pickled_module"], "--out", t / "o"],
        6,
        m["pickled_module"],
        ["not an acsumgan checkpoint"],
    ),
    "model-weights-mismatch": lambda b, m, v, t: (
        ["summarize", v["one_frame"], "--model", m["weights_mismatch"], "--out", t / "o"],
        6,
        m["weights_mismatch"],
        ["has shape", "the config implies"],
    ),
    "model-feature-size": lambda b, m, v, t: (
        ["summarize", v["one_frame"], "--model", m["m32"], "--out", t / "o"],
        12,
        m["m32"],
        ["the model expects 32-d features, which no backbone gives"],
    ),
    "model-feature-size-backbone": lambda b, m, v, t: (
        ["summarize", v["one_frame"], "--model", m["m32"], "--out", t / "o", "--backbone", "efficientnet-lite0"],
        12,
        "backbone efficientnet-lite0",
        ["features have 1280 dimensions but the model", "expects 32"],
    ),
    # --- videos ---
    "video-missing": lambda b, m, v, t: (
        ["summarize", v["missing"], "--model", m["m1280"], "--out", t / "o"],
        7,
        v["missing"],
        ["file not found"],
    ),
    "video-empty": lambda b, m, v, t: (
        ["summarize", v["empty"], "--model", m["m1280"], "--out", t / "o"],
        7,
        v["empty"],
        ["is empty (0 bytes)"],
    ),
    "video-text": lambda b, m, v, t: (
        ["summarize", v["text"], "--model", m["m1280"], "--out", t / "o"],
        7,
        v["text"],
        ["not a video file"],
    ),
    "video-audio-only": lambda b, m, v, t: (
        ["summarize", v["audio_only"], "--model", m["m1280"], "--out", t / "o"],
        7,
        v["audio_only"],
        ["has no video stream (audio only)"],
    ),
    "video-truncated-mp4": lambda b, m, v, t: (
        ["summarize", v["truncated_mp4"], "--model", m["m1280"], "--out", t / "o"],
        7,
        v["truncated_mp4"],
        ["truncated or corrupt MP4"],
    ),
    "video-one-frame-default-budget": lambda b, m, v, t: (
        ["summarize", v["one_frame"], "--model", m["m1280"], "--out", t / "o"],
        11,
        v["one_frame"],
        ["the summary would be empty"],
    ),
    # --- output locations (tests run as root: permissions do not bite, these do) ---
    "out-under-a-file": lambda b, m, v, t: (
        train_args(b["good"], b["a_file"] / "run", b["splits"]),
        8,
        b["a_file"] / "run",
        ["cannot write: Not a directory"],
    ),
    "out-file-under-a-file": lambda b, m, v, t: (
        ["splits", "make", "--dataset", b["good"], "--out", b["a_file"] / "splits.json"],
        8,
        b["a_file"],
        ["exists and is not a folder"],
    ),
    "out-in-proc": lambda b, m, v, t: (
        train_args(b["good"], "/proc/acsumgan-test-run", b["splits"]),
        8,
        "/proc/acsumgan-test-run",
        ["cannot write"],
    ),
}


USAGE_ROWS = {
    # (option, value) -> phrase of click's one `Error:` line (exit 2, like every usage error)
    "budget-0": ("--budget", "0", "0.0 is not in the range 0<x<1"),
    "budget-negative": ("--budget", "-0.5", "-0.5 is not in the range 0<x<1"),
    "budget-1": ("--budget", "1", "1.0 is not in the range 0<x<1"),
    "budget-nan": ("--budget", "nan", "nan is not a number"),
    "out-is-a-file": ("--out", None, "is a file"),
}


def _usage_argv(row, b, t):
    option, value, _ = USAGE_ROWS[row]
    if option == "--out":
        return train_args(b["good"], b["a_file"], b["splits"])
    return ["evaluate", "--dataset", b["good"], "--scores", t / "none.json", "--budget", value]


@pytest.fixture(scope="module")
def odd_lengths(tmp_path_factory):
    """Videos of T = 1, 59, 60, 61 and 118 steps (around M = 60 fragments and 2M), each
    length once for training and once for testing."""
    from acsumgan.synthetic.dataset import write_synth_dataset

    d = tmp_path_factory.mktemp("odd")
    steps = [1, 59, 60, 61, 118]
    path = write_synth_dataset(d / "odd.h5", "summe", seed=3, dim=32, steps=steps + steps)
    keys = [f"video_{i}" for i in range(1, 11)]
    (d / "splits.json").write_text(json.dumps([{"train_keys": keys[:5], "test_keys": keys[5:]}]))
    return path, d / "splits.json", dict(zip(keys, steps + steps))


def _train_then_evaluate(dataset, splits, run):
    train = cli("train", "--dataset", dataset, "--splits", splits, "--out", run, "--n_epochs", "2", *TINY)
    if train.returncode:
        return train, None
    return train, cli("evaluate", "--dataset", dataset, "--scores", run / "scores.h5", "--epoch", "1", "--json")


@pytest.fixture(scope="module")
def launched(bad, models, videos, odd_lengths, tmp_path_factory):
    """Every command of this module, started a few at a time in the background (they
    spend most of their time starting Python and importing torch); the tests check them."""
    pool = ThreadPoolExecutor(max_workers=max(2, min(4, (os.cpu_count() or 1) + 1)))
    runs = {}
    t = tmp_path_factory.mktemp("works")
    # the slow ones first
    dataset, splits, _ = odd_lengths
    runs["odd-lengths"] = pool.submit(_train_then_evaluate, dataset, splits, t / "odd_run")
    runs["summarize-works"] = pool.submit(
        cli,
        "summarize",
        *[videos[n] for n in SUMMARIZED],
        "--model",
        models["m1280"],
        "--out",
        t / "summaries",
        "--seconds",
        "1",
    )
    runs["empty-test-split"] = pool.submit(cli, *train_args(bad["good"], t / "no_test", bad["splits_empty_test"]))
    for row, make in ROWS.items():
        argv, code, path, phrases = make(bad, models, videos, tmp_path_factory.mktemp(row))
        runs[row] = (pool.submit(cli, *argv), code, path, phrases)
    for row in USAGE_ROWS:
        runs[row] = pool.submit(cli, *_usage_argv(row, bad, tmp_path_factory.mktemp(row)))
    runs["works_dir"] = t
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("row", list(ROWS))
def test_bad_input_gives_one_line_and_its_exit_code(row, launched):
    future, code, path, phrases = launched[row]
    assert_one_line_error(future.result(), code, path, *phrases)


@pytest.mark.parametrize("row", list(USAGE_ROWS))
def test_option_out_of_range_is_a_usage_error(row, launched):
    option, _, phrase = USAGE_ROWS[row]
    assert_usage_error(launched[row].result(), option, phrase)


def test_read_only_folder(private_mount, bad, tmp_path):
    """A genuinely read-only file system (a private read-only tmpfs; root cannot write there)."""
    ro = tmp_path / "readonly"
    proc = private_mount("ro,size=64k", ro, [*PYTHON, *train_args(bad["good"], ro / "run", bad["splits"])])
    assert_one_line_error(proc, 8, ro / "run", "cannot write here (permission denied or read-only)")
    proc = private_mount(
        "ro,size=64k", ro, [*PYTHON, "splits", "make", "--dataset", bad["good"], "--out", ro / "splits.json"]
    )
    assert_one_line_error(proc, 8, ro, "cannot write here (permission denied or read-only)")


# --- inputs that must work ---------------------------------------------------------------


def test_empty_test_split_trains_without_evaluation(launched):
    proc = launched["empty-test-split"].result()
    assert proc.returncode == 0, proc.stderr
    run = launched["works_dir"] / "no_test"
    rows = read_metrics(run)
    assert [r["epoch"] for r in rows] == [-1, 0] and rows[-1]["f_score"] is None
    assert (run / "COMPLETE").exists() and not (run / "scores.h5").exists()


def test_videos_of_1_59_60_61_118_steps_train_and_evaluate(launched, odd_lengths):
    _, _, steps = odd_lengths
    train, evaluate = launched["odd-lengths"].result()
    assert train.returncode == 0, train.stderr
    run = launched["works_dir"] / "odd_run"
    rows = read_metrics(run)
    assert [r["epoch"] for r in rows] == [-1, 0, 1]
    assert all(np.isfinite(r["f_score"]) for r in rows)
    scores = read_scores(run / "scores.h5")
    for key in list(steps)[5:]:
        assert scores[1][key].shape == (steps[key],) and np.isfinite(scores[1][key]).all()
    assert evaluate.returncode == 0, evaluate.stderr
    result = json.loads(evaluate.stdout)
    assert sorted(result["videos"]) == sorted(list(steps)[5:])
    assert result["mean"] == pytest.approx(rows[-1]["f_score"])


SUMMARIZED = ["truncated_mkv", "truncated_faststart", "one_frame"]


def test_truncated_videos_and_one_frame_video_summarize(launched, videos):
    """Matroska and fast-start MP4 cut in half: summarized from the frames that decode.
    One frame: works once the budget covers a frame (--seconds 1)."""
    proc = launched["summarize-works"].result()
    assert proc.returncode == 0, proc.stderr
    out = launched["works_dir"] / "summaries"
    for n in SUMMARIZED:
        seg = json.loads((out / videos[n].stem / "segments.json").read_text())
        assert (out / videos[n].stem / "summary.mp4").stat().st_size > 0
        if n == "one_frame":
            assert seg["n_frames"] == 1 and seg["summary_frames"] == 1
        else:
            assert 10 < seg["n_frames"] < 100  # about half of the 100 frames decode
            assert 0 < seg["summary_frames"] <= 10
