"""Worker processes (acsumgan.media.workers): real ``python -m`` children, started, followed and ended."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from acsumgan.locks import worker_env
from acsumgan.media.workers import WorkerGroup

WORKER = textwrap.dedent(
    """
    import os, sys, time
    parent = os.environ.get("ACSUMGAN_PARENT_PID", "")
    from acsumgan.media.workers import CountLines, worker_channel
    out = worker_channel()
    mode = sys.argv[1]
    if mode == "env":
        out.write(("%s %s %s\\n" % (os.environ.get("ACSUMGAN_TEST_VALUE"), parent, os.getppid())).encode())
    elif mode == "count":
        lines = CountLines(out, every_s=-1.0)  # every count
        for i in range(1, 6):
            lines(i)
            print("a stray print goes to stderr", flush=True)
    elif mode == "echo":
        for line in sys.stdin:
            out.write(b"%d\\n" % (2 * int(line)))
            out.flush()
    elif mode == "sleep":
        out.write(b"ready\\n")
        out.flush()
        time.sleep(120)
    elif mode == "fail":
        sys.exit(3)
    out.flush()
    """
)


@pytest.fixture
def module(tmp_path, monkeypatch) -> str:
    """A worker module on PYTHONPATH (the workers inherit it, this package's folder first)."""
    (tmp_path / "acsumgan_test_worker.py").write_text(WORKER)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("ACSUMGAN_TEST_VALUE", "inherited")
    return "acsumgan_test_worker"


def _running(pid: int) -> bool:
    """A process that is there and not a zombie (a zombie has an empty command line)."""
    try:
        return bool(Path(f"/proc/{pid}/cmdline").read_bytes())
    except OSError:
        return False


def test_a_worker_inherits_the_environment_and_knows_its_parent(module):
    with WorkerGroup() as group:
        w = group.start(module, "env")
        value, parent, ppid = w.stdout.readline().decode().split()
        assert w.wait() == 0
    assert value == "inherited" and int(parent) == int(ppid) == os.getpid()


def test_progress_lines_are_read_and_stray_prints_do_not_mix_in(module):
    counts = []
    with WorkerGroup() as group:
        w = group.start(module, "count")
        w.follow_counts(counts.append)
        assert w.wait() == 0
    assert counts == [1, 2, 3, 4, 5]  # all read by the time the group is left


def test_lines_to_a_worker_and_back(module):
    with WorkerGroup() as group:
        w = group.start(module, "echo", stdin=True)
        assert w.send_line("21") and w.stdout.readline() == b"42\n"
        assert w.send_line("5") and w.stdout.readline() == b"10\n"
    assert not w.running()
    assert not w.send_line("1")  # gone: False, no error


def test_a_worker_is_killed_when_the_group_is_left(module, tmp_path):
    with WorkerGroup() as group:
        w = group.start(module, "sleep")
        assert w.stdout.readline() == b"ready\n"
        scratch = group.scratch_file(tmp_path / "out.mp4")
        assert scratch.exists() and scratch.name.startswith(".out.mp4.") and scratch.suffix == ".tmp"
        assert w.running()
    assert w.proc.returncode == -signal.SIGKILL
    assert not scratch.exists()


def test_a_worker_is_killed_when_the_parent_fails(module, tmp_path):
    with pytest.raises(RuntimeError, match="the parent failed"):
        with WorkerGroup() as group:
            workers = [group.start(module, "sleep") for _ in range(2)]
            assert [w.stdout.readline() for w in workers] == [b"ready\n"] * 2
            scratch = group.scratch_file(tmp_path / "x")
            raise RuntimeError("the parent failed")
    assert [w.proc.returncode for w in workers] == [-signal.SIGKILL] * 2
    assert not scratch.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acsumgan_test_worker.py"]


def test_a_failing_worker_gives_its_status(module):
    with WorkerGroup() as group:
        assert group.start(module, "fail").wait() == 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG")
def test_a_worker_dies_with_a_killed_parent(module):
    script = (
        "import time\n"
        "from acsumgan.media.workers import WorkerGroup\n"
        "group = WorkerGroup()\n"
        f"w = group.start({module!r}, 'sleep')\n"
        "assert w.stdout.readline() == b'ready\\n'\n"
        "print(w.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=worker_env())
    child = None
    try:
        child = int(parent.stdout.readline())
        assert _running(child)
        parent.send_signal(signal.SIGKILL)  # no `with`, no finally: only the worker's own watch
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _running(child):
            time.sleep(0.1)
        assert not _running(child)
    finally:
        if parent.poll() is None:
            parent.kill()
        if child is not None and _running(child):
            os.kill(child, signal.SIGKILL)
