"""Every result file is written atomically (temporary file, then rename); run folders
get their COMPLETE marker last; readers ignore or handle unfinished runs as documented."""

from __future__ import annotations

import builtins
import io
import json
import os
import re
import shutil

import h5py
import pytest
import torch

from acsumgan.config import TrainConfig
from acsumgan.errors import CheckpointError, ConfigError
from acsumgan.experiment.report import write_report
from acsumgan.experiment.select import select_experiment
from acsumgan.inference import Scorer, resolve_model_path
from acsumgan.runs import read_metrics
from acsumgan.selection import chosen_epoch
from acsumgan.train.trainer import train

from .conftest import cli

SMALL = dict(input_size=32, hidden_size=16, n_epochs=2, seed=1, checkpoint_interval_s=0)
TEMP = re.compile(r"^\.[^/]+\.[A-Za-z0-9_]+\.tmp$")  # atomic_path's temporary files
#: Append-only logs (never read back as results): acceptable non-atomic writes.
LOGS = re.compile(r"(^|/)(train\.log|run\.log|ray_attempts\.log|events\.out\.tfevents\.[^/]+)$")


@pytest.fixture
def writes(monkeypatch):
    """Every path opened for writing (open, h5py.File, torch.save) while the test runs."""
    seen: list[tuple[str, str]] = []
    real_open, real_h5, real_save, real_replace = builtins.open, h5py.File, torch.save, os.replace

    def note(path, mode):
        if isinstance(path, (str, os.PathLike)) and any(c in str(mode) for c in "wax+"):
            seen.append((os.fspath(path), str(mode)))

    def open_(file, mode="r", *a, **k):
        note(file, mode)
        return real_open(file, mode, *a, **k)

    def h5file(name, mode="r", *a, **k):
        note(name, mode)
        return real_h5(name, mode, *a, **k)

    def save(obj, f, *a, **k):
        note(f, "wb")
        return real_save(obj, f, *a, **k)

    renamed = []

    def replace(src, dst, *a, **k):
        renamed.append((os.fspath(src), os.fspath(dst)))
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    monkeypatch.setattr(h5py, "File", h5file)
    monkeypatch.setattr(torch, "save", save)
    monkeypatch.setattr(os, "replace", replace)
    yield seen, renamed
    monkeypatch.undo()


@pytest.mark.slow
def test_train_select_and_report_write_results_atomically(writes, tiny_synth, tiny_splits, tmp_path):
    exp = tmp_path / "exp"
    for sigma in (0.3, 0.7):
        train(
            TrainConfig(**SMALL, regularization_factor=sigma),
            tiny_synth,
            tiny_splits,
            exp / f"sigma{sigma:g}" / "split0",
        )
    sel = select_experiment(exp)
    write_report(exp, sel, [])
    seen, renamed = writes
    inside = [(p, m) for p, m in seen if p.startswith(str(exp))]
    assert inside
    direct = [(p, m) for p, m in inside if not TEMP.match(os.path.basename(p)) and not LOGS.search(p)]
    assert not direct, f"written in place, not atomically: {direct}"
    # each temporary file was renamed onto its result in the same folder
    for src, dst in renamed:
        if src.startswith(str(exp)):
            assert TEMP.match(os.path.basename(src)) and os.path.dirname(src) == os.path.dirname(dst)
    results = {os.path.relpath(dst, exp) for _, dst in renamed if dst.startswith(str(exp))}
    for name in ("config.yaml", "metrics.csv", "scores.h5", "COMPLETE"):
        assert f"sigma0.3/split0/{name}" in results
    assert {
        "selection.json",
        "results.csv",
        "results.json",
        "report.md",
        "best/label-free/split0.pt",
        "plots/fscore_vs_sigma.png",
    } <= results
    # the COMPLETE marker is the last file each run wrote
    for sigma in ("0.3", "0.7"):
        run = f"sigma{sigma}/split0/"
        own = [os.path.relpath(dst, exp) for _, dst in renamed if os.path.relpath(dst, exp).startswith(run)]
        assert own[-1] == run + "COMPLETE"


@pytest.fixture(scope="module")
def experiment(tiny_synth, tiny_splits, tmp_path_factory):
    """Two finished runs of an experiment folder (sigma 0.3 and 0.7, split 0)."""
    exp = tmp_path_factory.mktemp("exp") / "exp"
    for sigma in (0.3, 0.7):
        train(
            TrainConfig(**SMALL, regularization_factor=sigma),
            tiny_synth,
            tiny_splits,
            exp / f"sigma{sigma:g}" / "split0",
        )
    return exp


def test_select_ignores_unfinished_runs(experiment, tmp_path):
    exp = tmp_path / "exp"
    shutil.copytree(experiment, exp)
    (exp / "sigma0.7" / "split0" / "COMPLETE").unlink()  # as if killed before the end
    proc = cli("select", exp, "--json")
    assert proc.returncode == 0, proc.stderr
    sel = json.loads(proc.stdout)
    assert sel["complete_runs"] == 1 and list(sel["runs"]) == ["sigma0.3/split0"]
    assert sel["per_split"]["0"]["label-free"]["sigma"] == 0.3
    assert (exp / "best" / "label-free" / "split0.pt").exists()
    (exp / "sigma0.3" / "split0" / "COMPLETE").unlink()
    with pytest.raises(ConfigError, match="holds no complete runs"):  # exit 11 (no run is complete)
        select_experiment(exp)


def test_model_argument_with_finished_and_unfinished_run_folders(experiment, tmp_path):
    done = experiment / "sigma0.3" / "split0"
    chosen = chosen_epoch(read_metrics(done))
    assert resolve_model_path(done) == done / "checkpoints" / f"epoch-{chosen:03d}.pt"
    # an unfinished run: its newest checkpoint (documented in acsumgan.inference)
    run = tmp_path / "run"
    shutil.copytree(done, run)
    (run / "COMPLETE").unlink()
    newest = sorted((run / "checkpoints").glob("epoch-*.pt"))[-1]
    assert resolve_model_path(run) == newest
    assert Scorer.load(run).path == newest
    # an unfinished run without any checkpoint yet: a one-line CheckpointError
    for p in (run / "checkpoints").glob("*.pt"):
        p.unlink()
    with pytest.raises(CheckpointError, match="run folder has no checkpoints yet"):
        resolve_model_path(run)
