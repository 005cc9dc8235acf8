"""One writer per folder, with the real commands (docs/reliability.md, "Two commands at once"):

- two ``train``, ``experiment``, ``summarize`` or ``dataset build`` commands started at
  once on the same ``--out``: exactly one runs, the other exits at once (exit 14) with one
  line naming the holder's process id;
- a SIGKILLed holder leaves no lock: the same command again runs (and resumes);
- ``kill -9`` of ``experiment --workers 2``: its workers exit within seconds, none
  goes on training an orphaned run folder;
- ``dataset synth`` / ``dataset build`` onto an existing file: refused without
  ``--force`` (exit 8); an unfinished build resumes without it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest

from acsumgan.locks import is_locked
from conftest import experiment_cmd

from .conftest import PYTHON, TINY, assert_one_line_error, cli

BUSY = re.compile(r"is in use by process (\d+) since \d\d:\d\d; wait or use another --out$")


def _start(argv) -> subprocess.Popen:
    """A real command in a session of its own (a signal to it reaches nothing else)."""
    return subprocess.Popen(
        [str(a) for a in argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def _finish(proc: subprocess.Popen, timeout: float = 180) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _first_to_exit(a: subprocess.Popen, b: subprocess.Popen, timeout: float = 120):
    """(the process that exited first, the other, seconds to the first exit)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        for first, other in ((a, b), (b, a)):
            if first.poll() is not None:
                return first, other, time.monotonic() - t0
        time.sleep(0.02)
    raise AssertionError("neither command exited")


def _one_runs_one_is_refused(
    argv, out: Path, stop=signal.SIGTERM, working=lambda: True
) -> tuple[subprocess.CompletedProcess, ...]:
    """Start ``argv`` twice at once; the loser must exit 14 while the winner still runs.
    Returns (the loser, the winner: stopped with ``stop`` once ``working()``, or left to
    finish when ``stop`` is None)."""
    a, b = _start(argv), _start(argv)
    try:
        loser, winner, _ = _first_to_exit(a, b)
        assert winner.poll() is None, "both commands ran to the end: nothing was locked"
        lost = _finish(loser)
        line = assert_one_line_error(lost, 14, out)
        m = BUSY.search(line)
        assert m and int(m.group(1)) == winner.pid, line
        if stop is not None:
            deadline = time.time() + 120
            while not working() and winner.poll() is None and time.time() < deadline:
                time.sleep(0.02)
            winner.send_signal(stop)
        won = _finish(winner)
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
                p.wait()
    return lost, won


def _train_argv(dataset, splits, out, epochs, *extra):
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
        str(epochs),
        "--checkpoint-interval",
        "0",
        *TINY,
        *extra,
    ]


def _rows(metrics: Path) -> int:
    try:
        return sum(1 for _ in open(metrics)) - 1
    except FileNotFoundError:
        return 0


def test_two_trains_on_one_folder_one_runs_the_other_exits_at_once(tiny_synth, tiny_splits, tmp_path):
    run = tmp_path / "run"
    argv = _train_argv(tiny_synth, tiny_splits, run, 500)
    lost, won = _one_runs_one_is_refused(argv, run, working=lambda: _rows(run / "metrics.csv") >= 2)
    assert_one_line_error(won, 143, run, "terminated (SIGTERM) after epoch")  # the winner, stopped by the test
    log = (run / "train.log").read_text()
    assert log.count("training videos") == 1, log  # one trainer started in the folder
    assert not (run / ".lock").exists() and not is_locked(run)


def test_a_sigkilled_trainer_leaves_no_lock_the_same_command_resumes(tiny_synth, tiny_splits, tmp_path):
    run = tmp_path / "run"
    argv = _train_argv(tiny_synth, tiny_splits, run, 4)
    proc = _start(argv)
    deadline = time.time() + 120
    while not (run / "resume.pt").exists():  # epoch 0 kept
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (run / ".lock").exists() and not is_locked(run)  # the holder's note stays, its lock does not
    again = cli(*argv[3:])
    assert again.returncode == 0, again.stderr
    assert (run / "COMPLETE").exists() and not (run / ".lock").exists()
    assert "resuming after epoch" in (run / "train.log").read_text()


def _busy_runs(out: Path) -> list[Path]:
    return [r for r in out.glob("sigma*/split*") if is_locked(r)]


def _training(out: Path) -> list[Path]:
    """Run folders of ``out`` a worker holds and has written epochs into."""
    return [r for r in _busy_runs(out) if _rows(r / "metrics.csv") >= 2]


