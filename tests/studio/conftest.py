"""The studio's test server: the real ``acsumgan serve`` command in a subprocess, on a free
loopback port (``--port 0``: the URL it prints names the port), driven over HTTP with httpx.

``studio_server`` is a factory: ``start(folders, out=None, **options) -> Server``; every
server it started is stopped at teardown. ``Server.client()`` is an httpx client with the
token (``Authorization: Bearer``), ``Server.url`` the base URL (no token),
``Server.token_url`` the URL the command printed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"^acsumgan studio: (http://(\S+?):(\d+)/)\?token=(\S+)$")
#: Epochs of the models the test jobs train: a summarize job takes seconds.
EPOCHS = 1


@dataclass
class Server:
    """One running ``acsumgan serve``."""

    url: str  # base URL, ends with "/"
    token: str
    port: int
    out: Path
    proc: subprocess.Popen
    stdout: list[str] = field(default_factory=list)
    stderr_path: Path | None = None

    @property
    def token_url(self) -> str:
        return f"{self.url}?token={self.token}"

    @property
    def base(self) -> str:
        return self.url.rstrip("/")

    def client(self, token: bool = True, **kw) -> httpx.Client:
        """An httpx client of this server (with the token unless ``token=False``)."""
        headers = {"Authorization": f"Bearer {self.token}"} if token else {}
        headers.update(kw.pop("headers", {}))
        return httpx.Client(base_url=self.base, headers=headers, timeout=kw.pop("timeout", 60), **kw)

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace") if self.stderr_path else ""
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        """Stop the server (Ctrl-C by default) and wait for it; its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


def serve_argv(folders, out, **options) -> list[str]:
    """``python -m acsumgan serve FOLDERS --out OUT --port 0 ...``: options by their
    names (``max_upload_mb=1`` -> ``--max-upload-mb 1``; ``None`` leaves one out)."""
    opts = {"port": 0, "epochs": EPOCHS, "seed": 0, "threads": 1}
    opts.update(options)
    argv = [sys.executable, "-m", "acsumgan", "serve", *map(str, folders), "--out", str(out)]
    for k, v in opts.items():
        if v is not None:
            argv += [f"--{k.replace('_', '-')}", str(v)]
    return argv


def start_server(folders, out, stderr_path: Path, wait: float = 60.0, **options) -> Server:
    """Start ``acsumgan serve`` and wait for the URL line (a failure shows its stderr)."""
    env = dict(os.environ)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OMP_NUM_THREADS", "1")
    err = open(stderr_path, "wb")
    proc = subprocess.Popen(
        serve_argv(folders, out, **options),
        stdout=subprocess.PIPE,
        stderr=err,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=env,
    )
    err.close()
    lines: list[str] = []
    found = threading.Event()
    match: list = []

    def read():  # the URL line, then drain stdout so the server never blocks on it
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            m = URL_LINE.match(line.strip())
            if m and not match:
                match.append(m)
                found.set()
        found.set()

    threading.Thread(target=read, daemon=True).start()
    end = time.monotonic() + wait
    while not found.wait(0.1):
        if time.monotonic() > end:
            proc.kill()
            pytest.fail(f"acsumgan serve printed no URL in {wait} s: {stderr_path.read_text(errors='replace')}")
    if not match:
        proc.wait(10)
        pytest.fail(f"acsumgan serve ended (exit {proc.returncode}): {stderr_path.read_text(errors='replace')}")
    m = match[0]
    return Server(
        url=m.group(1), token=m.group(4), port=int(m.group(3)), out=Path(out), proc=proc, stdout=lines,
        stderr_path=stderr_path,
    )  # fmt: skip


@pytest.fixture
def studio_server(tmp_path):
    """``start(folders=(), out=None, **options) -> Server``: a real ``acsumgan serve`` on a
    free loopback port (``out`` defaults to a fresh folder under tmp_path; options as the
    command's, e.g. ``workers=2``, ``max_upload_mb=1``, ``epochs=2``); stopped at teardown."""
    started: list[Server] = []

    def start(folders=(), out=None, **options) -> Server:
        n = len(started)
        out = Path(out) if out is not None else tmp_path / f"studio{n}"
        server = start_server(list(folders), out, tmp_path / f"serve{n}.stderr", **options)
        started.append(server)
        return server

    yield start
    for s in started:
        s.stop()


# --- videos -------------------------------------------------------------------------------

#: The test clip's scenes (frames at 25 fps): 12 s, four scenes.
CLIP_SCENES = [75, 50, 100, 75]


