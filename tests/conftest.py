"""Fixtures shared by several test folders: small synthetic dataset files, a tiny
experiment, the real SumMe / TVSum ground truth (files in tests/fixtures), videos of
one's own with a run trained on them, and bad videos. Fixtures that one folder alone
uses live in that folder's conftest.py."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# The suite's models are tiny: one thread each avoids OpenMP start-up and
# oversubscription costs (also in the CLI subprocesses the tests start).
os.environ.setdefault("OMP_NUM_THREADS", "1")

TESTS = Path(__file__).resolve().parent
#: Fixture files: small copies of real data (provenance in tests/fixtures/PROVENANCE.md).
FIXTURES = TESTS / "fixtures"
SUMME = FIXTURES / "summe"
TVSUM = FIXTURES / "tvsum"
SPLITS = FIXTURES / "splits"
SUMME_GT = SUMME / "GT"
SUMME_CP = SUMME / "summe_change_points.json"
SUMME_MAP = SUMME / "mapped_video_names.json"
TVSUM_TSV = TVSUM / "ydata-tvsum50-anno.tsv.gz"
TVSUM_MAT_GZ = TVSUM / "ydata-tvsum50.mat.gz"
TVSUM_MAP = TVSUM / "mapped_video_names.json"


@pytest.fixture(scope="session")
def summe_synth(tmp_path_factory) -> Path:
    """The full synthetic SumMe-profile dataset (25 videos, 1024-d)."""
    from acsumgan.synthetic.dataset import write_synth_dataset

    return write_synth_dataset(tmp_path_factory.mktemp("synth") / "summe_synth.h5", "summe", seed=0)


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory) -> Path:
    """8 short SumMe-style videos with 32-d features (quirk range, T < 60, long): fast to train on."""
    from acsumgan.synthetic.dataset import write_synth_dataset

    return write_synth_dataset(
        tmp_path_factory.mktemp("tiny") / "tiny_summe.h5",
        "summe",
        seed=1,
        dim=32,
        steps=[130, 61, 75, 45, 90, 64, 100, 70],
    )


@pytest.fixture(scope="session")
def tiny_splits(tmp_path_factory, tiny_synth) -> Path:
    from acsumgan.data.dataset import load_dataset
    from acsumgan.data.splits import make_random_splits, write_splits

    keys = list(load_dataset(tiny_synth))
    return write_splits(
        tmp_path_factory.mktemp("tiny_splits") / "splits.json", make_random_splits(keys, 2, 0.25, seed=0)
    )


EXPERIMENT_EPOCHS = 3


def experiment_cmd(dataset, splits, out, *extra):
    """The tiny experiment of the experiment and Ray tests: 2 sigmas x 2 splits x 3 epochs."""
    return [
        sys.executable,
        "-m",
        "acsumgan",
        "experiment",
        "--dataset",
        str(dataset),
        "--splits",
        str(splits),
        "--out",
        str(out),
        "--sigmas",
        "0.3,0.7",
        "--n_epochs",
        str(EXPERIMENT_EPOCHS),
        "--hidden-size",
        "16",
        "--input_size",
        "32",
        "--workers",
        "2",
        "--threads",
        "1",
        "--checkpoint-interval",
        "0",
        "--baseline-draws",
        "5",
        "--no-progress",
        "--seed",
        "4",
        *extra,
    ]


@pytest.fixture(scope="session")
def tiny_experiment(tmp_path_factory, tiny_synth, tiny_splits) -> Path:
    """A finished tiny experiment run by the local executor."""
    out = tmp_path_factory.mktemp("exp") / "full"
    proc = subprocess.run(experiment_cmd(tiny_synth, tiny_splits, out), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def assert_same_experiment(a: Path, b: Path) -> None:
    """Two experiment folders hold the same results: runs, selection and every score."""
    from acsumgan.evaluation.scores import read_scores

    ra = json.loads((a / "results.json").read_text())
    rb = json.loads((b / "results.json").read_text())
    assert ra["runs"] == rb["runs"]
    assert ra["selection"]["final"] == rb["selection"]["final"]
    for run in a.glob("sigma*/split*"):
        s1 = read_scores(run / "scores.h5")
        s2 = read_scores(b / run.relative_to(a) / "scores.h5")
        assert sorted(s1) == sorted(s2)
        for e in s1:
            for k in s1[e]:
                np.testing.assert_array_equal(s1[e][k], s2[e][k])


# --- the real ground truth (tests/fixtures) ---------------------------------------------


def load_json_gz(path: Path):
    with gzip.open(path, "rt") as f:
        return json.load(f)


def h5_user_summary(path: Path) -> np.ndarray:
    return np.asarray(load_json_gz(path)["user_summary"])


@pytest.fixture(scope="session")
def summe_videos():
    from acsumgan.data.groundtruth import import_summe

    return import_summe(SUMME_GT, SUMME_CP, SUMME_MAP)


@pytest.fixture(scope="session")
def tvsum_mat(tmp_path_factory) -> Path:
    """The official ydata-tvsum50.mat, decompressed from its gzip copy."""
    out = tmp_path_factory.mktemp("tvsum") / "ydata-tvsum50.mat"
    with gzip.open(TVSUM_MAT_GZ, "rb") as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return out


@pytest.fixture(scope="session")
def tvsum_videos(tvsum_mat):
    from acsumgan.data.groundtruth import import_tvsum

    return import_tvsum(tvsum_mat)


@pytest.fixture(scope="session")
def tvsum_videos_tsv():
    from acsumgan.data.groundtruth import import_tvsum

    return import_tvsum(TVSUM_TSV)


# --- videos of one's own and a run trained on them (command-line and inference tests) -----


def acsumgan(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "acsumgan", *map(str, args)], capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="session")
def own_videos(tmp_path_factory):
    from acsumgan.synthetic.media import make_scene_video

    d = tmp_path_factory.mktemp("own")
    make_scene_video(d / "a.mp4", [60, 150, 40, 110], size=(96, 64))
    make_scene_video(d / "b.mp4", [80, 50, 120], size=(96, 64), audio=False)
    return d


@pytest.fixture(scope="session")
def own_run(tmp_path_factory, own_videos):
    d = tmp_path_factory.mktemp("own_run")
    acsumgan("dataset", "build", own_videos, "--out", d / "own.h5")
    acsumgan(
        "train",
        "--dataset",
        d / "own.h5",
        "--out",
        d / "run",
        "--n_epochs",
        "2",
        "--input_size",
        "1280",
        "--hidden_size",
        "16",
        "--no-progress",
    )
    return d


# --- videos shared by the video and the reliability tests --------------------------------


@pytest.fixture(scope="session")
def one_frame(tmp_path_factory):
    """A video of one frame (counter frame 0; MP4, H.264, 25 fps, 64x48)."""
    from acsumgan.synthetic.media import counter_video

    return counter_video(tmp_path_factory.mktemp("one_frame") / "one.mp4", 1, fps=25)


def _first_half(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


@pytest.fixture(scope="session")
def bad_videos(tmp_path_factory, one_frame) -> dict[str, Path]:
    """Video files that are not usable, or only in part, by name of the problem (made once
    for the video and the reliability tests):

    - ``missing``, ``empty`` (0 bytes), ``text`` (text named .mp4), ``folder`` (a folder
      named .mp4), ``audio_only`` (AAC in MP4, .m4a);
    - ``truncated_mp4``: the first half of an MP4 of 60 noise frames (64x48, 30 fps) with
      its index at the end, so none is left; ``corrupt_mp4``: that MP4 whole, with
      garbage over 2000 bytes in the middle;
    - ``truncated_mkv`` and ``truncated_faststart``: the first half of a Matroska file and
      of a "fast start" MP4 (index first) of 100 scene frames (four scenes of 25, 96x64,
      10 fps): their first frames still decode;
    - ``truncated_counter_mkv``: the first half of a Matroska file of 60 counter frames
      (64x48, 30 fps; a frame's grey level tells its index);
    - ``one_frame``: the ``one_frame`` video.
    """
    import numpy as np

    from acsumgan.synthetic.media import counter_video, scene_video, write_tone, write_video

    d = tmp_path_factory.mktemp("bad_videos")
    whole = d / "whole"
    whole.mkdir()
    f = {"missing": d / "does_not_exist.mp4"}
    f["empty"] = d / "empty.mp4"
    f["empty"].write_bytes(b"")
    f["text"] = d / "text.mp4"
    f["text"].write_text("this is not a video, just some text\n" * 20)
    f["folder"] = d / "folder.mp4"
    f["folder"].mkdir()
    f["audio_only"] = write_tone(d / "audio_only.m4a", 440.0)

    rng = np.random.default_rng(0)
    noise = write_video(
        whole / "noise.mp4",
        (rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(60)),
        fps=30,
        size=(64, 48),
    )
    f["truncated_mp4"] = _first_half(noise, d / "truncated.mp4")
    data = bytearray(noise.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 2000] = bytes((b * 7 + 13) % 256 for b in data[mid : mid + 2000])
    f["corrupt_mp4"] = d / "corrupt.mp4"
    f["corrupt_mp4"].write_bytes(bytes(data))

    scenes = {"fps": 10, "size": (96, 64), "options": {"preset": "ultrafast"}}
    mkv = scene_video(whole / "scenes.mkv", [25] * 4, fmt="matroska", **scenes).path
    f["truncated_mkv"] = _first_half(mkv, d / "truncated.mkv")
    fast = scene_video(whole / "faststart.mp4", [25] * 4, container_options={"movflags": "+faststart"}, **scenes).path
    f["truncated_faststart"] = _first_half(fast, d / "truncated_faststart.mp4")
    counter = counter_video(whole / "counter.mkv", 60, fps=30, fmt="matroska").path
    f["truncated_counter_mkv"] = _first_half(counter, d / "truncated_counter.mkv")
    f["one_frame"] = one_frame.path
    return f
