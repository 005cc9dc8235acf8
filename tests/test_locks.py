"""One writer per folder (acsumgan.locks): the lock, its message, stale temporaries, and
SIGTERM / SIGHUP handled as Ctrl-C. The commands themselves: tests/reliability/test_locks.py
and test_signals.py."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from acsumgan.errors import BusyError, InterruptedByUser, OutputError, Terminated, interruption
from acsumgan.fileio import atomic_path, refuse_to_replace, stale_temporaries, write_text
from acsumgan.locks import (
    hold_lock,
    install_signal_handlers,
    is_locked,
    lock_path,
    restore_signal_handlers,
    signals_held,
)

HOLDER = """
import sys, time
from acsumgan.locks import hold_lock
with hold_lock(sys.argv[1], is_file=sys.argv[2] == "file"):
    print("holding", flush=True)
    time.sleep(60)
"""


def _holder(target, kind="folder") -> subprocess.Popen:
    """Another process that takes the lock of ``target`` and keeps it (until killed)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(target), kind], stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )
    assert proc.stdout.readline().strip() == "holding"
    return proc


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_lock_file_names_its_holder_and_goes_with_the_hold(tmp_path):
    run = tmp_path / "run"
    with hold_lock(run) as target:
        assert target == run and run.is_dir()
        info = json.loads((run / ".lock").read_text())
        assert info["pid"] == os.getpid() and abs(info["since"] - time.time()) < 60
        assert is_locked(run)
        with hold_lock(run):  # the same process again: nested, not busy
            pass
        assert is_locked(run) and (run / ".lock").exists()
    assert not (run / ".lock").exists() and not is_locked(run)


def test_a_file_is_locked_beside_it(tmp_path):
    target = tmp_path / "data.h5"
    assert lock_path(target, is_file=True) == tmp_path / ".data.h5.lock"
    with hold_lock(target, is_file=True):
        assert (tmp_path / ".data.h5.lock").exists() and not target.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_a_second_writer_fails_at_once_naming_the_holder(tmp_path, kind):
    target = tmp_path / ("run" if kind == "folder" else "data.h5")
    proc = _holder(target, kind)
    try:
        t0 = time.monotonic()
        with pytest.raises(BusyError) as info:
            with hold_lock(target, is_file=kind == "file"):
                pass
        assert time.monotonic() - t0 < 0.5
        assert info.value.exit_code == 14 and info.value.path == str(target)
        line = info.value.one_line()
        assert re.fullmatch(
            rf"{re.escape(str(target))}: is in use by process {proc.pid} since \d\d:\d\d; wait or use another --out",
            line,
        ), line
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_holder_leaves_no_lock(tmp_path):
    run = tmp_path / "run"
    proc = _holder(run)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (run / ".lock").exists()  # its file stays, saying who held it ...
    assert not is_locked(run)  # ... but nothing holds it
    with hold_lock(run):
        assert json.loads((run / ".lock").read_text())["pid"] == os.getpid()


