"""The whole protocol in one command: runs, resume after SIGKILL, selection, report
(the select and report commands alone: tests/cli/test_experiment.py)."""

import json
import os
import signal
import subprocess
import time

import pytest
import yaml

from acsumgan.train.checkpoint import load_model
from conftest import EXPERIMENT_EPOCHS as EPOCHS
from conftest import assert_same_experiment
from conftest import experiment_cmd as _cmd

pytestmark = pytest.mark.slow  # a tiny experiment (tests/conftest.py), run again and killed


@pytest.fixture(scope="module")
def uninterrupted(tiny_experiment):
    return tiny_experiment


def test_experiment_writes_every_file(uninterrupted):
    out = uninterrupted
    for s in ("sigma0.3", "sigma0.7"):
        for k in ("split0", "split1"):
            run = out / s / k
            assert (run / "COMPLETE").exists() and (run / "run.log").exists()
            assert yaml.safe_load((run / "config.yaml").read_text())["resolved"]["regularization_factor"] == float(
                s[5:]
            )
    for name in (
        "report.md",
        "results.csv",
        "results.json",
        "selection.json",
        "experiment.yaml",
        "plots/fscore_split0.png",
        "plots/fscore_split1.png",
        "plots/criterion_split0.png",
        "plots/criterion_split1.png",
        "plots/fscore_vs_sigma.png",
    ):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    res = json.loads((out / "results.json").read_text())
    assert len(res["runs"]) == 4
    finals = res["selection"]["final"]
    assert set(finals) == {"oracle", "label-free", "untrained", "best-epoch"}
    for rule in finals:
        assert set(finals[rule]["per_split"]) == {"0", "1"}
    # the oracle is never worse than the label-free rule, and best-epoch bounds both
    for k in ("0", "1"):
        ps = res["selection"]["per_split"][k]
        assert ps["oracle"]["f_score"] >= ps["label-free"]["f_score"]
        assert ps["best-epoch"]["f_score"] >= ps["oracle"]["f_score"]
    assert {b["baseline"] for b in res["baselines"]} == {"random", "uniform", "human"}
    report = (out / "report.md").read_text()
    assert "| oracle | yes (sigma) |" in report and "| label-free | no |" in report and "human" in report
    # exported best models load on their own and are the criterion's epochs
    for rule in ("oracle", "label-free"):
        for k in (0, 1):
            model, cfg, ck = load_model(out / "best" / rule / f"split{k}.pt")
            e = res["selection"]["per_split"][str(k)][rule]
            assert ck["epoch"] == e["epoch"] and cfg.regularization_factor == e["sigma"]


def test_rerun_skips_finished_runs(uninterrupted, tiny_synth, tiny_splits):
    before = {p: p.stat().st_mtime_ns for p in uninterrupted.glob("sigma*/split*/metrics.csv")}
    proc = subprocess.run(_cmd(tiny_synth, tiny_splits, uninterrupted), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert before == {p: p.stat().st_mtime_ns for p in uninterrupted.glob("sigma*/split*/metrics.csv")}


def test_changed_config_is_refused(uninterrupted, tiny_synth, tiny_splits):
    cmd = _cmd(tiny_synth, tiny_splits, uninterrupted, "--lr", "0.001")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 11 and "another config" in proc.stderr and "lr: 0.0001 there, 0.001 here" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    cmd = _cmd(tiny_synth, tiny_splits, uninterrupted)
    cmd[cmd.index("--n_epochs") + 1] = str(EPOCHS - 1)  # fewer epochs: refused (more extend the runs)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 11 and f"n_epochs: {EPOCHS} there, {EPOCHS - 1} here" in proc.stderr


def test_sigkill_midway_then_rerun_gives_identical_results(tmp_path, uninterrupted, tiny_synth, tiny_splits):
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        _cmd(tiny_synth, tiny_splits, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 120
    killed_mid_run = False
    while time.time() < deadline and proc.poll() is None:
        partial = [p for p in out.glob("sigma*/split*") if (p / "resume.pt").exists() and not (p / "COMPLETE").exists()]
        if partial:
            os.killpg(proc.pid, signal.SIGKILL)
            killed_mid_run = True
            break
        time.sleep(0.05)
    proc.wait()
    assert killed_mid_run, "the experiment finished before it could be killed"
    # nothing unfinished looks finished
    for run in out.glob("sigma*/split*"):
        if (run / "COMPLETE").exists():
            rows = (run / "metrics.csv").read_text().strip().splitlines()
            assert len(rows) == EPOCHS + 2
    done = subprocess.run(_cmd(tiny_synth, tiny_splits, out), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert_same_experiment(uninterrupted, out)
