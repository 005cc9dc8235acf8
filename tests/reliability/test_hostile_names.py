"""Hostile names (docs/reliability.md, "Names of files and folders"): Rich markup (``[/]``, ``[bold red]``,
``[link=...]``), control characters (ESC, CR, a newline) and bytes that are not UTF-8
(``caf\\xe9.mp4``) in the names of videos, folders and files. Each row runs the real
command (``python -m acsumgan ...``) in a subprocess and checks the exit code, no
traceback, what is printed (the name as given; a control character or a byte that is not
UTF-8 as its escape, ``\\x1b``, ``\\x0d``, ``\\xe9``; never raw) and the files written
(valid UTF-8: a byte that is not UTF-8 becomes U+FFFD in JSON, HTML, HDF5 and logs).
"""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import h5py
import pytest

from acsumgan.synthetic.media import plain_scene_frame, scene_video

from .conftest import TINY, assert_one_line_error, cli

SMALL = {"size": (96, 72), "painter": plain_scene_frame, "options": {"preset": "ultrafast"}}

#: A name of bytes that are not UTF-8 (Latin-1 é), as Python gives it (surrogateescape).
CAFE = os.fsdecode(b"caf\xe9.mp4")
#: The same, printed (the byte as its escape) and written to files (U+FFFD).
CAFE_SHOWN = "caf\\xe9.mp4"
CAFE_WRITTEN = "caf\ufffd.mp4"
ESC = "e\x1b[31mr\rz.mp4"
ESC_SHOWN = "e\\x1b[31mr\\x0dz.mp4"
#: Video names with markup (``[/]`` makes a folder ``v[`` holding ``].mp4``).
MARKUP = ["v[/].mp4", "[bold red]x.mp4", "[link=https:e.com]y.mp4", ESC]
#: What summarize prints for each (the file's name: the part after the last slash).
MARKUP_SHOWN = ["].mp4", "[bold red]x.mp4", "[link=https:e.com]y.mp4", ESC_SHOWN]
#: The C locale without Python's UTF-8 mode: file names and the terminal are ASCII.
C_LOCALE = {"LC_ALL": "C", "PYTHONUTF8": "0"}


def _env(**changes) -> dict:
    env = dict(os.environ, COLUMNS="400")  # no wrapping of long paths in Rich's tables
    env.pop("PYTHONIOENCODING", None)
    env.update(changes)
    return env


@pytest.fixture(scope="module")
def named(tmp_path_factory) -> dict[str, Path]:
    """One small video under hostile names, and folders of them."""
    d = tmp_path_factory.mktemp("hostile_names")
    video = scene_video(d / "plain.mp4", [20, 20, 20, 20], fps=10, **SMALL).path
    v: dict[str, Path] = {}
    for name in MARKUP:
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(video, d / name)
    v["markup"] = [d / name for name in MARKUP]
    latin = d / "latin"
    latin.mkdir()
    for name in (CAFE, "ü 名.mp4", "[bold red]x.mp4"):
        shutil.copy(video, latin / name)
    v["cafe"] = latin / CAFE
    v["latin"] = latin
    return v


def summarize_args(model, out, *videos):
    return ["summarize", "--model", model, "--out", out, "--", *videos]


# row -> (named, model, tmp) -> (argv, env)
ROWS = {
    "markup-summarize": lambda v, m, t: (summarize_args(m, t / "o[/]", *v["markup"]), _env()),
    "cafe-summarize": lambda v, m, t: (summarize_args(m, t / os.fsdecode(b"out\xe8"), v["cafe"]), _env()),
    "cafe-summarize-C": lambda v, m, t: (summarize_args(m, t / os.fsdecode(b"out\xe8"), v["cafe"]), _env(**C_LOCALE)),
    "cafe-build": lambda v, m, t: (["dataset", "build", v["latin"], "--out", t / "ds.h5"], _env()),
    "cafe-build-C": lambda v, m, t: (["dataset", "build", v["latin"], "--out", t / "ds.h5"], _env(**C_LOCALE)),
}


@pytest.fixture(scope="module")
def ran(named, models, tmp_path_factory):
    """Every row's command, two at a time in the background; ``{row: (proc, tmp)}``."""
    pool = ThreadPoolExecutor(max_workers=2)
    futures = {}
    for row, make in ROWS.items():
        t = tmp_path_factory.mktemp(row)
        argv, env = make(named, models["m1280"], t)
        futures[row] = (pool.submit(cli, *argv, timeout=600, env=env), t)
    yield {row: (f.result(), t) for row, (f, t) in futures.items()}
    pool.shutdown(wait=True)


def ok(proc) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr
    for raw in ("\x1b", "\r", "\x07"):  # nothing of a name reaches the terminal raw
        assert raw not in proc.stdout, proc.stdout


def utf8(path: Path) -> str:
    """The file's text, which must be valid UTF-8 (with no lone surrogate escaped in it)."""
    text = path.read_bytes().decode("utf-8")
    assert "\\udc" not in text.lower(), (path, text)
    return text


