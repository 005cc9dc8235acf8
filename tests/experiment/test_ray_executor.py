"""Experiments on Ray: same results as the local executor, and a killed worker is retried."""

import os
import signal
import subprocess
import sys
import time

import pytest
import ray  # noqa: E402,F401  (installed by `make test`; the [ray] extra for users)

from conftest import assert_same_experiment, experiment_cmd

RAY = ("--executor", "ray", "--ray-cpus-per-run", "1")


@pytest.mark.slow  # Ray, and a tiny experiment
def test_ray_executor_matches_local_executor(tmp_path, tiny_experiment, tiny_synth, tiny_splits):
    out = tmp_path / "ray"
    proc = subprocess.run(
        experiment_cmd(tiny_synth, tiny_splits, out, *RAY),
        capture_output=True,
        text=True,
        env={**os.environ, "RAY_ADDRESS": ""},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_same_experiment(tiny_experiment, out)
    assert (out / "ray_attempts.log").read_text().count("attempt 1") == 4
    assert (out / "best" / "oracle" / "split0.pt").exists()


@pytest.mark.slow  # Ray, and a tiny experiment
def test_killed_worker_is_retried_and_experiment_completes(tmp_path, tiny_experiment, tiny_synth, tiny_splits):
    out = tmp_path / "ray_kill"
    log = out / "ray_attempts.log"
    proc = subprocess.Popen(
        experiment_cmd(tiny_synth, tiny_splits, out, *RAY),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "RAY_ADDRESS": ""},
    )
    victim = None
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None and victim is None:
        if log.exists():
            lines = log.read_text().splitlines()
            if lines:
                victim = lines[0].split()
                time.sleep(1.0)  # let it get into training
                os.kill(int(victim[-1]), signal.SIGKILL)
        time.sleep(0.05)
    output, _ = proc.communicate(timeout=300)
    assert victim is not None, output
    assert proc.returncode == 0, output
    name = victim[2]
    attempts = [ln for ln in log.read_text().splitlines() if ln.split()[2] == name]
    assert any(" attempt 2 " in ln for ln in attempts), log.read_text()
    assert_same_experiment(tiny_experiment, out)


def test_without_ray_the_error_says_how_to_install(tmp_path, tiny_synth, tiny_splits):
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from acsumgan.cli import main\n"
        f"main({experiment_cmd(tiny_synth, tiny_splits, tmp_path / 'x', *RAY)[3:]!r})"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 13, proc.stderr
    assert "pip install 'acsumgan[ray]'" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
