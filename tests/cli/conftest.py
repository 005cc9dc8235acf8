"""Helpers and fixtures of the command-line tests of several commands: the real command
(``run``), its one-line errors, and a SumMe ground-truth file made by ``dataset import-gt``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SUMME_CP, SUMME_GT, SUMME_MAP

ROOT = Path(__file__).resolve().parents[2]


def run(*args, ok=True):
    p = subprocess.run(
        [sys.executable, "-m", "acsumgan", *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    if ok:
        assert p.returncode == 0, p.stderr
    return p


def assert_one_line_error(p, code: int, *needles: str):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("acsumgan: error: ")
    assert "Traceback" not in p.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.fixture(scope="session")
def summe_h5(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "summe_gt.h5"
    p = run(
        "dataset",
        "import-gt",
        "summe",
        "--gt-dir",
        SUMME_GT,
        "--change-points",
        SUMME_CP,
        "--mapping",
        SUMME_MAP,
        "--out",
        out,
    )
    assert "25 summe videos" in p.stdout.replace("\n", " ")
    return out