@pytest.mark.slow
def test_markup_and_control_characters_in_names_print_as_they_are(ran, named, models):
    proc, t = ran["markup-summarize"]
    ok(proc)
    out = t / "o[/]"
    for name, shown in zip(MARKUP, MARKUP_SHOWN):
        folder = out / Path(name).stem
        assert (folder / "summary.mp4").stat().st_size > 0
        assert {"segments.json", "scores.png", "summary.html"} <= set(os.listdir(folder))
        shown_folder = f"{out}/{Path(shown).stem}"
        # the line of the files
        assert f"{shown}: {shown_folder}/summary.mp4  {shown_folder}/scores.png  {shown_folder}/segments.json" in (
            proc.stdout
        )
        assert f"review page: {shown_folder}/summary.html" in proc.stdout
        assert f"│ {shown} " in proc.stdout  # the table's row
    assert (
        f"summaries ({models['m1280']})" in proc.stdout
        and f"index of the review pages: {out}/index.html" in proc.stdout
    )
    assert f"features  {ESC_SHOWN} " in proc.stdout  # the progress bars' labels: the last video's
    seg = json.loads(utf8(out / "e\x1b[31mr\rz" / "segments.json"))
    assert seg["video"] == str(named["markup"][3])  # files keep the name as it is


@pytest.mark.slow
def test_markup_in_dataset_synth_validate_and_train_names(tmp_path):
    """Relative names (run in tmp_path), so that Rich's table titles stay on one line."""

    def run(*args):
        proc = cli(*args, env=_env(), cwd=tmp_path)
        ok(proc)
        return proc.stdout

    out = run("dataset", "synth", "--out", "x/[/].h5", "--videos", "8", "--dim", "32")
    assert out.strip() == "wrote x/[/].h5: 8 summe videos (summe profile, seed 0)"
    assert "x/[/].h5: 8 videos, valid" in run("dataset", "validate", "x/[/].h5")
    out = run("train", "--dataset", "x/[/].h5", "--out", "r[/]", "--n_epochs", "1", *TINY)
    assert "run r[/]" in out and (tmp_path / "r[/]" / "COMPLETE").is_file()
    out = run("dataset", "synth", "--out", "[link=https:e.com]d\x1b[1m.h5", "--videos", "2", "--dim", "8")
    assert out.strip() == "wrote [link=https:e.com]d\\x1b[1m.h5: 2 summe videos (summe profile, seed 0)"
    assert (tmp_path / "[link=https:e.com]d\x1b[1m.h5").is_file()


def test_control_characters_in_a_bad_name_give_one_visible_line(tmp_path):
    """A missing video whose name holds a newline, ESC and CR: ONE line, each as its escape."""
    bad = tmp_path / "no\nsuch\x1b\r.mp4"  # (no [: a glob pattern)
    proc = cli("summarize", "--model", "m.pt", "--out", tmp_path / "out", "--", bad, env=_env())
    assert_one_line_error(proc, 7, f"{tmp_path}/no\\x0asuch\\x1b\\x0d.mp4", "file not found")
    assert "\x1b" not in proc.stderr and "\r" not in proc.stderr
    proc = cli("dataset", "validate", tmp_path / CAFE, env=_env(**C_LOCALE))
    assert_one_line_error(proc, 3, f"{tmp_path}/{CAFE_SHOWN}", "file not found")
    folder = tmp_path / "d\x1b[2J"  # a click usage error names it too
    folder.mkdir()
    proc = cli("dataset", "validate", folder, env=_env())
    assert proc.returncode == 2 and "\x1b" not in proc.stderr, proc.stderr
    assert (
        proc.stderr.strip().splitlines()[-1]
        == f"Error: Invalid value for 'PATH': File '{tmp_path}/d\\x1b[2J' is a directory."
    )


@pytest.mark.slow
@pytest.mark.parametrize("row", ["cafe-summarize", "cafe-summarize-C"])
def test_a_name_that_is_not_utf8_summarizes_end_to_end(ran, named, row):
    """caf\\xe9.mp4 into out\\xe8/, under a UTF-8 locale and under LC_ALL=C PYTHONUTF8=0: every
    file is written and valid UTF-8, the name in it with U+FFFD; printed as caf\\xe9.mp4."""
    proc, t = ran[row]
    ok(proc)
    out = t / os.fsdecode(b"out\xe8")
    assert (out / "summary.mp4").stat().st_size > 0 and (out / "scores.png").stat().st_size > 1000
    seg = json.loads(utf8(out / "segments.json"))
    assert seg["video"] == f"{named['latin']}/{CAFE_WRITTEN}" and seg["n_selected"] >= 1
    html = utf8(out / "summary.html")
    assert f"<h1>{CAFE_WRITTEN}</h1>" in html
    assert "caf%E9.mp4" in html  # the player links the original file by its bytes
    assert f"summary: {CAFE_WRITTEN} -> " in utf8(out / "summarize.log")
    shown_out = f"{t}/out\\xe8"
    assert f"{CAFE_SHOWN}: {shown_out}/summary.mp4  {shown_out}/scores.png  {shown_out}/segments.json" in proc.stdout
    assert f"review page: {shown_out}/summary.html" in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("row", ["cafe-build", "cafe-build-C"])
def test_a_name_that_is_not_utf8_builds_a_dataset(ran, named, row):
    """A folder of caf\\xe9.mp4, ü 名.mp4 and [bold red]x.mp4: the file records valid UTF-8
    names (ü 名 as itself under LC_ALL=C too; the byte that is not UTF-8 as U+FFFD)."""
    proc, t = ran[row]
    ok(proc)
    assert proc.stdout.strip() == f"wrote {t}/ds.h5: 3 videos (efficientnet-lite0 features)"
    with h5py.File(t / "ds.h5", "r") as h5:
        names = sorted(h5[k]["video_name"][()].decode("utf-8") for k in h5)
        sources = sorted(h5[k]["source_path"][()].decode("utf-8") for k in h5)
    assert names == sorted([CAFE_WRITTEN, "ü 名.mp4", "[bold red]x.mp4"])
    assert f"{named['latin']}/{CAFE_WRITTEN}" in sources
    assert not (t / "ds.h5.parts").exists()
