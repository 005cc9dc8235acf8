"""Training read from the file as it goes (acsumgan.train.feed, acsumgan.data.stream).

Known answer: a streamed run writes the files of a run whose videos were all read into
memory first (``stream=False``: load_dataset, the trainer's reader before streaming),
byte for byte. The memory check refuses a batch that cannot fit with a recommended
batch size (a limit set through ACSUMGAN_TRAIN_MEMORY, the documented way to set it)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time

import h5py
import numpy as np
import pytest
import torch

from acsumgan.config import TrainConfig
from acsumgan.data.dataset import load_dataset
from acsumgan.data.stream import REOPEN_EVERY, VideoReader
from acsumgan.errors import DatasetError
from acsumgan.runs import read_metrics
from acsumgan.train.feed import MEMORY_ENV, parse_bytes, prefetched, update_bytes
from acsumgan.train.trainer import train

SMALL = dict(input_size=32, hidden_size=16, n_epochs=2, seed=5, checkpoint_interval_s=0, threads=1)


def _digests(run) -> dict[str, str]:
    """What a run wrote: metrics.csv's values (timings aside), scores.h5's bytes and each
    checkpoint's weights."""
    out = {"metrics": repr([{k: v for k, v in r.items() if k != "seconds"} for r in read_metrics(run)])}
    out["scores.h5"] = hashlib.sha256((run / "scores.h5").read_bytes()).hexdigest()
    for p in sorted((run / "checkpoints").glob("*.pt")):
        sd = torch.load(p, weights_only=True)["state_dict"]
        out[p.name] = hashlib.sha256(b"".join(k.encode() + v.numpy().tobytes() for k, v in sd.items())).hexdigest()
    return out


@pytest.mark.parametrize(
    "options",
    [
        {},  # the default: all training videos in one update
        {"batch_size": 2},  # three updates an epoch, each read while the one before trains
        {"batch_size": 4, "eval_samples": 3},  # K policy samples at test time
    ],
    ids=["one-update", "batch-2", "batch-4-k3"],
)
def test_a_streamed_run_writes_the_files_of_a_run_read_into_memory(tmp_path, tiny_synth, tiny_splits, options):
    cfg = TrainConfig(**SMALL, **options)
    streamed = train(cfg, tiny_synth, tiny_splits, tmp_path / "streamed")
    loaded = train(cfg, tiny_synth, tiny_splits, tmp_path / "loaded", stream=False)
    a, b = _digests(streamed.run_dir), _digests(loaded.run_dir)
    assert "scores.h5" in a and any(k.endswith(".pt") for k in a)
    assert a == b
    assert [r["f_score"] for r in streamed.rows][1:] == [r["f_score"] for r in loaded.rows][1:]
    assert all(r["f_score"] is not None for r in streamed.rows)


def test_the_reader_gives_the_arrays_load_dataset_gives(tiny_synth):
    videos = load_dataset(tiny_synth)
    with VideoReader(tiny_synth) as reader:
        found = reader.check("train")
        assert found.keys == list(videos) and found.dim == 32
        assert found.steps == {k: v.features.shape[0] for k, v in videos.items()}
        for k, v in videos.items():
            assert np.array_equal(reader.features(k), v.features)
            w = reader.video(k)
            assert np.array_equal(w.user_summary, v.user_summary) and np.array_equal(w.picks, v.picks)


def _broken(src, dst, how: str):
    """A copy of ``src`` with one problem."""
    with h5py.File(src, "r") as a, h5py.File(dst, "w") as b:
        for k in a:
            a.copy(a[k], b, k)
        f = b["video_3/features"][()]
        del b["video_3/features"]
        if how == "nan":
            f[4, 2] = np.nan
        elif how == "dims":
            f = f[:, :16]
        elif how == "1-d":
            f = f[:, 0]
        b["video_3/features"] = f
    return dst


@pytest.mark.parametrize("how", ["nan", "dims", "1-d"])
def test_a_bad_video_fails_the_check_with_load_datasets_message(tmp_path, tiny_synth, how):
    bad = _broken(tiny_synth, tmp_path / f"{how}.h5", how)
    with pytest.raises(DatasetError) as expected:
        load_dataset(bad, purpose="train")
    with VideoReader(bad) as reader, pytest.raises(DatasetError) as got:
        reader.check("train")
    assert str(got.value) == str(expected.value)
    named = "different feature sizes [16, 32]" if how == "dims" else "video_3/features"
    assert str(got.value).startswith(f"{bad}: ") and named in str(got.value)