@pytest.fixture(scope="session")
def studio_clip(tmp_path_factory) -> Path:
    """A 12-s H.264 clip with audio (four scenes, 96x64, 25 fps), alone in its folder."""
    from acsumgan.synthetic.media import make_scene_video

    d = tmp_path_factory.mktemp("studio_videos")
    return make_scene_video(d / "clip.mp4", CLIP_SCENES, size=(96, 64))


@pytest.fixture
def videos(tmp_path, studio_clip) -> Path:
    """A fresh folder holding a copy of the test clip (``clip.mp4``)."""
    d = tmp_path / "videos"
    d.mkdir()
    shutil.copy2(studio_clip, d / "clip.mp4")
    return d


@pytest.fixture(scope="session")
def summarized_studio(tmp_path_factory, studio_clip) -> tuple[Path, Path]:
    """(a folder holding clip.mp4, a studio DIR where it is summarized already): made once
    by the command a summarize job runs; copy it before changing it (:func:`copy_studio`)."""
    base = tmp_path_factory.mktemp("summarized")
    videos = base / "videos"
    videos.mkdir()
    shutil.copy2(studio_clip, videos / "clip.mp4")
    out = base / "studio"
    argv = [sys.executable, "-m", "acsumgan", "summarize", str(videos / "clip.mp4"), "--out", str(out / "clip")]
    argv += ["--epochs", str(EPOCHS), "--threads", "1", "--seed", "0", "--device", "cpu"]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert p.returncode == 0, p.stderr
    return videos, out


@pytest.fixture
def studio_copy(tmp_path, summarized_studio) -> tuple[Path, Path]:
    """A fresh copy of :func:`summarized_studio` (videos folder, studio DIR) under tmp_path;
    the summary's source path still names the session's clip (a copy of the same bytes)."""
    videos, out = summarized_studio
    v2, o2 = tmp_path / "videos", tmp_path / "studio"
    shutil.copytree(videos, v2)
    shutil.copytree(out, o2, symlinks=True)
    return v2, o2


def wait_job(client: httpx.Client, job_id: str, states=("done", "failed", "cancelled"), timeout: float = 300.0) -> dict:
    """Poll ``/api/jobs`` until job ``job_id`` is in one of ``states``; the JOB."""
    end = time.monotonic() + timeout
    job = None
    while time.monotonic() < end:
        jobs = {j["id"]: j for j in client.get("/api/jobs").json()["jobs"]}
        job = jobs.get(job_id)
        if job is not None and job["state"] in states:
            return job
        time.sleep(0.2)
    pytest.fail(f"job {job_id} not in {states} after {timeout} s: {job}")


# --- a moving object (reframing, issue 25) ---------------------------------------------------

#: The reframing test clip: 12 s at 15 fps, 320x180, a bright disc going left to right and
#: back over a drifting texture (:func:`acsumgan.synthetic.media.moving_object_video`).
MOVING = {"size": (320, 180), "fps": 15, "seconds": 12.0, "speed": 100.0, "radius": 14.0, "margin": 30.0, "drift": 12.0}


def summarize_cli(video: Path, out: Path) -> None:
    """``acsumgan summarize VIDEO --out OUT`` as a summarize job runs it (1 epoch, seed 0, CPU)."""
    argv = [sys.executable, "-m", "acsumgan", "summarize", str(video), "--out", str(out)]
    argv += ["--epochs", str(EPOCHS), "--threads", "1", "--seed", "0", "--device", "cpu"]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert p.returncode == 0, p.stderr


@pytest.fixture(scope="session")
def summarized_moving(tmp_path_factory) -> tuple[Path, Path]:
    """(a folder holding moving.mp4, a studio DIR where it is summarized already, as ``moving``):
    made once; copy it before changing it (:func:`moving_copy`)."""
    from acsumgan.synthetic.media import moving_object_video

    base = tmp_path_factory.mktemp("moving")
    videos = base / "videos"
    videos.mkdir()
    moving_object_video(videos / "moving.mp4", **MOVING)
    out = base / "studio"
    summarize_cli(videos / "moving.mp4", out / "moving")
    return videos, out


@pytest.fixture
def moving_copy(tmp_path, summarized_moving) -> tuple[Path, Path]:
    """A fresh copy of :func:`summarized_moving` (videos folder, studio DIR) under tmp_path."""
    videos, out = summarized_moving
    v2, o2 = tmp_path / "videos", tmp_path / "studio"
    shutil.copytree(videos, v2)
    shutil.copytree(out, o2, symlinks=True)
    return v2, o2
