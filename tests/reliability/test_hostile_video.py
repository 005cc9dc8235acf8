"""docs/reliability.md, "Videos": the hostile cases of the video side: each row runs the real command
(``python -m acsumgan summarize`` / ``dataset build``) in a subprocess and checks the exit
code, the one line on stderr (or none), no traceback, and what was written.

Videos are generated small (96x72 mostly, a few seconds) with acsumgan.synthetic.media.
"""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import av
import h5py
import numpy as np
import pytest

from acsumgan.synthetic.media import plain_scene_frame, scene_video

from .conftest import PYTHON, assert_one_line_error, cli

SMALL = {"size": (96, 72), "painter": plain_scene_frame, "options": {"preset": "ultrafast"}}


def scenes(path, lengths=(20, 20, 20, 20), fps=10, **kw):
    """Four scenes of 2 s at 10 fps (8 s, 96x72) unless told otherwise."""
    return scene_video(path, list(lengths), fps=fps, **{**SMALL, **kw}).path


def vfr_video(path) -> Path:
    """3 s at 30 fps, 3 s at 7.5 fps, 3 s at 30 fps, 3 s at 7.5 fps (millisecond timestamps)."""
    parts = [(90, 30), (23, 7.5), (90, 30), (23, 7.5)]
    pts, t = [], 0.0
    for n, fps in parts:
        for _ in range(n):
            pts.append(int(round(t)))
            t += 1000 / fps
    return scene_video(
        path,
        [n for n, _ in parts],
        fps=30,
        pts=pts,
        time_base=Fraction(1, 1000),
        tones=[500.0, 1000.0, 1500.0, 700.0],
        **SMALL,
    ).path


