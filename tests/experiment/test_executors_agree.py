"""The same `acsumgan experiment` command gives the same numbers under either executor at
default thread settings (README "Running on a cluster": every run gets the same threads,
decided on the driver, whatever the executor and --workers)."""

import json
import math
import os
import subprocess

import pytest
import yaml

from conftest import experiment_cmd


def _default_threads_cmd(dataset, splits, out, *extra):
    """The tiny experiment without --threads (the default rule decides)."""
    cmd = experiment_cmd(dataset, splits, out, *extra)
    i = cmd.index("--threads")
    return cmd[:i] + cmd[i + 2 :]


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


@pytest.mark.slow  # Ray, and two tiny experiments
def test_local_and_ray_give_every_number_of_results_json_alike(tmp_path, tiny_synth, tiny_splits):
    from acsumgan.config import RUN_THREADS, available_cores

    want_threads = min(RUN_THREADS, available_cores())
    outs = {}
    for name, extra in {"local": ("--executor", "local"), "ray": ("--executor", "ray")}.items():
        out = tmp_path / name
        proc = subprocess.run(
            _default_threads_cmd(tiny_synth, tiny_splits, out, *extra),
            capture_output=True,
            text=True,
            env=_env(),
            timeout=900,
        )
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
    assert len(numeric) > 50  # reward_chosen, actor_loss_chosen, every F-score, baselines, ...
    for k in a:
        same = a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k]))
        assert same, (k, a[k], b[k])
