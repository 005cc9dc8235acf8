"""The eccv16 schema (acsumgan.data.dataset): round trips, and one-line validation errors
(through ``acsumgan dataset validate``). The synthetic files: tests/synthetic/test_dataset.py."""

import subprocess
import sys

import h5py
import numpy as np
import pytest

from acsumgan.data.dataset import Video, load_dataset, save_dataset
from acsumgan.synthetic.dataset import synth_dataset


def test_round_trip_keeps_every_field(tmp_path):
    vids = synth_dataset("tvsum", seed=1, videos=2, dim=16)
    path = save_dataset(tmp_path / "x.h5", vids, attrs={"eval_metric": "avg"})
    back = load_dataset(path, purpose="evaluate")
    for v in vids:
        w = back[v.key]
        for name in (
            "features",
            "picks",
            "change_points",
            "n_frame_per_seg",
            "user_summary",
            "user_scores",
            "gtscore",
            "gtsummary",
        ):
            np.testing.assert_array_equal(getattr(v, name), getattr(w, name))
        assert (w.n_frames, w.n_steps) == (v.n_frames, v.n_steps)


# --- validation errors: one line, naming file / video / field, exit code 3 ----------


def _write(path, mutate):
    vids = synth_dataset("summe", seed=0, videos=2, dim=8)
    with h5py.File(path, "w") as h5:
        for v in vids:
            g = h5.create_group(v.key)
            for name in (
                "features",
                "picks",
                "change_points",
                "n_frame_per_seg",
                "user_summary",
                "gtscore",
                "gtsummary",
            ):
                g.create_dataset(name, data=getattr(v, name))
            g.create_dataset("n_frames", data=v.n_frames)
            g.create_dataset("n_steps", data=v.n_steps)
        mutate(h5)
    return path


def _replace(h5, name, data):
    del h5[name]
    h5.create_dataset(name, data=data)


def _nan(h5):
    f = h5["video_2/features"][()]
    f[3, 1] = np.nan
    _replace(h5, "video_2/features", f)


def _picks(h5):
    p = h5["video_1/picks"][()]
    p[5] = p[4]
    _replace(h5, "video_1/picks", p)


def _cp_gap(h5):
    cp = h5["video_1/change_points"][()]
    cp[1, 0] += 3
    _replace(h5, "video_1/change_points", cp)


def _cp_short(h5):
    cp = h5["video_1/change_points"][()]
    cp[-1, 1] -= 10
    _replace(h5, "video_1/change_points", cp)


def _us_len(h5):
    us = h5["video_2/user_summary"][()]
    _replace(h5, "video_2/user_summary", us[:, :-4])


CASES = [
    ("missing features", lambda h5: h5.__delitem__("video_2/features"), "train", "video_2/features: missing"),
    ("features 1-D", lambda h5: _replace(h5, "video_1/features", np.zeros(10)), "any", "must be 2-D"),
    (
        "features int",
        lambda h5: _replace(h5, "video_1/features", h5["video_1/features"][()].astype(int)),
        "any",
        "must be floating point",
    ),
    ("features text", lambda h5: _replace(h5, "video_1/features", np.bytes_(b"abc")), "any", "must be numeric"),
    ("NaN", _nan, "any", "video_2/features: contains NaN or inf (first at step 3)"),
    (
        "inf",
        lambda h5: _replace(h5, "video_1/gtscore", np.full(h5["video_1/gtscore"].shape, np.inf)),
        "any",
        "video_1/gtscore: contains NaN or inf",
    ),
    ("picks", _picks, "any", "video_1/picks: not strictly increasing"),
    ("picks length", lambda h5: _replace(h5, "video_1/picks", h5["video_1/picks"][()][:-1]), "any", "features have"),
    ("cp gap", _cp_gap, "any", "change_points: do not cover the video"),
    ("cp short", _cp_short, "any", "last shot ends at frame"),
    ("user_summary length", _us_len, "any", "video_2/user_summary: has"),
    (
        "user_summary values",
        lambda h5: _replace(h5, "video_1/user_summary", h5["video_1/user_summary"][()] * 2),
        "any",
        "must hold only 0 and 1",
    ),
    ("n_steps", lambda h5: _replace(h5, "video_1/n_steps", 3), "any", "video_1/n_steps: is 3"),
    (
        "missing eval field",
        lambda h5: h5.__delitem__("video_1/change_points"),
        "evaluate",
        "video_1/change_points: missing (needed to evaluate)",
    ),
    ("nested group", lambda h5: h5.create_group("video_1/features_group").create_group("x"), "any", None),
    ("empty file", lambda h5: [h5.__delitem__(k) for k in list(h5)], "any", "contains no videos"),
    ("a dataset at the root is not a video", lambda h5: h5.create_dataset("video_9", data=1), "train", None),
    (
        "a group without video fields is not a video",
        lambda h5: h5.create_group("metadata").attrs.create("x", 1),
        "train",
        None,
    ),
    (
        "only other members",
        lambda h5: [h5.__delitem__(k) for k in list(h5)] + [h5.create_group("metadata")],
        "any",
        "contains no videos",
    ),
]


@pytest.mark.parametrize("name,mutate,purpose,message", CASES, ids=[c[0] for c in CASES])
def test_validation_error_is_one_line_with_exit_code(tmp_path, name, mutate, purpose, message):
    path = _write(tmp_path / "bad.h5", mutate)
    proc = subprocess.run(
        [sys.executable, "-m", "acsumgan", "dataset", "validate", str(path), "--purpose", purpose],
        capture_output=True,
        text=True,
    )
    if message is None:  # unknown extra content is allowed
        assert proc.returncode == 0, proc.stderr
        return
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith(f"acsumgan: error: {path}: ")
    assert message in lines[0]


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "file not found"),
        (b"", "is empty (0 bytes)"),
        (b"this is not hdf5" * 100, "not an HDF5 file"),
    ],
)
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "f.h5"
    if content is not None:
        path.write_bytes(content)
    proc = subprocess.run(
        [sys.executable, "-m", "acsumgan", "dataset", "validate", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 3 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_truncated_file(tmp_path, summe_synth):
    data = summe_synth.read_bytes()
    path = tmp_path / "cut.h5"
    path.write_bytes(data[: len(data) // 2])
    proc = subprocess.run(
        [sys.executable, "-m", "acsumgan", "dataset", "validate", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 3 and "truncated" in proc.stderr, proc.stderr


def test_features_are_optional_for_evaluation(tmp_path):
    vids = synth_dataset("summe", seed=0, videos=2, dim=8)
    for v in vids:
        v.features = None
    path = save_dataset(tmp_path / "labels.h5", vids)
    assert set(load_dataset(path, purpose="evaluate")) == {"video_1", "video_2"}


def test_video_without_labels_is_valid_for_training(tmp_path):
    v = Video(key="video_1", features=np.ones((70, 4), np.float32))
    assert load_dataset(save_dataset(tmp_path / "own.h5", [v]), purpose="train")["video_1"].steps == 70