@pytest.fixture(scope="module")
def hv(tmp_path_factory):
    """The videos and folders of this module, by name."""
    d = tmp_path_factory.mktemp("hostile_videos")
    v = {}
    odd = d / "vidéos ü 名 dir"
    odd.mkdir()
    v["spaces"] = scenes(odd / "my clip ü 名.mp4")
    dash = d / "dash"
    dash.mkdir()
    v["dash_dir"] = dash
    scenes(dash / "-x.mp4")
    mixed = d / "mixed"
    mixed.mkdir()
    scenes(mixed / "a.mp4")
    scenes(mixed / "b.mts", fmt="mpegts")
    scenes(mixed / "c.3gp", fmt="3gp")
    (mixed / "notes.txt").write_text("not a video\n")
    (mixed / "cover.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    v["mixed"] = mixed
    broken = d / "mixed_broken"
    shutil.copytree(mixed, broken)
    (broken / "d.mp4").write_text("a text file named .mp4\n" * 20)
    v["mixed_broken"] = broken
    v["rotated"] = scenes(d / "phone.mp4", rotation=90)
    v["vfr"] = vfr_video(d / "vfr.mp4")
    v["fps1"] = scenes(d / "fps1.mp4", (5, 5, 5, 5), fps=1)
    v["fps120"] = scenes(d / "fps120.mp4", (240, 240, 240, 240), fps=120)
    v["tall"] = scenes(d / "tall.mp4", (20, 20, 20), size=(90, 1600))
    v["4k"] = scenes(d / "4k.mp4", (10, 10), size=(3840, 2160))
    v["plain"] = scenes(d / "plain.mp4")
    v["odd"] = scenes(d / "odd.mkv", size=(97, 73), codec="ffv1", pix_fmt="yuv444p", options={})
    (d / "home_is_a_file").write_text("HOME points here\n")
    v["home_file"] = d / "home_is_a_file"
    return v


def summarize_args(model, out, *videos, extra=()):
    return ["summarize", "--model", model, "--out", out, *extra, "--", *videos]


# row -> (hv, model, tmp) -> (argv, keywords of cli())
ROWS = {
    "names-spaces-unicode": lambda v, m, t: (summarize_args(m, t / "out ü 名", v["spaces"]), {}),
    "names-leading-dash": lambda v, m, t: (summarize_args(m, t / "-out", "-x.mp4"), {"cwd": v["dash_dir"]}),
    "build-names": lambda v, m, t: (
        ["dataset", "build", "--out", t / "ds ü 名.h5", "--", v["spaces"], v["dash_dir"] / "-x.mp4"],
        {},
    ),
    "mixed-summarize": lambda v, m, t: (summarize_args(m, t / "out", v["mixed"], extra=["--no-page"]), {}),
    "mixed-build": lambda v, m, t: (["dataset", "build", v["mixed"], "--out", t / "mixed.h5"], {}),
    "mixed-broken-summarize": lambda v, m, t: (summarize_args(m, t / "out", v["mixed_broken"]), {}),
    "mixed-broken-train-on": lambda v, m, t: (
        ["summarize", v["plain"], "--out", t / "out", "--train-on", v["mixed_broken"], "--epochs", "1"],
        {},
    ),
    "mixed-broken-build": lambda v, m, t: (["dataset", "build", v["mixed_broken"], "--out", t / "mixed.h5"], {}),
    "rotated": lambda v, m, t: (summarize_args(m, t / "out", v["rotated"]), {}),
    "vfr": lambda v, m, t: (summarize_args(m, t / "out", v["vfr"], extra=["--budget", "0.4", "--no-page"]), {}),
    "fps1": lambda v, m, t: (summarize_args(m, t / "out", v["fps1"], extra=["--no-page"]), {}),
    "fps120": lambda v, m, t: (summarize_args(m, t / "out", v["fps120"], extra=["--no-page"]), {}),
    "odd-size": lambda v, m, t: (summarize_args(m, t / "out", v["odd"], extra=["--no-page"]), {}),
    "tall": lambda v, m, t: (summarize_args(m, t / "out", v["tall"]), {}),
    "4k": lambda v, m, t: (summarize_args(m, t / "out", v["4k"], extra=["--seconds", "1", "--no-page"]), {}),
    "seconds-longer": lambda v, m, t: (summarize_args(m, t / "out", v["plain"], extra=["--seconds", "600"]), {}),
    "budget-0.999": lambda v, m, t: (summarize_args(m, t / "out", v["plain"], extra=["--budget", "0.999"]), {}),
    "home-file-tmpdir-missing": lambda v, m, t: (
        summarize_args(m, t / "out", v["plain"]),
        {"env": _env(HOME=v["home_file"], TMPDIR=t / "no_such_tmp", XDG_CONFIG_HOME=None, MPLCONFIGDIR=None)},
    ),
    "home-unset": lambda v, m, t: (
        summarize_args(m, t / "out", v["plain"], extra=["--no-page"]),
        {"env": _env(HOME=None, TMPDIR=t / "no_such_tmp", MPLCONFIGDIR=None)},
    ),
    "home-file-googlenet": lambda v, m, t: (
        summarize_args(m, t / "out", v["plain"], extra=["--backbone", "googlenet"]),
        {
            "env": _env(
                HOME=v["home_file"],
                TMPDIR=t / "no_such_tmp",
                TORCH_HOME=None,
                XDG_CACHE_HOME=None,
                ACSUMGAN_GOOGLENET_WEIGHTS=None,
            )
        },
    ),
}


def _env(**changes) -> dict:
    env = dict(os.environ)
    for k, val in changes.items():
        if val is None:
            env.pop(k, None)
        else:
            env[k] = str(val)
    return env


@pytest.fixture(scope="module")
def ran(hv, models, tmp_path_factory):
    """Every row's command, two at a time in the background; ``{row: (proc, tmp)}``."""
    pool = ThreadPoolExecutor(max_workers=2)
    futures = {}
    for row, make in ROWS.items():
        t = tmp_path_factory.mktemp(row.replace(".", "_"))
        argv, kw = make(hv, models["m1280"], t)
        futures[row] = (pool.submit(cli, *argv, timeout=600, **kw), t)
    yield {row: (f.result(), t) for row, (f, t) in futures.items()}
    pool.shutdown(wait=True)


def ok(proc) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and "warn" not in proc.stderr.lower(), proc.stderr


def segments(folder: Path) -> dict:
    return json.loads((folder / "segments.json").read_text())


def video_size(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as c:
        cc = c.streams.video[0].codec_context
        return cc.width, cc.height


def frame_times(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.array([float(f.time) for f in c.decode(video=0)])


def no_leftovers(folder: Path) -> None:
    """No temporary file or staging folder anywhere below ``folder``."""
    left = [p for p in folder.rglob("*") if p.name.endswith((".tmp", ".new", ".old")) or ".parts" in p.name]
    assert not left, left


def test_names_with_spaces_and_unicode(ran, hv):
    proc, t = ran["names-spaces-unicode"]
    ok(proc)
    out = t / "out ü 名"
    assert segments(out)["video"] == str(hv["spaces"])
    html = (out / "summary.html").read_text()
    assert "my%20clip%20%C3%BC%20%E5%90%8D.mp4" in html  # the page links the original, quoted
    assert (out / "summary.mp4").stat().st_size > 0 and proc.stderr == ""
    no_leftovers(out)


def test_a_leading_dash_after_double_dash(ran, hv):
    proc, t = ran["names-leading-dash"]
    ok(proc)
    out = t / "-out"
    assert segments(out)["video"] == "-x.mp4" and (out / "summary.mp4").is_file()


def test_dataset_build_with_odd_names(ran, hv):
    proc, t = ran["build-names"]
    ok(proc)
    with h5py.File(t / "ds ü 名.h5", "r") as h5:
        names = sorted(h5[k]["video_name"][()].decode() for k in h5)
    assert names == ["-x.mp4", "my clip ü 名.mp4"]
    no_leftovers(t)


NOTE = "skipped 2 files that are not videos (by name): cover.jpg, notes.txt"


def test_a_mixed_folder_summarizes_its_videos_and_names_the_rest(ran, hv):
    proc, t = ran["mixed-summarize"]
    ok(proc)
    assert proc.stderr.strip() == f"acsumgan: note: {hv['mixed']}: {NOTE}"
    for name in ("a", "b", "c"):  # .mp4, .mts (MPEG-TS) and .3gp
        assert (t / "out" / name / "summary.mp4").is_file()
    no_leftovers(t / "out")


def test_a_mixed_folder_builds_a_dataset_of_its_videos(ran, hv):
    proc, t = ran["mixed-build"]
    ok(proc)
    assert proc.stderr.strip() == f"acsumgan: note: {hv['mixed']}: {NOTE}"
    with h5py.File(t / "mixed.h5", "r") as h5:
        assert sorted(h5[k]["video_name"][()].decode() for k in h5) == ["a.mp4", "b.mts", "c.3gp"]


@pytest.mark.parametrize("row", ["mixed-broken-summarize", "mixed-broken-build", "mixed-broken-train-on"])
def test_a_bad_file_in_a_folder_fails_before_any_work(ran, hv, row):
    """d.mp4 (text) is found before a.mp4, b.mts and c.3gp are worked on: one line, exit 7,
    nothing written (no output folder, no dataset, no parts)."""
    proc, t = ran[row]
    assert_one_line_error(proc, 7, hv["mixed_broken"] / "d.mp4", "not a video file")
    assert sorted(os.listdir(t)) == []


def test_a_phone_video_with_rotation_comes_out_upright(ran, hv):
    from PIL import Image

    proc, t = ran["rotated"]
    ok(proc)
    out = t / "out"
    seg = segments(out)
    assert (seg["width"], seg["height"], seg["rotation"]) == (96, 72, 90)
    assert (seg["summary_width"], seg["summary_height"]) == (72, 96) == video_size(out / "summary.mp4")
    for thumb in (out / "thumbs").glob("*.jpg"):
        w, h = Image.open(thumb).size
        assert h > w  # portrait, as the phone showed it


def test_variable_frame_rate_budget_counts_time_and_the_summary_keeps_it(ran, hv):
    proc, t = ran["vfr"]
    ok(proc)
    out = t / "out"
    seg = segments(out)
    assert seg["constant_frame_rate"] is False
    kept = sum(s["duration_seconds"] for s in seg["shots"])
    assert 0 < kept <= 0.4 * seg["duration_seconds"] + 1e-6
    assert seg["summary_seconds"] == pytest.approx(kept, abs=1e-5)
    times = frame_times(out / "summary.mp4")
    assert len(times) == seg["summary_frames"]
    # the summary's frame times are the source's, shot after shot
    src = frame_times(hv["vfr"])
    src = src - src[0]
    want, offset = [], 0.0
    for s in seg["shots"]:
        a, b = s["start_frame"], s["end_frame"]
        want.extend(src[a : b + 1] - src[a] + offset)
        offset += s["duration_seconds"]
    np.testing.assert_allclose(times - times[0], want, atol=2e-3)
    with av.open(str(out / "summary.mp4")) as c:
        a = c.streams.audio[0]
        assert float(a.duration * a.time_base) == pytest.approx(kept, abs=0.05)


@pytest.mark.parametrize("row, fps", [("fps1", 1.0), ("fps120", 120.0)])
def test_one_and_120_frames_per_second_work_with_the_defaults(ran, row, fps):
    proc, t = ran[row]
    ok(proc)
    seg = segments(t / "out")
    assert seg["fps"] == fps and seg["n_selected"] >= 1
    assert seg["summary_seconds"] <= 0.15 * seg["duration_seconds"] + 1e-6
    assert len(frame_times(t / "out" / "summary.mp4")) == seg["summary_frames"]


def test_an_odd_size_is_written_even_and_segments_say_so(ran):
    proc, t = ran["odd-size"]
    ok(proc)
    seg = segments(t / "out")
    assert (seg["width"], seg["height"]) == (97, 73)
    assert (seg["summary_width"], seg["summary_height"]) == (96, 72) == video_size(t / "out" / "summary.mp4")


def test_a_very_tall_video(ran):
    proc, t = ran["tall"]
    ok(proc)
    seg = segments(t / "out")
    assert (seg["summary_width"], seg["summary_height"]) == (90, 1600) == video_size(t / "out" / "summary.mp4")
    assert (t / "out" / "summary.html").is_file()


def test_a_4k_video(ran):
    proc, t = ran["4k"]
    ok(proc)
    seg = segments(t / "out")
    assert (seg["summary_width"], seg["summary_height"]) == (3840, 2160) == video_size(t / "out" / "summary.mp4")
    assert 0 < seg["summary_seconds"] <= 1.0


def test_seconds_longer_than_the_video_keep_all_of_it(ran):
    proc, t = ran["seconds-longer"]
    ok(proc)
    seg = segments(t / "out")
    assert seg["budget"] == 1.0 and seg["summary_frames"] == seg["n_frames"] == 80
    assert len(frame_times(t / "out" / "summary.mp4")) == 80


def test_budget_0_999(ran):
    proc, t = ran["budget-0.999"]
    ok(proc)
    seg = segments(t / "out")
    assert 0 < seg["summary_frames"] <= int(0.999 * seg["n_frames"])


@pytest.mark.parametrize("row", ["home-file-tmpdir-missing", "home-unset"])
def test_home_not_a_folder_or_unset_and_tmpdir_missing(ran, row):
    """The efficientnet weights come with the package; matplotlib gets a private config
    folder instead of warning about ~/.config: the command works, stderr stays empty."""
    proc, t = ran[row]
    ok(proc)
    assert proc.stderr == ""
    assert (t / "out" / "scores.png").stat().st_size > 1000


def test_googlenet_weights_missing_says_where_it_looked(ran, hv):
    proc, t = ran["home-file-googlenet"]
    assert "Traceback" not in proc.stderr and proc.returncode == 11, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("acsumgan: error: the googlenet backbone needs its ImageNet weights")
    assert f"{hv['home_file']}/.cache/torch/hub/checkpoints/googlenet-1378be20.pth" in lines[0]
    assert not (t / "out").exists() or not any((t / "out").glob("*.mp4"))


def test_read_only_home(private_mount, hv, models, tmp_path):
    """HOME on a genuinely read-only file system (a private tmpfs), TMPDIR missing: works."""
    home = tmp_path / "home"
    argv = ["env", "-u", "XDG_CONFIG_HOME", "-u", "MPLCONFIGDIR", f"HOME={home}", f"TMPDIR={tmp_path / 'none'}"]
    proc = private_mount(
        "ro,size=64k", home, [*argv, *PYTHON, *summarize_args(models["m1280"], tmp_path / "out", hv["plain"])]
    )
    ok(proc)
    assert proc.stderr == "" and segments(tmp_path / "out")["n_selected"] >= 1


def test_disk_full_mid_summary_keeps_the_previous_summary_whole(private_mount, hv, models, tmp_path):
    """OUT on a small private tmpfs: a first summary; then the disk is filled but for 24 kB
    and the summary is made again with another budget. It fails with the one disk-full line
    (exit 9) and OUT still holds the first summary, every file as it was, and no staging
    folder or temporary file."""
    mnt = tmp_path / "mnt"
    out = mnt / "out"
    copy = tmp_path / "copy"
    run = " ".join(f"'{a}'" for a in PYTHON)
    model, video = models["m1280"], hv["plain"]
    script = (
        f"{run} summarize --model '{model}' --out '{out}' -- '{video}' >/dev/null || exit 90; "
        f"cp -a '{out}' '{tmp_path}/first'; "
        f"avail=$(df --output=avail -B1 '{mnt}' | tail -1); "
        f"head -c $((avail - 24576)) /dev/zero > '{mnt}/filler' 2>/dev/null; "
        f"{run} summarize --model '{model}' --out '{out}' --budget 0.5 -- '{video}' >/dev/null; rc=$?; "
        f"rm -f '{mnt}/filler'; exit $rc"
    )
    proc = private_mount("size=4m", mnt, ["sh", "-c", script], copy_to=copy)
    assert proc.returncode != 90, proc.stderr
    failed = proc.stderr.strip().removeprefix("acsumgan: error: ").split(": ")[0]  # the file that did not fit
    assert Path(failed).parent in (out, out / "thumbs"), failed  # named in OUT, not in a staging folder
    assert_one_line_error(proc, 9, failed, "disk full")
    first = tmp_path / "first"
    after = copy / "out"
    for p in first.rglob("*"):
        if p.is_file() and p.name != "summarize.log" and not p.name.startswith("."):
            assert (after / p.relative_to(first)).read_bytes() == p.read_bytes(), p
    assert json.loads((after / "segments.json").read_text())["budget"] == 0.15
    no_leftovers(after)
