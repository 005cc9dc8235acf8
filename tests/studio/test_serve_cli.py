"""The ``acsumgan serve`` command itself: its help, the warning of a non-loopback --host,
a busy port, and a clean stop."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time

from .conftest import ROOT, serve_argv, start_server


def run(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "acsumgan", *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


def test_help_explains():
    p = run("serve", "--help")
    assert p.returncode == 0
    text = " ".join(p.stdout.split())
    for words in ("summary studio", "token", "--out", "--host", "--port", "--workers", "--max-upload-mb", "127.0.0.1"):
        assert words in text, words
    assert "serve" in run("--help").stdout


def test_prints_url_and_stops_cleanly(tmp_path):
    s = start_server([], tmp_path / "out", tmp_path / "err")
    assert s.url == f"http://127.0.0.1:{s.port}/"
    assert len(s.token) >= 32
    assert s.stdout == [f"acsumgan studio: {s.token_url}"]
    assert s.stop() == 0
    assert "warning" not in s.stderr()
    assert (tmp_path / "out" / "uploads").is_dir()


def test_non_loopback_host_warns(tmp_path):
    s = start_server([], tmp_path / "out", tmp_path / "err", host="0.0.0.0")
    try:
        lines = s.stderr().splitlines()
        assert any(line.startswith("acsumgan: warning: --host 0.0.0.0 is not a loopback address") for line in lines)
        assert s.url == f"http://127.0.0.1:{s.port}/"
        with s.client() as c:
            assert c.get("/api/library").status_code == 200
            # reached by an address of this machine: taken; by a DNS name (rebinding): refused
            assert c.get("/api/library", headers={"Host": f"10.1.2.3:{s.port}"}).status_code == 200
            assert c.get("/api/library", headers={"Host": f"[fe80::1]:{s.port}"}).status_code == 200
            assert c.get("/api/library", headers={"Host": f"evil.example:{s.port}"}).status_code == 400
            assert c.get("/api/library", headers={"Host": f"10.1.2.3:{s.port + 1}"}).status_code == 400
    finally:
        s.stop()
    s = start_server([], tmp_path / "out", tmp_path / "err2", host="localhost")
    s.stop()
    assert "warning" not in s.stderr()


def test_busy_port_is_one_line_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        argv = serve_argv([], tmp_path / "out", port=port)
        p = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert lines == [
        f"acsumgan: error: 127.0.0.1:{port}: address in use (another server listens there): pick another --port"
    ]
    assert p.stdout == ""


def test_responses_are_not_delayed(tmp_path):
    # the listening socket is a TCP one (TCP_NODELAY on each connection): a response written
    # in two pieces does not wait for the client's delayed ACK (~40 ms each)
    s = start_server([], tmp_path / "out", tmp_path / "err")
    try:
        with s.client() as c:
            c.get("/api/jobs")
            times = []
            for _ in range(15):
                t = time.perf_counter()
                assert c.get("/api/jobs").status_code == 200
                times.append(time.perf_counter() - t)
        assert statistics.median(times) < 0.03, times
    finally:
        s.stop()


def test_bad_folder_is_usage_error(tmp_path):
    p = run("serve", tmp_path / "missing", "--port", "0")
    assert p.returncode == 2
    assert "does not exist" in p.stderr
    assert "Traceback" not in p.stderr
