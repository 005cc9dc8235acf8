"""Every termination signal is Ctrl-C (docs/reliability.md, "Interruptions and a full disk"), with the real
commands: SIGTERM (what ``kill``, ``timeout``, systemd, Slurm and Kubernetes send) and SIGHUP
(the terminal closed) mid-train and mid-summarize.

- ``train``: the epoch being written is finished, what is finished is kept, one line
  names the signal and says how to resume, exit 143 / 129; the same command again
  completes with the numbers of an uninterrupted run (metrics.csv but for its wall-clock
  column, and every score of scores.h5);
- ``summarize``: the summary being written is dropped with its temporary file, features
  and model are kept, one line, exit 143 / 129; a temporary file left by a killed writer
  is removed by the next command on the folder.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from acsumgan.evaluation.scores import read_scores
from conftest import experiment_cmd

from .conftest import PYTHON, TINY, assert_one_line_error, cli, tmp_files

EPOCHS = 4
CODE = {signal.SIGTERM: 143, signal.SIGHUP: 129}
NAME = {signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}
WALL_CLOCK = {"seconds"}


def _train_argv(dataset, splits, out):
    return [
        *PYTHON,
        "train",
        "--dataset",
        dataset,
        "--splits",
        splits,
        "--out",
        out,
        "--n_epochs",
        str(EPOCHS),
        "--checkpoint-interval",
        "0",
        "--seed",
        "5",
        *TINY,
    ]


def _start(argv) -> subprocess.Popen:
    return subprocess.Popen(
        [str(a) for a in argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop_when(proc: subprocess.Popen, ready, sig, timeout: float = 180) -> subprocess.CompletedProcess:
    """Send ``sig`` once ``ready()``; the finished process."""
    deadline = time.time() + timeout
    while not ready():
        assert proc.poll() is None, f"ended before the signal: {proc.communicate()}"
        assert time.time() < deadline
        time.sleep(0.005)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _metrics(run: Path) -> list[dict]:
    with open(run / "metrics.csv") as f:
        return [{k: v for k, v in row.items() if k not in WALL_CLOCK} for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, tiny_synth, tiny_splits) -> Path:
    run = tmp_path_factory.mktemp("signals") / "uninterrupted"
    proc = cli(*_train_argv(tiny_synth, tiny_splits, run)[3:])
    assert proc.returncode == 0, proc.stderr
    return run


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_mid_train_keeps_finished_epochs_and_the_resumed_run_equals_an_uninterrupted_one(
    sig, uninterrupted, tiny_synth, tiny_splits, tmp_path
):
    run = tmp_path / "run"
    argv = _train_argv(tiny_synth, tiny_splits, run)
    stopped = _stop_when(_start(argv), lambda: (run / "resume.pt").exists(), sig)  # epoch 0 kept
    assert_one_line_error(
        stopped,
        CODE[sig],
        run,
        f"terminated ({NAME[sig]}) after epoch",
        "are kept); run the same command again to resume; the run has no COMPLETE marker until then",
    )
    assert not (run / "COMPLETE").exists() and not tmp_files(run) and not (run / ".lock").exists()
    kept = _metrics(run)
    assert 2 <= len(kept) < EPOCHS + 1
    assert sorted(read_scores(run / "scores.h5")) == [int(r["epoch"]) for r in kept]
    assert f"terminated ({NAME[sig]})" in (run / "train.log").read_text()
    # the same command again resumes and completes: the numbers of the uninterrupted run
    again = cli(*argv[3:])
    assert again.returncode == 0, again.stderr
    assert "resuming after epoch" in (run / "train.log").read_text()
    assert _metrics(run) == _metrics(uninterrupted)
    a, b = read_scores(run / "scores.h5"), read_scores(uninterrupted / "scores.h5")
    assert sorted(a) == sorted(b) == list(range(-1, EPOCHS))
    for e in a:
        assert sorted(a[e]) == sorted(b[e])
        for k in a[e]:
            np.testing.assert_array_equal(a[e][k], b[e][k])
    assert not tmp_files(run)


def _writing_a_summary(out: Path):
    """True from the moment a summary is being written (its temporary file exists) or one is done."""

    def ready() -> bool:
        return any(out.rglob(".summary.mp4.*.tmp")) or any(out.glob("*/summary.mp4"))

    return ready


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_mid_summarize_leaves_no_temporary_and_keeps_features_and_model(sig, own_videos, tmp_path):
    out = tmp_path / "sum"
    cfg = tmp_path / "small.yaml"
    cfg.write_text("hidden_size: 8\n")
    argv = [*PYTHON, "summarize", own_videos, "--out", out, "--epochs", "1", "--train-config", cfg, "--no-page"]
    stopped = _stop_when(_start(argv), _writing_a_summary(out), sig)
    assert_one_line_error(
        stopped,
        CODE[sig],
        out,
        f"terminated ({NAME[sig]}); finished features, model epochs and summaries were kept",
        "run the same command again",
    )
    assert not tmp_files(out) and not list(out.rglob(".*.tmp*")), list(out.rglob("*"))
    assert (out / "features.h5").is_file() and (out / "model" / "COMPLETE").is_file()
    assert not (out / ".lock").exists()
    # a temporary file a killed writer left behind (its process is gone) ...
    dead = subprocess.Popen(["true"])
    dead.wait()
    (out / "a").mkdir(exist_ok=True)
    stale = out / "a" / f".summary.mp4.{dead.pid}.abcd1234.tmp"
    stale.write_bytes(b"half a video")
    # ... is removed by the same command again, which reuses the features and the model
    again = cli(*argv[3:])
    assert again.returncode == 0, again.stderr
    assert "features: 0 computed, 2 reused" in again.stdout and "model: reused" in again.stdout, again.stdout
    assert not stale.exists() and not tmp_files(out)
    assert all((out / v / "summary.mp4").is_file() for v in ("a", "b"))


def test_a_signal_while_waiting_outside_any_unit_says_what_was_kept(tmp_path):
    """SIGTERM to a command that has nothing to finish: the generic line, exit 143."""
    proc = _start([*PYTHON, "dataset", "synth", "--videos", "25", "--dim", "4096", "--out", tmp_path / "big.h5"])
    time.sleep(0.2)
    deadline = time.time() + 60
    while (
        not Path(f"/proc/{proc.pid}/cmdline").exists()
        or b"acsumgan" not in Path(f"/proc/{proc.pid}/cmdline").read_bytes()
    ):
        assert time.time() < deadline
        time.sleep(0.01)
    # wait until the command holds its lock (its handlers are in place by then)
    while not (tmp_path / ".big.h5.lock").exists() and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    if done.returncode == 0:
        pytest.skip("the file was written before the signal arrived")
    assert_one_line_error(done, 143, tmp_path / "big.h5", "terminated (SIGTERM); finished results were kept")
    assert not (tmp_path / "big.h5").exists() and sorted(os.listdir(tmp_path)) == []


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    found, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in found:
                found.add(c)
                todo.append(c)
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow  # Ray
def test_sigterm_to_a_ray_experiment_stops_its_tasks_and_ray(tiny_synth, tiny_splits, tmp_path):
    pytest.importorskip("ray")
    out = tmp_path / "ray"
    argv = experiment_cmd(
        tiny_synth, tiny_splits, out, "--n_epochs", "300", "--executor", "ray", "--ray-cpus-per-run", "1"
    )
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "RAY_ADDRESS": ""},
    )
    log = out / "ray_attempts.log"
    deadline = time.time() + 240
    while not (log.exists() and log.read_text().strip()):
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.1)
    time.sleep(2.0)  # into training
    ray_processes = _descendants(proc.pid)
    assert ray_processes
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    done = subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)
    assert_one_line_error(done, 143, out, "terminated (SIGTERM); finished runs and epochs were kept")
    t0 = time.monotonic()
    while any(_running(p) for p in ray_processes) and time.monotonic() - t0 < 30:
        time.sleep(0.2)
    assert not any(_running(p) for p in ray_processes), "Ray processes left behind"
    assert not list(out.glob("sigma*/split*/COMPLETE"))  # nothing unfinished looks finished