def test_stale_temporaries_of_dead_writers_go_when_the_lock_is_taken(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    dead = _dead_pid()
    stale = [run / f".metrics.csv.{dead}.abcd1234.tmp", run / "checkpoints" / f".epoch-001.pt.{dead}.x_y9zzzz.tmp"]
    live = [run / f".scores.h5.{os.getpid()}.abcd1234.tmp", run / "notes.tmp", run / ".old.abcd1234.tmp"]
    for p in stale + live:
        p.write_text("half")
    assert stale_temporaries(run) == sorted(stale)
    with hold_lock(run):
        pass
    assert not any(p.exists() for p in stale) and all(p.exists() for p in live)


def test_a_file_lock_cleans_only_that_files_temporaries(tmp_path):
    dead = _dead_pid()
    mine = tmp_path / f".data.h5.{dead}.abcd1234.tmp"
    other = tmp_path / f".other.h5.{dead}.abcd1234.tmp"
    for p in (mine, other):
        p.write_text("half")
    with hold_lock(tmp_path / "data.h5", is_file=True):
        pass
    assert not mine.exists() and other.exists()


def test_temporary_files_carry_their_writers_pid(tmp_path):
    with atomic_path(tmp_path / "x.json") as tmp:
        assert re.fullmatch(rf"\.x\.json\.{os.getpid()}\.[A-Za-z0-9_]{{8}}\.tmp", tmp.name)
        assert stale_temporaries(tmp_path) == []  # a live writer's


def test_refuse_to_replace(tmp_path):
    f = tmp_path / "d.h5"
    refuse_to_replace(f, force=False)  # nothing there yet
    write_text(f, "x")
    with pytest.raises(OutputError, match="exists; pass --force to replace it") as info:
        refuse_to_replace(f, force=False)
    assert info.value.exit_code == 8
    refuse_to_replace(f, force=True)
    refuse_to_replace(f, force=False, resuming=True)


# --- signals ------------------------------------------------------------------------------


def test_interruption_words_and_exit_codes():
    assert interruption(KeyboardInterrupt()) == ("interrupted (Ctrl-C)", 130)
    assert interruption(Terminated(signal.SIGTERM)) == ("terminated (SIGTERM)", 143)
    assert interruption(Terminated(signal.SIGHUP)) == ("terminated (SIGHUP)", 129)
    assert isinstance(Terminated(15), KeyboardInterrupt)
    assert InterruptedByUser("x", "y", exit_code=143).exit_code == 143 and InterruptedByUser("x", "y").exit_code == 130


@pytest.fixture
def handlers():
    replaced = install_signal_handlers()
    yield replaced
    restore_signal_handlers(replaced)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_raise_terminated(handlers, sig):
    with pytest.raises(Terminated) as info:
        os.kill(os.getpid(), sig)
        time.sleep(1)
    assert info.value.signum == sig


def test_handlers_are_restored_and_an_ignored_sighup_stays_ignored():
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        replaced = install_signal_handlers()
        assert signal.SIGHUP not in replaced and signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        restore_signal_handlers(replaced)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGHUP, before)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_an_atomic_unit_holds_every_signal_until_done_and_a_second_one_does_not_wait(handlers, sig):
    wanted = KeyboardInterrupt if sig == signal.SIGINT else Terminated
    done = []
    with pytest.raises(wanted) as info:
        with signals_held():
            os.kill(os.getpid(), sig)
            time.sleep(0.05)
            done.append("the rest of the block")
    assert done == ["the rest of the block"]
    assert getattr(info.value, "signum", signal.SIGINT) == sig
    with pytest.raises(KeyboardInterrupt):
        with signals_held():
            os.kill(os.getpid(), sig)
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGTERM)  # another signal: stop now
            time.sleep(0.05)
            done.append("not reached")
    assert done == ["the rest of the block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # the command's handler, back in place


def test_without_the_commands_handlers_a_unit_runs_unchanged():
    """A SIGTERM outside the ``acsumgan`` command (its default action) is not touched."""
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with signals_held():
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


TREE_HOLDER = """
import sys, time
from acsumgan.locks import hold_lock
with hold_lock(sys.argv[1], tree=True):
    print("holding", flush=True)
    time.sleep(60)
"""


def _tree_holder(target) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", TREE_HOLDER, str(target)], stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_a_tree_lock_refuses_writers_of_folders_inside_and_around_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ACSUMGAN_LOCK_DIR", str(tmp_path / "registry"))
    nx = tmp_path / "NX"
    proc = _tree_holder(nx)
    try:
        for target, words in (
            (nx / "a", f"the folder that contains it ({nx}) is being written by process {proc.pid}"),
            (nx / "a" / "b.h5", f"the folder that contains it ({nx}) is being written by process {proc.pid}"),
            (tmp_path, f"a folder inside it ({nx}) is being written by process {proc.pid}"),
            (nx, f"is in use by process {proc.pid} since"),
        ):
            with pytest.raises(BusyError, match=re.escape(words)):
                with hold_lock(target, is_file=target.suffix == ".h5", tree=True):
                    pass
        assert sorted(p.name for p in nx.iterdir()) == [".lock"]  # a refused tree lock wrote nothing
        with hold_lock(tmp_path / "NX2", tree=True):  # beside it: free
            pass
        with hold_lock(nx / "a"):  # a plain lock (a trainer inside a summarize's OUT) is not a tree writer
            pass
    finally:
        proc.kill()
        proc.wait()
    with hold_lock(nx / "a", tree=True):  # the holder's death frees the tree
        with hold_lock(nx / "a" / "model", tree=True):  # the same process nests freely
            pass
    assert os.listdir(tmp_path / "registry") == []  # entries go with their last holder


def test_a_worker_writes_inside_the_tree_its_parent_holds(tmp_path, monkeypatch):
    from acsumgan.locks import worker_env

    monkeypatch.setenv("ACSUMGAN_LOCK_DIR", str(tmp_path / "registry"))
    nx = tmp_path / "NX"
    code = (
        "import sys\nfrom acsumgan.locks import hold_lock\nwith hold_lock(sys.argv[1], tree=True):\n    print('ok')\n"
    )
    with hold_lock(nx, tree=True):
        env = worker_env()
        worker = subprocess.run([sys.executable, "-c", code, str(nx / "run")], env=env, capture_output=True, text=True)
        stranger = subprocess.run([sys.executable, "-c", code, str(nx / "run")], capture_output=True, text=True)
    assert worker.returncode == 0 and worker.stdout.strip() == "ok", worker.stderr
    assert stranger.returncode != 0 and "BusyError" in stranger.stderr
