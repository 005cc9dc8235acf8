"""Hostile data files (docs/reliability.md, "Dataset, splits and ground-truth files"): each a real command.

- unknown groups and attributes in a dataset: ignored by validate, train and evaluate,
  kept by ``dataset merge``;
- splits with a key twice in one list, or a video in both train and test of a split:
  exit 4, one line naming the split and the key;
- an HDF5 file another process holds open for writing: exit 3, one line, nothing written;
- ``summarize --model`` on an unfinished run folder: uses its last kept epoch and says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from .conftest import TINY, assert_one_line_error, cli


def _train(dataset, splits, out, *extra):
    return cli("train", "--dataset", dataset, "--splits", splits, "--out", out, "--n_epochs", "1", *TINY, *extra)


def _with_other_members(src, dst):
    """A copy of ``src`` with a group ``metadata`` that is not a video, a dataset at the root,
    root and video attributes, and a sub-group inside a video."""
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as h5:
        g = h5.create_group("metadata")
        g.attrs["creator"] = "a lab's own tool"
        g["frame_rates"] = np.arange(8, dtype=np.float64)
        g.create_group("nested").attrs["depth"] = 2
        h5["notes"] = np.bytes_(b"free text at the root")
        h5.attrs["site"] = "lab 3"
        h5["video_1"].attrs["camera"] = "phone"
        h5["video_1"].create_group("annotations")["boxes"] = np.ones((4, 4), np.int32)
    return dst


def test_unknown_groups_and_attributes_are_ignored_and_kept_by_merge(tmp_path, tiny_synth, tiny_splits):
    data = _with_other_members(tiny_synth, tmp_path / "with metadata.h5")
    proc = cli("dataset", "validate", data, "--purpose", "train", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "metadata" not in [row["video"] for row in json.loads(proc.stdout)["videos"]]
    run = tmp_path / "run"
    proc = _train(data, tiny_splits, run)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert (run / "COMPLETE").is_file()
    proc = cli("evaluate", "--dataset", data, "--scores", run / "scores.h5", "--epoch", "0")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr

    merged = tmp_path / "merged.h5"
    proc = cli("dataset", "merge", data, tiny_synth, "--names", "own,plain", "--out", merged)
    assert proc.returncode == 0, proc.stderr
    with h5py.File(merged, "r") as out, h5py.File(data, "r") as src:
        assert out["own/metadata"].attrs["creator"] == "a lab's own tool"
        np.testing.assert_array_equal(out["own/metadata/frame_rates"][()], src["metadata/frame_rates"][()])
        assert out["own/metadata/nested"].attrs["depth"] == 2
        assert out["own/notes"][()] == b"free text at the root"
        assert out["own"].attrs["site"] == "lab 3"
        assert out["own/video_1"].attrs["camera"] == "phone"
        np.testing.assert_array_equal(out["own/video_1/annotations/boxes"][()], np.ones((4, 4), np.int32))
        assert "metadata" not in out["plain"]
    proc = cli("dataset", "validate", merged, "--purpose", "train", "--json")
    assert proc.returncode == 0, proc.stderr
    keys = [row["video"] for row in json.loads(proc.stdout)["videos"]]
    assert len(keys) == 16 and not any(k.endswith(("metadata", "notes")) for k in keys)


def _splits(tmp_path, name, splits):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(splits))
    return path


@pytest.mark.parametrize(
    "name,second,phrase",
    [
        (
            "duplicate",
            {"train_keys": ["video_1", "video_2", "video_3", "video_2"], "test_keys": ["video_8"]},
            "split 1: train_keys names 'video_2' twice",
        ),
        (
            "train-and-test",
            {"train_keys": ["video_1", "video_2", "video_3"], "test_keys": ["video_8", "video_3"]},
            "split 1: 'video_3' is in both train_keys and test_keys",
        ),
    ],
)
def test_bad_splits_name_the_split_and_the_key(tmp_path, tiny_synth, name, second, phrase):
    first = {"train_keys": ["video_1", "video_2", "video_3", "video_4"], "test_keys": ["video_7", "video_8"]}
    splits = _splits(tmp_path, name, [first, second])
    proc = _train(tiny_synth, splits, tmp_path / "run")
    assert_one_line_error(proc, 4, splits, phrase)
    assert not (tmp_path / "run" / "COMPLETE").exists()


HOLDER = """
import sys, h5py
f = h5py.File(sys.argv[1], "a")
print("open", flush=True)
sys.stdin.readline()
f.close()
"""


@pytest.mark.skipif(
    os.environ.get("HDF5_USE_FILE_LOCKING", "").upper() == "FALSE", reason="HDF5 file locking is turned off here"
)
def test_a_dataset_open_for_writing_elsewhere_gives_one_line(tmp_path, tiny_synth, tiny_splits):
    data = shutil.copy(tiny_synth, tmp_path / "busy.h5")
    scores = tmp_path / "first"
    assert _train(data, tiny_splits, scores).returncode == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        run = tmp_path / "run"
        proc = _train(data, tiny_splits, run)
        assert_one_line_error(proc, 3, data, "is open for writing by another process")
        assert not (run / "COMPLETE").exists() and not (run / "scores.h5").exists()
        proc = cli("evaluate", "--dataset", data, "--scores", scores / "scores.h5")
        assert_one_line_error(proc, 3, data, "is open for writing by another process")
    finally:
        holder.communicate("\n", timeout=30)
    assert holder.returncode == 0
    assert _train(data, tiny_splits, tmp_path / "after").returncode == 0  # the file is fine once released


def test_summarize_on_an_unfinished_run_says_which_epoch(tmp_path, own_run, own_videos):
    run = tmp_path / "unfinished run"
    shutil.copytree(own_run / "run", run)
    (run / "COMPLETE").unlink()  # as a run still training, or interrupted, leaves it
    last = sorted(p.name for p in (run / "checkpoints").glob("epoch-*.pt"))[-1]
    epoch = int(last[len("epoch-") : -len(".pt")])
    out = tmp_path / "out"
    proc = cli("summarize", own_videos / "a.mp4", "--model", run, "--out", out, "--no-page", "--threads", "1")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "unfinished" in line]
    assert notes == [
        f"acsumgan: note: {run}: run folder is unfinished: using its last kept epoch {epoch} "
        f"(checkpoints/{last}), not the criterion's choice of a finished run"
    ]
    assert (out / "summary.mp4").is_file() and (out / "segments.json").is_file()
    proc = cli("summarize", own_videos / "a.mp4", "--model", own_run / "run", "--out", tmp_path / "o2", "--no-page")
    assert proc.returncode == 0 and "unfinished" not in proc.stderr, proc.stderr