@pytest.mark.slow
def test_two_experiments_on_one_folder_and_sigterm_stops_the_workers(tiny_synth, tiny_splits, tmp_path):
    out = tmp_path / "exp"
    argv = experiment_cmd(tiny_synth, tiny_splits, out, "--n_epochs", "300")
    lost, won = _one_runs_one_is_refused(argv, out, working=lambda: len(_training(out)) == 2)
    assert_one_line_error(
        won, 143, out, "terminated (SIGTERM)", "finished runs and epochs were kept", "run the same command again"
    )
    assert not _busy_runs(out) and not is_locked(out)  # no worker left holding a run folder
    logs = "".join(p.read_text() for p in out.glob("sigma*/split*/run.log"))
    assert "terminated (SIGTERM) after epoch" in logs  # each worker stopped as Ctrl-C stops it


@pytest.mark.slow
def test_kill_9_of_the_experiment_driver_takes_its_workers_along(tiny_synth, tiny_splits, tmp_path):
    out = tmp_path / "exp"
    argv = experiment_cmd(tiny_synth, tiny_splits, out, "--n_epochs", "300")
    driver = _start(argv)
    deadline = time.time() + 120
    workers: list[int] = []
    try:
        while len(workers) < 2:
            assert driver.poll() is None and time.time() < deadline, driver.communicate()
            workers = [json.loads((r / ".lock").read_text())["pid"] for r in _training(out)]
            time.sleep(0.05)
        os.kill(driver.pid, signal.SIGKILL)  # the driver alone, not its workers' sessions
        driver.wait()
        t0 = time.monotonic()
        while any(_alive(pid) for pid in workers) and time.monotonic() - t0 < 20:
            time.sleep(0.05)
        gone_after = time.monotonic() - t0
        assert not any(_alive(pid) for pid in workers), "orphaned workers still training"
        assert gone_after < 10, f"the workers took {gone_after:.1f} s to stop"
        assert not _busy_runs(out) and not is_locked(out)
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by init) is not training
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_two_summarizes_on_one_folder(own_videos, tmp_path):
    out = tmp_path / "sum"
    cfg = tmp_path / "small.yaml"
    cfg.write_text("hidden_size: 8\n")
    argv = [*PYTHON, "summarize", own_videos, "--out", out, "--epochs", "50", "--train-config", cfg, "--no-page"]
    lost, won = _one_runs_one_is_refused(argv, out, stop=signal.SIGKILL, working=lambda: (out / "features.h5").exists())
    assert won.returncode == -signal.SIGKILL
    assert not is_locked(out)


@pytest.mark.slow
def test_two_dataset_builds_of_one_file_then_resume_then_no_overwrite(own_videos, tmp_path):
    out = tmp_path / "own.h5"
    argv = [*PYTHON, "dataset", "build", own_videos, "--out", out]
    lost, won = _one_runs_one_is_refused(argv, out, working=lambda: any(Path(f"{out}.parts").glob("*.h5")))
    if won.returncode == 0:  # finished before the test stopped it
        assert out.is_file()
    else:
        assert_one_line_error(won, 143, out, "terminated (SIGTERM)", f"finished videos were kept ({out}.parts/)")
        assert not out.exists()
        again = cli("dataset", "build", own_videos, "--out", out)  # the unfinished build resumes, no --force needed
        assert again.returncode == 0, again.stderr
    with h5py.File(out) as h5:
        assert sorted(h5) == ["video_1", "video_2"]
    before = out.read_bytes()
    refused = cli("dataset", "build", own_videos, "--out", out)
    assert_one_line_error(refused, 8, out, "exists; pass --force to replace it")
    assert out.read_bytes() == before
    assert cli("dataset", "build", own_videos, "--out", out, "--force").returncode == 0


def test_dataset_synth_never_replaces_a_file_without_force(tmp_path):
    out = tmp_path / "features.h5"
    out.write_bytes(b"hours of features")
    proc = cli("dataset", "synth", "--videos", "3", "--dim", "16", "--out", out)
    assert_one_line_error(proc, 8, out, "exists; pass --force to replace it, or use another --out")
    assert out.read_bytes() == b"hours of features"
    proc = cli("dataset", "synth", "--videos", "3", "--dim", "16", "--out", out, "--force")
    assert proc.returncode == 0, proc.stderr
    with h5py.File(out) as h5:
        assert len(h5) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["features.h5"]  # no lock file left


def test_a_busy_dataset_file_is_refused_at_once(tmp_path):
    """A file another process is writing (it holds the lock): synth fails at once, exit 14."""
    out = tmp_path / "d.h5"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom acsumgan.locks import hold_lock\n"
            "with hold_lock(sys.argv[1], is_file=True):\n    print('holding', flush=True)\n    time.sleep(60)\n",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        t0 = time.monotonic()
        proc = cli("dataset", "synth", "--videos", "3", "--dim", "16", "--out", out)
        line = assert_one_line_error(proc, 14, out, f"is in use by process {holder.pid} since ")
        assert BUSY.search(line) and time.monotonic() - t0 < 30
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
