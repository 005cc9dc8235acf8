"""docs/reliability.md, "Options and config files": config files and flags under one validation, thread
counts, and messages that used to mislead. Every test runs the real command
(``python -m acsumgan ...``) in a subprocess: exit code, one line, no traceback."""

from __future__ import annotations

import json
import os
import shutil

import h5py
import numpy as np
import pytest
import yaml

from acsumgan.config import available_cores
from acsumgan.evaluation.scores import read_scores
from acsumgan.train.trainer import read_metrics

from .conftest import ERROR_PREFIX, TINY, assert_one_line_error, cli

CORES = available_cores()


def _train(dataset, splits, out, *extra):
    return ["train", "--dataset", dataset, "--splits", splits, "--out", out, *TINY, *extra]


def _usage_error(proc, *phrases: str) -> str:
    """A click usage error: exit 2, no traceback, the last line ``Error: ...`` with ``phrases``."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("Usage: acsumgan") and lines[-1].startswith("Error: "), proc.stderr
    for p in phrases:
        assert p in lines[-1], (p, lines[-1])
    return lines[-1]


# --- A. YAML config files: the validation of the flags ---------------------------------------

BAD_YAML = {
    "n_epochs-word": ("n_epochs: one\n", "n_epochs must be an integer, got 'one'"),
    "n_epochs-fraction": ("n_epochs: 1.7\n", "n_epochs must be an integer, got 1.7"),
    "seed-string": ('seed: "abc"\n', "seed must be an integer, got 'abc'"),
    "hidden_size-list": ("hidden_size: [64]\n", "hidden_size must be an integer, got [64]"),
    "sigma-word": ('regularization_factor: "high"\n', "regularization_factor must be a number, got 'high'"),
    "threads-0": ("threads: 0\n", f"threads must be between 1 and {CORES}"),
    "threads-above-cores": (f"threads: {CORES + 1}\n", f"threads must be between 1 and {CORES}"),
    "discount-7": ("discount: 7\n", "discount must be between 0 and 1, got 7"),
    "entropy-negative": ("entropy_coef: -3\n", "entropy_coef must be >= 0, got -3"),
    "sigma-negative": ("regularization_factor: -1\n", "regularization_factor must be between 0 and 1"),
    "checkpoint-interval-negative": ("checkpoint_interval_s: -5\n", "checkpoint_interval_s must be >= 0"),
    "video_type-case": ("video_type: Summe\n", "video_type must be SumMe or TVSum, got 'Summe'; did you mean 'SumMe'?"),
    "key-dataset": ("dataset: x.h5\n", "'dataset' is not a config option (give --dataset on the command line)"),
    "key-out": ("out: somewhere\n", "'out' is not a config option (give --out on the command line)"),
    "key-typo": ("hiden_size: 16\n", "unknown option 'hiden_size'; did you mean 'hidden_size'?"),
    "key-typo-dashed": ("checkpoint-interval: 5\n", "did you mean 'checkpoint_interval_s'?"),
}


@pytest.mark.parametrize("case", list(BAD_YAML))
def test_bad_yaml_value_or_key_is_one_line_naming_file_and_key(case, tiny_synth, tiny_splits, tmp_path):
    text, phrase = BAD_YAML[case]
    conf = tmp_path / "bad config.yaml"
    conf.write_text(text)
    out = tmp_path / "run"
    proc = cli(*_train(tiny_synth, tiny_splits, out, "--config", conf))
    assert_one_line_error(proc, 11, conf, phrase)
    assert not out.exists()  # refused before anything was written (before training starts)


def test_yaml_numeric_strings_are_numbers_as_flags(tiny_synth, tiny_splits, tmp_path):
    """PyYAML reads ``1e-4`` as a string: it is the number the flag --lr 1e-4 gives."""
    conf = tmp_path / "c.yaml"
    conf.write_text("lr: 1e-4\ndiscriminator_lr: 1e-5\nn_epochs: 0\nbatch_size: '4'\n")
    out = tmp_path / "run"
    proc = cli(*_train(tiny_synth, tiny_splits, out, "--config", conf))
    assert proc.returncode == 0, proc.stderr
    resolved = yaml.safe_load((out / "config.yaml").read_text())["resolved"]
    assert resolved["lr"] == 1e-4 and isinstance(resolved["lr"], float)
    assert resolved["discriminator_lr"] == 1e-5 and resolved["batch_size"] == 4


def test_experiment_and_summarize_configs_use_the_same_validation(tiny_synth, tiny_splits, videos, tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text("discount: 7\n")
    proc = cli(
        "experiment", "--dataset", tiny_synth, "--splits", tiny_splits, "--out", tmp_path / "e", "--config", conf
    )
    assert_one_line_error(proc, 11, conf, "discount must be between 0 and 1, got 7")
    proc = cli("summarize", videos["one_frame"], "--out", tmp_path / "s", "--train-config", conf)
    assert_one_line_error(proc, 11, conf, "discount must be between 0 and 1, got 7")


# --- B / E. threads and devices ----------------------------------------------------------------------


@pytest.mark.parametrize("threads", ["0", str(CORES + 1), "999"])
@pytest.mark.parametrize("command", ["train", "experiment", "summarize", "dataset build", "demo"])
def test_threads_out_of_range_is_a_usage_error(command, threads, tiny_synth, tiny_splits, videos, tmp_path):
    args = {
        "train": ["train", "--dataset", tiny_synth, "--out", tmp_path / "r"],
        "experiment": ["experiment", "--dataset", tiny_synth, "--splits", tiny_splits, "--out", tmp_path / "e"],
        "summarize": ["summarize", videos["one_frame"], "--out", tmp_path / "s"],
        "dataset build": ["dataset", "build", videos["one_frame"], "--out", tmp_path / "d.h5"],
        "demo": ["demo", "--out", tmp_path / "demo"],
    }[command]
    proc = cli(*args, "--threads", threads)
    _usage_error(proc, "'--threads'", f"{threads} threads: give between 1 and {CORES}", "CPU cores available")
    assert not any(tmp_path.iterdir())


def test_default_threads_are_the_available_cores_and_recorded(tiny_synth, tiny_splits, tmp_path):
    out = tmp_path / "run"
    args = ["train", "--dataset", tiny_synth, "--splits", tiny_splits, "--out", out, "--n_epochs", "0"]
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    proc = cli(*args, "--input_size", "32", "--hidden-size", "16", "--no-progress", env=env)
    assert proc.returncode == 0, proc.stderr
    conf = yaml.safe_load((out / "config.yaml").read_text())
    assert conf["threads"] == CORES and conf["versions"]["cpu_threads"] == str(CORES)


@pytest.mark.parametrize("command", ["train", "experiment"])
def test_device_cuda_without_cuda_is_one_line(command, tiny_synth, tiny_splits, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible here")
    out = tmp_path / "run"
    args = _train(tiny_synth, tiny_splits, out, "--device", "cuda")
    proc = cli(command, *args[1:])
    assert "Traceback" not in proc.stderr and proc.returncode == 11, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX), proc.stderr
    assert "--device cuda was asked for but CUDA is not available" in lines[0]
    assert not list(out.glob("*.yaml")) and not list(out.glob("sigma*"))  # no run, no experiment.yaml


# --- D. messages that used to mislead ----------------------------------------------------------------


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.mark.slow  # three short trainings
def test_rerun_names_the_differing_key_and_more_epochs_extend_the_run(tiny_synth, tiny_splits, tmp_path):
    full, short = tmp_path / "full", tmp_path / "short"
    assert cli(*_train(tiny_synth, tiny_splits, full, "--n_epochs", "3")).returncode == 0
    assert cli(*_train(tiny_synth, tiny_splits, short, "--n_epochs", "2")).returncode == 0
    before = (short / "metrics.csv").read_text()

    proc = cli(*_train(tiny_synth, tiny_splits, short, "--n_epochs", "1"))
    assert_one_line_error(proc, 11, short, "another config", "n_epochs: 2 there, 1 here", "can grow, never shrink")
    proc = cli(*_train(tiny_synth, tiny_splits, short, "--n_epochs", "2", "--lr", "0.001"))
    assert_one_line_error(proc, 11, short, "another config", "lr: 0.0001 there, 0.001 here")
    assert (short / "metrics.csv").read_text() == before and (short / "COMPLETE").exists()

    proc = cli(*_train(tiny_synth, tiny_splits, short, "--n_epochs", "3"))
    assert proc.returncode == 0, proc.stderr
    assert "extending the run from 2 to 3 epochs" in proc.stderr
    assert json.loads((short / "COMPLETE").read_text())["epochs"] == 3
    assert _strip(read_metrics(short)) == _strip(read_metrics(full))  # equal to the uninterrupted run
    s1, s2 = read_scores(full / "scores.h5"), read_scores(short / "scores.h5")
    assert sorted(s1) == sorted(s2)
    for e in s1:
        for k in s1[e]:
            np.testing.assert_array_equal(s1[e][k], s2[e][k])
    assert sorted(p.name for p in (full / "checkpoints").iterdir()) == sorted(
        p.name for p in (short / "checkpoints").iterdir()
    )


def _leaves(obj, path=""):
    if isinstance(obj, dict):
        return {k2: v2 for k, v in obj.items() if k != "experiment" for k2, v2 in _leaves(v, f"{path}/{k}").items()}
    if isinstance(obj, list):
        return {k2: v2 for i, v in enumerate(obj) for k2, v2 in _leaves(v, f"{path}[{i}]").items()}
    return {path: obj}


@pytest.mark.slow  # three tiny experiments of one run each
def test_experiment_names_the_differing_key_and_more_epochs_extend_its_runs(tiny_synth, tiny_splits, tmp_path):
    def experiment(out, *extra):
        args = ["experiment", "--dataset", tiny_synth, "--splits", tiny_splits, "--out", out, "--sigmas", "0.5"]
        return cli(*args, "--split-indices", "0", "--baseline-draws", "0", *TINY, *extra)

    full, short = tmp_path / "full", tmp_path / "short"
    assert experiment(full, "--n_epochs", "3").returncode == 0
    assert experiment(short, "--n_epochs", "2").returncode == 0
    proc = experiment(short, "--n_epochs", "2", "--lr", "0.001")
    assert_one_line_error(proc, 11, short, "another config", "lr: 0.0001 there, 0.001 here")
    proc = experiment(short, "--n_epochs", "1")
    assert_one_line_error(proc, 11, short, "n_epochs: 2 there, 1 here", "can grow, never shrink")
    proc = experiment(short, "--n_epochs", "3")
    assert proc.returncode == 0, proc.stderr
    assert "extending the run from 2 to 3 epochs" in (short / "sigma0.5" / "split0" / "run.log").read_text()
    a = _leaves(json.loads((full / "results.json").read_text()))
    b = _leaves(json.loads((short / "results.json").read_text()))
    assert a == b


@pytest.fixture()
def exp_folder(tmp_path, models):
    """An experiment folder of splits 0 and 1 with the selected models of split 0 only."""
    exp = tmp_path / "exp"
    for rule in ("oracle", "label-free"):
        (exp / "best" / rule).mkdir(parents=True)
        shutil.copy(models["m32"], exp / "best" / rule / "split0.pt")
    request = {"request": {"dataset": "d.h5", "splits": "s.json", "sigmas": [0.5], "split_indices": [0, 1]}}
    (exp / "experiment.yaml").write_text(yaml.safe_dump(request))
    return exp


def test_summarize_unknown_split_and_rule_say_so(exp_folder, videos, tmp_path):
    one = videos["one_frame"]
    proc = cli("summarize", one, "--model", exp_folder, "--rule", "oracle", "--split", "7", "--out", tmp_path / "o")
    line = assert_one_line_error(proc, 11, exp_folder, "has no split 7 (its splits: 0, 1)")
    assert "select" not in line
    proc = cli("summarize", one, "--model", exp_folder, "--rule", "bogus", "--out", tmp_path / "o")
    assert proc.returncode == 11 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"{ERROR_PREFIX}--rule 'bogus' is not a selection rule with a model (use oracle or label-free)"
    ]
    proc = cli("summarize", one, "--model", exp_folder, "--rule", "oracle", "--split", "1", "--out", tmp_path / "o")
    assert_one_line_error(proc, 6, exp_folder, "has no selected model best/oracle/split1.pt", "acsumgan select")


def test_select_of_a_missing_folder_says_not_found(tmp_path):
    missing = tmp_path / "nonexistent"
    assert_one_line_error(cli("select", missing), 11, missing, "experiment folder not found")
    assert not missing.exists()


def test_evaluate_all_skips_the_f_score_without_its_fields(tmp_path):
    """A file with per-user importance (user_scores) only: `--metric all` gives the rank
    correlations `--metric kendall` gives, and says the F-score was skipped and why."""
    data = tmp_path / "ranks only.h5"
    assert cli("dataset", "synth", "--profile", "tvsum", "--videos", "3", "--dim", "8", "--out", data).returncode == 0
    scores = {}
    with h5py.File(data, "r+") as h5:
        for k in h5:
            for name in ("user_summary", "change_points", "gtscore", "gtsummary"):
                del h5[k][name]
            scores[k] = np.random.default_rng(0).random(h5[k]["features"].shape[0]).tolist()
    sc = tmp_path / "scores.json"
    sc.write_text(json.dumps(scores))
    kendall = cli("evaluate", "--dataset", data, "--scores", sc, "--metric", "kendall", "--json")
    assert kendall.returncode == 0, kendall.stderr
    every = cli("evaluate", "--dataset", data, "--scores", sc, "--metric", "all", "--json")
    assert every.returncode == 0, every.stderr
    out = json.loads(every.stdout)
    assert sorted(out) == ["kendall", "spearman"] and out["kendall"] == json.loads(kendall.stdout)
    assert every.stderr.strip().splitlines() == [
        f"acsumgan: note: F-score skipped ({data}: video_1/user_summary: missing (needed to evaluate)); "
        "rank correlation only"
    ]


def test_seconds_with_budget_is_a_usage_error(videos, tmp_path):
    proc = cli("summarize", videos["one_frame"], "--out", tmp_path / "o", "--seconds", "5", "--budget", "0.2")
    _usage_error(proc, "--seconds and --budget both set the summary length; pick one")
    assert not (tmp_path / "o").exists()


def test_repeated_split_index_is_refused(tiny_synth, tiny_splits, tmp_path):
    out = tmp_path / "e"
    args = ["experiment", "--dataset", tiny_synth, "--splits", tiny_splits, "--out", out, "--split-indices", "0,0"]
    proc = cli(*args, *TINY)
    assert proc.returncode == 11 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"{ERROR_PREFIX}--split-indices lists split 0 more than once; give each split once"
    ]
    assert not list(out.glob("sigma*"))
