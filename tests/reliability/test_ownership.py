"""acsumgan replaces or removes only what it wrote (docs/reliability.md, "Output locations").

Each row runs the real ``summarize`` (or ``train`` / ``dataset synth``) in a subprocess on
real videos and checks, besides the exit code and the one line, that every file the user
had is still there byte for byte (sha256 before and after); the last test checks the same
for random layouts of inputs and outputs with hostile names.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acsumgan.synthetic.media import plain_scene_frame, scene_video

from .conftest import PYTHON, TINY, assert_one_line_error, cli

pytestmark = pytest.mark.slow

SMALL = {"size": (96, 72), "painter": plain_scene_frame, "options": {"preset": "ultrafast"}}
#: A model trained by summarize itself, small and fast (--train-config).
TRAIN = ("--epochs", "1")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """8 s, 4 scenes, 96x72: copied wherever a test needs a video."""
    return scene_video(tmp_path_factory.mktemp("clip") / "clip.mp4", [20, 20, 20, 20], fps=10, **SMALL).path


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """4 minutes: its features take a while (the signal test stops the command meanwhile)."""
    return scene_video(tmp_path_factory.mktemp("long") / "long.mp4", [600] * 4, fps=10, **SMALL).path


@pytest.fixture(scope="module")
def small_model_config(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("train_config") / "small.yaml"
    p.write_text("hidden_size: 16\n")
    return p


def snapshot(root: Path) -> dict[str, str]:
    """Every entry below ``root``: a file's sha256, a folder, or where a link points."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = "link -> " + os.readlink(p)
            elif p.is_dir():
                out[rel] = "folder"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def assert_kept(before: dict[str, str], root: Path) -> None:
    """Everything of ``before`` is still below ``root``, unchanged."""
    now = snapshot(root)
    changed = {k: (v, now.get(k)) for k, v in before.items() if now.get(k) != v}
    assert not changed, changed


def summarize(model, out, *videos, extra=(), **kw) -> subprocess.CompletedProcess:
    args = ["summarize", "--out", out, *extra]
    if model is not None:
        args += ["--model", model]
    return cli(*args, "--", *videos, timeout=600, **kw)


def ok(proc) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr


def notes(proc) -> list[str]:
    return [ln for ln in proc.stderr.splitlines() if ln.startswith("acsumgan: note: ")]


def is_summary(folder: Path) -> bool:
    return (folder / "summary.mp4").is_file() and (folder / ".acsumgan-summary.json").is_file()


def test_a_folder_named_as_a_video_that_holds_the_inputs_is_left_alone(clip, models, tmp_path):
    """Issue row 1: `summarize Videos/trip --out Videos` (trip/ holds trip.mp4 and zebra.mp4)."""
    trip = tmp_path / "Videos" / "trip"
    trip.mkdir(parents=True)
    shutil.copy(clip, trip / "trip.mp4")
    shutil.copy(clip, trip / "zebra.mp4")
    before = snapshot(tmp_path)
    for _ in range(2):  # the rerun replaces its own trip-2, never trip/
        proc = summarize(models["m1280"], tmp_path / "Videos", trip)
        ok(proc)
        assert_kept(before, tmp_path)
        assert is_summary(tmp_path / "Videos" / "trip-2") and is_summary(tmp_path / "Videos" / "zebra")
        assert any("trip-2" in n and "holds the video" in n for n in notes(proc)), proc.stderr
    assert sorted(p.name for p in (tmp_path / "Videos").iterdir() if not p.name.startswith(".")) == [
        "index.html",
        "summarize.log",
        "trip",
        "trip-2",
        "zebra",
    ]


def test_a_users_folder_of_a_videos_name_is_left_alone(clip, models, tmp_path):
    """Issue row 2: V/holiday.mp4 beside the user's photo folder V/holiday/, --out V."""
    v = tmp_path / "V"
    (v / "holiday").mkdir(parents=True)
    (v / "holiday" / "photo.jpg").write_bytes(b"\xff\xd8 my photo")
    shutil.copy(clip, v / "holiday.mp4")
    shutil.copy(clip, v / "beach.mp4")
    before = snapshot(tmp_path)
    proc = summarize(models["m1280"], v, v)
    ok(proc)
    assert_kept(before, tmp_path)
    assert is_summary(v / "holiday-2") and is_summary(v / "beach")
    assert any("holiday-2" in n and "was not written by acsumgan" in n for n in notes(proc)), proc.stderr


