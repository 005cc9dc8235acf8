"""What the documentation tests share: the site built from this checkout (once per session,
strict, into a temporary folder), a static server for it on 127.0.0.1, the markdown files
whose runnable blocks are run, and the sample videos those blocks summarize."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The real sample videos beside the repository (public data: their provenance is on the
#: docs' "Data and licences" page); generated stand-ins of the same names when absent.
SAMPLE_VIDEOS = ROOT / ".." / "shared" / "data" / "videos"
SAMPLES = ("bikes.mp4", "bigbuckbunny.mp4")


def doc_files() -> list[Path]:
    """README.md and every page of the docs site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def build_site(out: Path) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of this checkout into ``out``: what ``make docs`` runs."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The site, built strict from this checkout (a broken link or a missing page fails)."""
    out = tmp_path_factory.mktemp("site") / "site"
    proc = build_site(out)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url(site):
    """The built site served on 127.0.0.1 (a free port), as a browser opens a docs site;
    file:// would forbid the search's web worker."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def sample_videos(into: Path) -> Path:
    """``into/videos/`` holding bikes.mp4 (10 s) and bigbuckbunny.mp4 (5 s): the real sample
    videos when they are beside the repository, else generated scene videos of those names."""
    videos = into / "videos"
    videos.mkdir(parents=True)
    for name in SAMPLES:
        real = SAMPLE_VIDEOS / name
        if real.is_file():
            shutil.copyfile(real, videos / name)
        else:
            from acsumgan.synthetic.media import make_scene_video

            make_scene_video(videos / name, [50, 75, 60, 65] if name == "bikes.mp4" else [40, 52, 40], size=(320, 180))
    return videos
