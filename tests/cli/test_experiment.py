"""The select and report commands on a finished tiny experiment (the experiment command
itself: tests/experiment/test_runner.py)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a tiny experiment (tests/conftest.py)


@pytest.fixture(scope="module")
def uninterrupted(tiny_experiment, tmp_path_factory):
    """A copy of the tiny experiment: ``report --baseline-draws 0`` rewrites results.json
    without baselines, and tests/experiment/test_runner.py checks them in the shared folder."""
    out = tmp_path_factory.mktemp("exp_copy") / "exp"
    shutil.copytree(tiny_experiment, out)
    return out


def test_select_and_report_commands(uninterrupted):
    proc = subprocess.run(
        [sys.executable, "-m", "acsumgan", "select", str(uninterrupted), "--json"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["final"] == json.loads((uninterrupted / "selection.json").read_text())["final"]
    proc = subprocess.run(
        [sys.executable, "-m", "acsumgan", "report", str(uninterrupted), "--baseline-draws", "0"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "acsumgan", "select", str(Path(uninterrupted) / "plots")], capture_output=True, text=True
    )
    assert bad.returncode == 11 and "no complete runs" in bad.stderr