def test_a_user_file_added_to_a_summary_makes_the_next_summary_take_another_name(clip, models, tmp_path):
    v = tmp_path / "in"
    v.mkdir()
    shutil.copy(clip, v / "a.mp4")
    shutil.copy(clip, v / "b.mp4")
    out = tmp_path / "out"
    ok(summarize(models["m1280"], out, v))
    (out / "a" / "my notes.txt").write_text("keep me\n")
    before = snapshot(tmp_path)
    proc = summarize(models["m1280"], out, v)
    ok(proc)
    assert_kept({k: v for k, v in before.items() if k.startswith(("in", "out/a"))}, tmp_path)  # a/ as it was
    assert is_summary(out / "a-2") and is_summary(out / "b")


@pytest.mark.parametrize("with_model", [True, False], ids=["model", "trained-here"])
def test_stems_dot_and_dot_dot_with_out_the_input_folder(clip, models, small_model_config, tmp_path, with_model):
    """Issue row 3: videos `..mp4` (stem `.`) and `...mp4` (stem `..`), --out the input folder."""
    v = tmp_path / "V"
    v.mkdir()
    for name in ("..mp4", "...mp4", "a.mp4"):
        shutil.copy(clip, v / name)
    before = snapshot(tmp_path)
    extra = () if with_model else (*TRAIN, "--train-config", small_model_config)
    ok(summarize(models["m1280"] if with_model else None, v, v, extra=extra))
    assert_kept(before, tmp_path)
    assert is_summary(v / "video") and is_summary(v / "video-2") and is_summary(v / "a")
    if not with_model:
        assert (v / "features.h5").is_file() and (v / "model" / "COMPLETE").is_file()


@pytest.mark.parametrize("member", ["thumbs", "original.mp4", "segments.json", "scores.png", "summary.html"])
def test_one_video_refuses_a_users_file_of_an_outputs_name(clip, models, tmp_path, member):
    """Issue row 4: the user's own thumbs/, original.mp4, segments.json ... in --out."""
    out = tmp_path / "out"
    out.mkdir()
    if member == "thumbs":
        (out / "thumbs").mkdir()
        (out / "thumbs" / "shot0001.jpg").write_bytes(b"my thumbnail")
    else:
        (out / member).write_bytes(b"mine")
    before = snapshot(tmp_path)
    proc = summarize(models["m1280"], out, clip)
    assert_one_line_error(proc, 8, out / member, "exists and was not written by acsumgan; move it or use another --out")
    assert snapshot(tmp_path) == before  # nothing written at all, the lock included


@pytest.mark.parametrize("name", ["summary.mp4", "original.mp4"])
def test_a_video_in_the_place_of_its_own_summary_is_refused(clip, models, tmp_path, name):
    """Issue row 4: a video given as OUT/summary.mp4 would be overwritten by its own summary."""
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(clip, out / name)
    before = snapshot(tmp_path)
    proc = summarize(models["m1280"], out, out / name)
    assert_one_line_error(proc, 8, out / name, f"is the video {out / name}, an input; use another --out")
    assert snapshot(tmp_path) == before


def test_a_users_features_h5_needs_force_and_train_on_it_is_refused(clip, small_model_config, tmp_path):
    """Issue row 5: OUT/features.h5 of the user's own; --train-on OUT/features.h5."""
    out = tmp_path / "out"
    out.mkdir()
    assert (
        cli(
            "dataset", "synth", "--profile", "summe", "--videos", "3", "--dim", "1280", "--out", out / "features.h5"
        ).returncode
        == 0
    )
    before = snapshot(tmp_path)
    proc = summarize(None, out, clip, extra=TRAIN)
    assert_one_line_error(proc, 8, out / "features.h5", "not written by acsumgan; pass --force to replace it")
    assert snapshot(tmp_path) == before
    proc = summarize(None, out, clip, extra=(*TRAIN, "--train-on", out / "features.h5", "--force"))
    assert_one_line_error(proc, 8, out / "features.h5", f"is --train-on {out / 'features.h5'}, an input")
    assert snapshot(tmp_path) == before
    # with --force the user asks for it: the file becomes summarize's cache of the one video
    ok(summarize(None, out, clip, extra=(*TRAIN, "--train-config", small_model_config, "--force")))
    with h5py.File(out / "features.h5", "r") as h5:
        assert list(h5) == ["video_1"] and h5.attrs["cache_version"] == 1


