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
if str(TESTS) not in sys.path:  # tests/reference.py is imported by several test files
    sys.path.insert(0, str(TESTS))


@pytest.fixture(scope="session")
def summe_synth(tmp_path_factory) -> Path:
    """The full synthetic SumMe-profile dataset (25 videos, 1024-d)."""
    from acsumgan.data.synth import write_synth_dataset

    return write_synth_dataset(tmp_path_factory.mktemp("synth") / "summe_synth.h5", "summe", seed=0)


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory) -> Path:
    """8 short SumMe-style videos with 32-d features (quirk range, T < 60, long): fast to train on."""
    from acsumgan.data.synth import write_synth_dataset

    return write_synth_dataset(tmp_path_factory.mktemp("tiny") / "tiny_summe.h5", "summe", seed=1, dim=32,
                               steps=[130, 61, 75, 45, 90, 64, 100, 70])


@pytest.fixture(scope="session")
def tiny_splits(tmp_path_factory, tiny_synth) -> Path:
    from acsumgan.data.dataset import load_dataset
    from acsumgan.data.splits import make_random_splits, write_splits

    keys = list(load_dataset(tiny_synth))
    return write_splits(tmp_path_factory.mktemp("tiny_splits") / "splits.json",
                        make_random_splits(keys, 2, 0.25, seed=0))