def test_prefetched_loads_in_order_one_ahead():
    loaded, held, most, lock = set(), set(), [0], threading.Lock()

    def load(i):
        with lock:
            loaded.add(i)
            held.add(i)
            most[0] = max(most[0], len(held))
        return i

    out = []
    for i in prefetched(range(6), load):
        out.append(i)
        deadline = time.monotonic() + 10
        while i < 5 and i + 1 not in loaded and time.monotonic() < deadline:
            time.sleep(0.001)  # the next item is read while the caller holds this one
        with lock:
            assert i == 5 or i + 1 in loaded
            assert i + 2 not in loaded  # never two ahead
            held.discard(i)  # the caller is done with item i
    assert out == list(range(6))
    assert most[0] == 2  # the current item and the next one, never more


def test_prefetched_raises_a_load_error_in_its_place():
    def load(i):
        if i == 2:
            raise ValueError("bad item")
        return i

    got = []
    with pytest.raises(ValueError, match="bad item"):
        for i in prefetched(range(5), load):
            got.append(i)
    assert got == [0, 1]


def test_sizes_in_bytes():
    assert parse_bytes("8G") == 8 * 2**30 and parse_bytes("512M") == 512 * 2**20
    assert parse_bytes("1.5GiB") == 3 * 2**29 and parse_bytes("1000") == 1000
    assert parse_bytes("lots") is None and parse_bytes("-1G") is None


def _cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "acsumgan", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_an_update_too_large_for_memory_is_refused_with_a_batch_size_that_fits(tmp_path, tiny_synth):
    """8 videos of up to 130 steps, 32-d, hidden size 16: an update of all of them needs
    about 3.5 MiB; with 2 MiB allowed, 2 videos (about 0.9 MiB, under half of it) fit."""
    per_video = update_bytes(1, 130, 32, 16, 2)
    limit = 2 * 2**20
    fit = (limit // 2) // per_video
    assert fit == 2 and 8 * per_video > limit
    out = tmp_path / "run"
    args = ["train", "--dataset", tiny_synth, "--out", out, "--hidden_size", 16, "--n_epochs", 1]
    proc = _cli(*args, env={MEMORY_ENV: "2M"})
    assert proc.returncode == 11, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "8 videos in one update (the default --batch_size: all training videos) need about 3.4 MiB" in lines[0]
    assert f"more than the 2.0 MiB set by {MEMORY_ENV}; pass --batch_size 2 (about 0.9 MiB)" in lines[0]
    assert not out.exists()
    proc = _cli(*args, "--batch_size", 2, env={MEMORY_ENV: "2M"})
    assert proc.returncode == 0, proc.stderr
    assert len(read_metrics(out)) == 2


def test_an_unreadable_memory_setting_is_one_line(tmp_path, tiny_synth):
    proc = _cli("train", "--dataset", tiny_synth, "--out", tmp_path / "run", env={MEMORY_ENV: "lots"})
    assert proc.returncode == 11
    assert f"{MEMORY_ENV}='lots' is not a size" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_the_reader_reopens_the_file_and_refuses_one_that_changed(tmp_path, tiny_synth):
    """The file is reopened every REOPEN_EVERY videos (HDF5's memory per handle is freed):
    the same arrays after it; a file rewritten meanwhile is refused by name."""
    data = tmp_path / "copy.h5"
    data.write_bytes(tiny_synth.read_bytes())
    expected = load_dataset(data)
    keys = list(expected)
    with VideoReader(data) as reader:
        for i in range(REOPEN_EVERY + 10):
            k = keys[i % len(keys)]
            assert np.array_equal(reader.features(k), expected[k].features)
        other = tmp_path / "other.h5"
        other.write_bytes(data.read_bytes())
        with h5py.File(other, "r+") as h5:
            h5.attrs["touched"] = 1
        os.replace(other, data)  # another writer replaces the file between two reopenings
        with pytest.raises(DatasetError, match="changed on disk while in use"):
            for i in range(REOPEN_EVERY):
                reader.features(keys[i % len(keys)])