def test_an_output_folder_inside_an_input_is_refused(clip, models, tmp_path):
    v = tmp_path / "V"
    v.mkdir()
    shutil.copy(clip, v / "a.mp4")
    before = snapshot(tmp_path)
    for out, what in ((v, f"is --train-on {v}"), (v / "out", f"lies inside --train-on {v}")):
        proc = summarize(None, out, clip, extra=(*TRAIN, "--train-on", v))
        assert_one_line_error(proc, 8, out, what, "an input; use another --out")
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(models["m1280"], run / "model.pt")
    before = snapshot(tmp_path)
    proc = summarize(run, run / "summaries", clip)
    assert_one_line_error(proc, 8, run / "summaries", f"lies inside --model {run}")
    assert snapshot(tmp_path) == before


def test_a_users_lock_file_is_not_touched(clip, models, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".lock").write_text("my own lock notes\n")
    before = snapshot(tmp_path)
    proc = summarize(models["m1280"], out, clip)
    assert_one_line_error(proc, 8, out / ".lock", "exists and was not written by acsumgan")
    assert snapshot(tmp_path) == before


def test_names_of_the_outputs_and_names_too_long_get_folders_of_their_own(clip, models, tmp_path):
    v = tmp_path / "V"
    v.mkdir()
    long = "x" * 245  # + ".mp4": the longest name the file system takes
    names = ["index.html.mp4", "model.mp4", "features.h5.mp4", "summarize.log.mp4", ".hidden.mp4", long + ".mp4"]
    for name in names:
        shutil.copy(clip, v / name)
    before = snapshot(tmp_path)
    out = tmp_path / "out"
    ok(summarize(models["m1280"], out, v))
    assert_kept(before, tmp_path)
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert [f for f in folders if not f.startswith("x")] == [
        "_.hidden",
        "features.h5-2",
        "index.html-2",
        "model-2",
        "summarize.log-2",
    ]
    (cut,) = [f for f in folders if f.startswith("x")]
    assert len(cut.encode()) <= 200 and cut.startswith("x" * 150) and is_summary(out / cut)
    assert (out / "index.html").read_text().count("summary.html") >= len(names)


HOLDER = """
import sys, time
from acsumgan.locks import hold_lock
with hold_lock(sys.argv[1], tree=True):
    print("holding", flush=True)
    time.sleep(120)
"""


def _holder(target) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(target)], stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )
    assert proc.stdout.readline().strip() == "holding"
    return proc


@pytest.mark.parametrize("held", ["NX", "NX/a"])
def test_one_writer_for_nested_folders(clip, models, tiny_synth, tmp_path, held):
    """Issue row 6: `summarize --out NX` and `summarize --out NX/a` at once (and train, dataset synth)."""
    nx = tmp_path / "NX"
    holder = _holder(tmp_path / held)
    try:
        before = snapshot(tmp_path)
        if held == "NX":
            where = f"the folder that contains it ({nx}) is being written by process {holder.pid}"
            for out, proc in (
                (nx / "a", summarize(models["m1280"], nx / "a", clip)),
                (
                    nx / "a" / "r",
                    cli("train", "--dataset", tiny_synth, "--out", nx / "a" / "r", "--n_epochs", "1", *TINY),
                ),
                (nx / "s.h5", cli("dataset", "synth", "--profile", "summe", "--videos", "2", "--out", nx / "s.h5")),
            ):
                assert_one_line_error(proc, 14, out, where)
        else:
            where = f"a folder inside it ({nx / 'a'}) is being written by process {holder.pid}"
            assert_one_line_error(summarize(models["m1280"], nx, clip), 14, nx, where)
        assert snapshot(tmp_path) == before
    finally:
        holder.kill()
        holder.wait()
    ok(summarize(models["m1280"], nx / "a", clip))  # once the holder is gone


