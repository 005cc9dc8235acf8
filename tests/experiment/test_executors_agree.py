"""The same `acsumgan experiment` command gives the same numbers under either executor at
default thread settings (docs/tutorials/reproduce.md, "On a Ray cluster": every run gets the
same threads, decided on the driver, whatever the executor and --workers).

The videos have the real SumMe step counts (not the suite's tiny ones): with 1 thread
(the local executor with --workers 2 on 2 cores, before the rule) and 2 (a Ray task)
their metrics.csv differed in the last digits (d_loss of epoch 1, 0.3999905586 vs
0.3999905884)."""

import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from acsumgan.evaluation.scores import read_scores

PYTHON = (sys.executable, "-m", "acsumgan")


@pytest.fixture(scope="module")
def summe_like(tmp_path_factory):
    """8 videos of the SumMe profile (300-odd steps each, 32-d features) and 2 random splits."""
    d = tmp_path_factory.mktemp("agree")
    data, splits = d / "summe8.h5", d / "splits.json"
    for args in (
        ["dataset", "synth", "--out", data, "--videos", "8", "--dim", "32"],
        ["splits", "make", "--dataset", data, "--out", splits, "--n-splits", "2"],
    ):
        proc = subprocess.run([*PYTHON, *map(str, args)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    return data, splits


def _cmd(data, splits, out, *extra):
    """One run (sigma 0.5, split 0, 2 epochs), no --threads: the default rule decides."""
    args = ["experiment", "--dataset", data, "--splits", splits, "--out", out, "--sigmas", "0.5"]
    args += ["--split-indices", "0", "--n_epochs", "2", "--hidden-size", "16", "--checkpoint-interval", "0"]
    return [*PYTHON, *map(str, args), "--baseline-draws", "5", "--no-progress", *extra]


def _env():
    """Without OMP_NUM_THREADS (the test suite sets it to 1): the default rule as a user gets it."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["RAY_ADDRESS"] = ""
    return env


def _numbers(obj, path=""):
    """Every leaf of a JSON document by its path (the experiment folder's own path left out)."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k != "experiment":
                out.update(_numbers(v, f"{path}/{k}"))
        return out
    if isinstance(obj, list):
        out = {}
        for i, v in enumerate(obj):
            out.update(_numbers(v, f"{path}[{i}]"))
        return out
    return {path: obj}


def _metrics(run):
    with open(run / "metrics.csv") as f:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(f)]


@pytest.mark.slow  # Ray, and two one-run experiments
def test_local_and_ray_give_every_number_alike(tmp_path, summe_like):
    from acsumgan.config import RUN_THREADS, available_cores

    want_threads = min(RUN_THREADS, available_cores())
    outs = {}
    for name, extra in {"local": ("--executor", "local", "--workers", "2"), "ray": ("--executor", "ray")}.items():
        out = tmp_path / name
        proc = subprocess.run(_cmd(*summe_like, out, *extra), capture_output=True, text=True, env=_env(), timeout=900)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"{want_threads} threads per run" in proc.stdout
        outs[name] = out
        for run in out.glob("sigma*/split*"):  # recorded in each run's config
            conf = yaml.safe_load((run / "config.yaml").read_text())
            assert conf["threads"] == want_threads and conf["resolved"]["threads"] == want_threads, run
    a = _numbers(json.loads((outs["local"] / "results.json").read_text()))
    b = _numbers(json.loads((outs["ray"] / "results.json").read_text()))
    assert sorted(a) == sorted(b)
    numeric = [k for k, v in a.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    assert len(numeric) > 30  # reward_chosen, actor_loss_chosen, every F-score, baselines, ...
    for k in a:
        same = a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k]))
        assert same, (k, a[k], b[k])
    runs = sorted(p.relative_to(outs["local"]) for p in outs["local"].glob("sigma*/split*"))
    assert runs and runs == sorted(p.relative_to(outs["ray"]) for p in outs["ray"].glob("sigma*/split*"))
    for run in runs:  # every loss of every epoch, and every score
        assert _metrics(outs["local"] / run) == _metrics(outs["ray"] / run), run
        s1, s2 = read_scores(outs["local"] / run / "scores.h5"), read_scores(outs["ray"] / run / "scores.h5")
        assert sorted(s1) == sorted(s2)
        for e in s1:
            for k in s1[e]:
                np.testing.assert_array_equal(s1[e][k], s2[e][k])
