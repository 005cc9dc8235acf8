"""Every shell block of the README and the docs marked runnable runs, as written, on small
inputs: the docs cannot rot.

A block is marked by an HTML comment on the line before its fence (invisible on GitHub and on
the site)::

    <!-- runnable -->
    ```bash
    acsumgan summarize videos/ --out summaries
    ```

or ``<!-- runnable: creates PATH... -->`` naming files it writes besides its ``--out``
targets. The blocks of one file run in order in one fresh folder holding ``videos/`` (two short
sample videos, conftest.sample_videos), with ``acsumgan`` on the PATH; each must exit 0, and
every ``--out`` of its commands and every path it says it creates must exist afterwards.
Commands that need a cluster, a server or hours of training are shown without the marker.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, doc_files, sample_videos

pytestmark = pytest.mark.slow

MARKED = re.compile(
    r"^<!-- runnable(?::\s*creates\s+(?P<creates>[^>]*?))?\s*-->[ \t]*\n"
    r"```(?:bash|sh|shell|console)[^\n]*\n(?P<body>.*?)^```",
    re.M | re.S,
)
#: Files whose readers are told a command runs: each must keep at least one runnable block.
MUST_HAVE = ["README.md", "docs/getting-started.md", "docs/tutorials/own-videos.md", "docs/tutorials/reproduce.md"]


def runnable_blocks(path: Path) -> list[tuple[str, list[str]]]:
    """The runnable blocks of a markdown file: (shell text, paths it says it creates)."""
    text = path.read_text(encoding="utf-8")
    return [(m["body"], (m["creates"] or "").split()) for m in MARKED.finditer(text)]


def outs(script: str) -> list[str]:
    """The ``--out`` targets of a block's commands (continuation lines joined, comments dropped)."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        found += [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--out"]
        found += [w.split("=", 1)[1] for w in words if w.startswith("--out=")]
    return found


def _files_with_blocks() -> list[Path]:
    return [p for p in doc_files() if runnable_blocks(p)]


def test_the_marker_is_found_where_readers_are_told_commands_run():
    for rel in MUST_HAVE:
        assert runnable_blocks(ROOT / rel), f"{rel}: no block marked <!-- runnable --> (the marker was lost?)"


def test_a_marked_block_is_parsed_with_its_outputs():
    # known answer: the parser on a small document of its own
    text = (
        "<!-- runnable: creates a/x.txt b -->\n```bash\nacsumgan train --dataset d.h5 \\\n    --out runs/r  # c\n```\n"
        "```bash\nacsumgan not-marked --out no\n```\n"
    )
    blocks = [(m["body"], (m["creates"] or "").split()) for m in MARKED.finditer(text)]
    assert blocks == [("acsumgan train --dataset d.h5 \\\n    --out runs/r  # c\n", ["a/x.txt", "b"])]
    assert outs(blocks[0][0]) == ["runs/r"]


@pytest.mark.parametrize("doc", _files_with_blocks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_runnable_blocks_run(doc, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    sample_videos(work)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "acsumgan"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m acsumgan "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for i, (script, creates) in enumerate(runnable_blocks(doc)):
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        where = f"{doc.relative_to(ROOT)}, runnable block {i + 1}:\n{script}"
        assert proc.returncode == 0, f"{where}\nexit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        for path in outs(script) + creates:
            assert (work / path).exists(), f"{where}\ndoes not write {path}"