def test_one_writer_for_nested_folders_two_real_commands(clip, long_clip, models, tmp_path):
    nx = tmp_path / "NX"
    first = subprocess.Popen(
        [*PYTHON, "summarize", "--model", models["m1280"], "--out", nx, "--", long_clip, clip],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not (nx / ".lock").is_file() and time.monotonic() < deadline:
            time.sleep(0.05)
        proc = summarize(models["m1280"], nx / "long", clip)
        assert first.poll() is None, "the first command ended before the second started"
        assert_one_line_error(proc, 14, nx / "long", f"the folder that contains it ({nx}) is being written by process")
    finally:
        first.wait(timeout=600)
    assert first.returncode == 0, first.stderr
    assert is_summary(nx / "long") and is_summary(nx / "clip")


def test_sigterm_in_the_feature_stage_keeps_the_finished_videos(clip, long_clip, small_model_config, tmp_path):
    """Issue row 10: each finished video's features are kept as it finishes, so the rerun reuses them."""
    out = tmp_path / "out"
    videos = [tmp_path / "a.mp4", tmp_path / "long.mp4", tmp_path / "c.mp4"]
    shutil.copy(clip, videos[0])
    shutil.copy(long_clip, videos[1])
    shutil.copy(clip, videos[2])
    argv = [*PYTHON, "summarize", "--out", out, *TRAIN, "--train-config", small_model_config, "--", *videos]
    proc = subprocess.Popen(
        [str(a) for a in argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )
    log = out / "summarize.log"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (out / "features.h5").is_file():  # a.mp4's, kept at once
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 143, err
    assert "finished features" in err and "long.mp4 computed" not in log.read_text()
    with h5py.File(out / "features.h5", "r") as h5:
        kept = [h5[k]["source_path"][()].decode() for k in h5]
    assert kept == [str(videos[0].resolve())]
    rerun = cli(*argv[len(PYTHON) :], timeout=600)
    ok(rerun)
    text = log.read_text()
    assert "features: a.mp4 reused" in text and "features: long.mp4 computed" in text
    assert text.count("features: a.mp4 computed") == 1


# --- the property: random layouts, hostile names ------------------------------------------------

#: Characters of names a user may have (no control characters: their printing is another test's).
HOSTILE = st.sampled_from(list("ab.- _[]/é名") + ["[/]", "..", ".", "model", "index.html", "thumbs", "summary"])


@st.composite
def layouts(draw):
    """Videos (names, in an input folder and a sub-folder), what is already where the
    outputs go (the user's files, folders and links), and where --out points."""

    def name():
        return "".join(draw(st.lists(HOSTILE, min_size=1, max_size=4))).replace("/", "_")

    stems = draw(st.lists(st.builds(name), min_size=1, max_size=3))
    where = draw(st.lists(st.sampled_from(["in", "in/sub"]), min_size=len(stems), max_size=len(stems)))
    out = draw(st.sampled_from(["out", "in", ".", "in/sub", "in/" + stems[0], "in/sub/deep"]))
    clutter = draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    [
                        *stems,
                        "summary.mp4",
                        "segments.json",
                        "thumbs",
                        "index.html",
                        "features.h5",
                        "model",
                        "model.json",
                    ]
                ),
                st.sampled_from(["file", "folder", "link to in", "link to a video"]),
            ),
            max_size=3,
        )
    )
    as_folder = draw(st.booleans())
    trained_here = draw(st.integers(0, 4)) == 0
    return stems, where, out, clutter, as_folder, trained_here


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(layout=layouts())
def test_property_summarize_refuses_or_succeeds_and_keeps_every_users_file(
    layout, clip, models, small_model_config, tmp_path_factory
):
    stems, where, out_rel, clutter, as_folder, trained_here = layout
    root = tmp_path_factory.mktemp("layout")
    videos = []
    for stem, folder in zip(stems, where):
        (root / folder).mkdir(parents=True, exist_ok=True)
        p = root / folder / f"{stem}.mp4"
        if not p.exists():
            shutil.copy(clip, p)
            videos.append(p)
    out = root / out_rel
    for name, kind in clutter:
        p = out / name
        if os.path.lexists(p) or (out.exists() and not out.is_dir()):
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        if kind == "file":
            p.write_bytes(b"the user's own " + name.encode())
        elif kind == "folder":
            p.mkdir()
            (p / "mine.txt").write_text("the user's own\n")
        elif kind == "link to in":
            p.symlink_to(root / "in", target_is_directory=True)
        else:
            p.symlink_to(videos[0])
    before = snapshot(root)
    inputs = [root / where[0]] if as_folder else videos
    extra = (*TRAIN, "--train-config", small_model_config) if trained_here else ()
    for _ in range(2):  # and again: the rerun replaces only its own outputs
        proc = summarize(None if trained_here else models["m1280"], out, *inputs, extra=extra)
        assert "Traceback" not in proc.stderr, proc.stderr
        if proc.returncode != 0:
            errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("acsumgan: error: ")]
            assert len(errors) == 1 and proc.returncode in (7, 8), proc.stderr
        assert_kept(before, root)
        if proc.returncode != 0:
            break
        assert list(out.rglob(".acsumgan-summary.json")) or (out / "summary.mp4").is_file(), proc.stderr
