"""Fixtures shared by the whole suite: small synthetic dataset files and a tiny config."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The suite's models are tiny: one thread each avoids OpenMP start-up and
# oversubscription costs (also in the CLI subprocesses the tests start).
os.environ.setdefault("OMP_NUM_THREADS", "1")

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"


@pytest.fixture(scope="session")
def summe_synth(tmp_path_factory) -> Path:
    """The full synthetic SumMe-profile dataset (25 videos, 1024-d)."""
    from acsumgan.synthetic.dataset import write_synth_dataset

    return write_synth_dataset(tmp_path_factory.mktemp("synth") / "summe_synth.h5", "summe", seed=0)


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory) -> Path:
    """8 short SumMe-style videos with 32-d features (quirk range, T < 60, long): fast to train on."""
    from acsumgan.synthetic.dataset import write_synth_dataset

    return write_synth_dataset(tmp_path_factory.mktemp("tiny") / "tiny_summe.h5", "summe", seed=1, dim=32,
                               steps=[130, 61, 75, 45, 90, 64, 100, 70])


@pytest.fixture(scope="session")
def tiny_splits(tmp_path_factory, tiny_synth) -> Path:
    from acsumgan.data.dataset import load_dataset
    from acsumgan.data.splits import make_random_splits, write_splits

    keys = list(load_dataset(tiny_synth))
    return write_splits(tmp_path_factory.mktemp("tiny_splits") / "splits.json",
                        make_random_splits(keys, 2, 0.25, seed=0))


EXPERIMENT_EPOCHS = 3


def experiment_cmd(dataset, splits, out, *extra):
    """The tiny experiment of the experiment and Ray tests: 2 sigmas x 2 splits x 3 epochs."""
    return [sys.executable, "-m", "acsumgan", "experiment", "--dataset", str(dataset), "--splits", str(splits),
            "--out", str(out), "--sigmas", "0.3,0.7", "--n_epochs", str(EXPERIMENT_EPOCHS), "--hidden-size", "16",
            "--input_size", "32", "--workers", "2", "--threads", "1", "--checkpoint-interval", "0",
            "--baseline-draws", "5", "--no-progress", "--seed", "4", *extra]


@pytest.fixture(scope="session")
def tiny_experiment(tmp_path_factory, tiny_synth, tiny_splits) -> Path:
    """A finished tiny experiment run by the local executor."""
    import subprocess

    out = tmp_path_factory.mktemp("exp") / "full"
    proc = subprocess.run(experiment_cmd(tiny_synth, tiny_splits, out), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def assert_same_experiment(a: Path, b: Path) -> None:
    """Two experiment folders hold the same results: runs, selection and every score."""
    import json

    import numpy as np

    from acsumgan.evaluation.scores import read_scores

    ra = json.loads((a / "results.json").read_text())
    rb = json.loads((b / "results.json").read_text())
    assert ra["runs"] == rb["runs"]
    assert ra["selection"]["final"] == rb["selection"]["final"]
    for run in a.glob("sigma*/split*"):
        s1 = read_scores(run / "scores.h5")
        s2 = read_scores(b / run.relative_to(a) / "scores.h5")
        assert sorted(s1) == sorted(s2)
        for e in s1:
            for k in s1[e]:
                np.testing.assert_array_equal(s1[e][k], s2[e][k])
