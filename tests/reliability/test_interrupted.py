"""Interrupted work loses nothing: Ctrl-C during training, a full disk while writing."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest
import torch

from acsumgan.cli import main
from acsumgan.errors import DiskFullError
from acsumgan.evaluation.scores import read_scores
from acsumgan.train.checkpoint import read_checkpoint, save_checkpoint
from acsumgan.train.trainer import read_metrics

from .conftest import PYTHON, TINY, assert_one_line_error, tmp_files

EPOCHS = 3


def _epochs_in(metrics_csv) -> int:
    try:
        return sum(1 for _ in open(metrics_csv)) - 1  # rows after the header
    except FileNotFoundError:
        return 0


@pytest.mark.slow
def test_ctrl_c_during_training_keeps_finished_epochs_and_resumes(tiny_synth, tiny_splits, tmp_path):
    run = tmp_path / "run"
    argv = [
        *PYTHON,
        "train",
        "--dataset",
        str(tiny_synth),
        "--splits",
        str(tiny_splits),
        "--out",
        str(run),
        "--n_epochs",
        str(EPOCHS),
        "--checkpoint-interval",
        "0",
        "--seed",
        "3",
        *TINY,
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    deadline = time.time() + 120
    while _epochs_in(run / "metrics.csv") < 2:  # epoch -1 (untrained) and epoch 0
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    stopped = subprocess.CompletedProcess(argv, proc.returncode, out, err)
    assert_one_line_error(stopped, 130, run, "interrupted (Ctrl-C) after epoch", "run the same command again to resume")
    # what was finished is there, readable and consistent; the run is marked unfinished
    assert not (run / "COMPLETE").exists()
    assert not tmp_files(run)
    rows = read_metrics(run)
    kept = [r["epoch"] for r in rows]
    assert kept == list(range(-1, len(kept) - 1)) and 0 in kept and len(kept) < EPOCHS + 1
    assert f"after epoch {kept[-1]} " in err
    assert sorted(read_scores(run / "scores.h5")) == kept
    assert read_checkpoint(run / "resume.pt")["epoch"] == kept[-1]  # saved every epoch here
    assert (run / "checkpoints" / f"epoch-{kept[-1]:03d}.pt").exists()
    # the same command again resumes after the last kept epoch and completes
    again = subprocess.run(argv, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert again.returncode == 0, again.stderr
    assert (run / "COMPLETE").exists() and not (run / "resume.pt").exists()
    assert f"resuming after epoch {kept[-1]}" in (run / "train.log").read_text()
    final = read_metrics(run)
    assert [r["epoch"] for r in final] == list(range(-1, EPOCHS))
    for before, after in zip(rows, final):  # the kept epochs are the same numbers
        assert {k: v for k, v in before.items() if k != "seconds"} == {k: v for k, v in after.items() if k != "seconds"}
    assert sorted(read_scores(run / "scores.h5")) == list(range(-1, EPOCHS))
    assert not tmp_files(run)


# --- disk full --------------------------------------------------------------------------


def _run_main(argv, capsys) -> tuple[int, str]:
    """The command in this process (so a test can make the disk "full"): exit code, stderr."""
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("where", ["while writing", "at the rename"])
def test_disk_full_leaves_the_previous_file_intact(where, tiny_synth, tmp_path, capsys, monkeypatch):
    out = tmp_path / "splits.json"
    code, _ = _run_main(["splits", "make", "--dataset", tiny_synth, "--out", out, "--seed", "1"], capsys)
    assert code == 0
    before = out.read_bytes()

    def no_space(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "while writing":
        real_dump = json.dump

        def half_then_full(obj, f, **kw):  # some bytes reach the temporary file, then the disk is full
            real_dump(obj[:1], f, **kw)
            no_space()

        monkeypatch.setattr(json, "dump", half_then_full)
    else:
        monkeypatch.setattr(os, "replace", no_space)
    code, err = _run_main(["splits", "make", "--dataset", tiny_synth, "--out", out, "--seed", "2"], capsys)
    monkeypatch.undo()
    assert code == 9
    assert err.strip().splitlines() == [f"acsumgan: error: {out}: disk full while writing (nothing was half-written)"]
    assert out.read_bytes() == before  # the previous version, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["splits.json"]  # no temporary file left


def test_disk_full_in_torch_save_is_a_disk_full_error(tmp_path, monkeypatch):
    """torch.save reports a full disk as a RuntimeError of its own ("unexpected pos ...")."""
    from acsumgan.config import TrainConfig
    from acsumgan.model.networks import ACSumGAN

    cfg = TrainConfig(input_size=8, hidden_size=4)
    model = ACSumGAN(**cfg.model_kwargs())
    path = tmp_path / "epoch-000.pt"
    save_checkpoint(path, model, cfg, 0)
    before = path.read_bytes()
    real_save = torch.save

    def full_disk_save(obj, f, *a, **k):
        real_save({"part": 1}, f)
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598")

    class Full:
        f_bavail, f_frsize = 0, 4096

    monkeypatch.setattr(torch, "save", full_disk_save)
    monkeypatch.setattr(os, "statvfs", lambda p: Full())
    with pytest.raises(DiskFullError) as info:
        save_checkpoint(path, model, cfg, 1)
    monkeypatch.undo()
    assert info.value.exit_code == 9 and info.value.path == str(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-000.pt"]
    # with space left, the same RuntimeError is a bug and stays one
    monkeypatch.setattr(torch, "save", full_disk_save)
    with pytest.raises(RuntimeError):
        save_checkpoint(path, model, cfg, 1)
    assert path.read_bytes() == before


@pytest.mark.slow
def test_disk_really_full_during_training(private_mount, tiny_synth, tiny_splits, tmp_path):
    """A real full disk: training into a 1 MB tmpfs (checkpoints are larger) stops with
    exit 9 naming the file; what was written before is whole; no temporary file."""
    disk, copy = tmp_path / "small_disk", tmp_path / "copy"
    proc = private_mount(
        "size=1m",
        disk,
        [
            *PYTHON,
            "train",
            "--dataset",
            tiny_synth,
            "--splits",
            tiny_splits,
            "--out",
            disk / "run",
            "--n_epochs",
            "2",
            *TINY,
        ],
        copy_to=copy,
    )
    line = proc.stderr.strip()
    assert proc.returncode == 9 and "Traceback" not in proc.stderr, proc.stderr
    assert len(line.splitlines()) == 1 and line.startswith(f"acsumgan: error: {disk / 'run'}/")
    assert line.endswith(": disk full while writing (nothing was half-written)")
    run = copy / "run"
    assert not tmp_files(run) and not (run / "COMPLETE").exists()
    rows = read_metrics(run)
    assert [r["epoch"] for r in rows] == sorted(read_scores(run / "scores.h5"))
    assert all(np.isfinite(r["f_score"]) for r in rows)


def test_ctrl_c_waits_for_the_epoch_files_and_a_second_one_does_not():
    from acsumgan.train.trainer import _ctrl_c_after_block

    done = []
    with pytest.raises(KeyboardInterrupt):
        with _ctrl_c_after_block():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            done.append("the rest of the block")
    assert done == ["the rest of the block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        with _ctrl_c_after_block():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)  # pressed again: stop now
            time.sleep(0.05)
            done.append("not reached")
    assert done == ["the rest of the block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
