"""docs/reliability.md (the rows naming this file): a YAML alias bomb, option values that crashed,
and messages that were wrong or came late. Every test runs the real command
(``python -m acsumgan ...``) in a subprocess: the exit code, the one line naming the file
(or the option) and the problem, no traceback, and nothing written (the user's files
byte for byte as they were)."""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from acsumgan.errors import SHOWN_CHARS
from acsumgan.memory import available_memory
from acsumgan.model.networks import TRAIN_BYTES_PER_PARAMETER, parameter_count
from conftest import SUMME_CP, SUMME_GT, SUMME_MAP

from .conftest import ERROR_PREFIX, TINY, assert_one_line_error, cli

SEED_RULE = "seed must be between 0 and 2**63 - 1, got"


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _train(dataset, out, *extra, splits=None):
    return ["train", "--dataset", dataset, "--out", out, *TINY, *(("--splits", splits) if splits else ()), *extra]


def _option_error(proc: subprocess.CompletedProcess, code: int, *phrases: str) -> str:
    """An option's one line (no file to name): ``acsumgan: error: <problem>``."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == code, f"exit {proc.returncode} (wanted {code}): {proc.stderr}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX), proc.stderr
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])
    return lines[0]


def _nothing_in(folder: Path) -> bool:
    """``folder`` was not made, or holds no file (a summary's lock leaves the empty folder)."""
    return not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


# --- 7. a YAML alias bomb --------------------------------------------------------------------


def _alias_bomb(path: Path) -> Path:
    """A billion laughs: nine anchored lists of nine aliases of the one before, as the value of
    a real option (its check used to repr all 9^9 elements: 34 s, 3 GB, then a MemoryError)."""
    lines = ["hidden_size:", "  - &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"  - &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path, tiny_synth):
    bomb = _alias_bomb(tmp_path / "bomb.yaml")
    assert bomb.stat().st_size < 450
    before = _sha(bomb)
    out = tmp_path / "run"
    proc = cli(*_train(tiny_synth, out, "--config", bomb), timeout=60)
    assert_one_line_error(proc, 11, bomb, "line 3: uses the YAML alias *a", "aliases are not allowed")
    assert not out.exists() and _sha(bomb) == before


def test_a_yaml_alias_bomb_as_summarize_train_config(tmp_path, videos):
    bomb = _alias_bomb(tmp_path / "bomb.yaml")
    out = tmp_path / "summary"
    proc = cli("summarize", videos["one_frame"], "--out", out, "--train-config", bomb, timeout=60)
    assert_one_line_error(proc, 11, bomb, "uses the YAML alias *a")
    assert not out.exists()


def test_a_long_value_is_shown_short(tmp_path, tiny_synth):
    conf = tmp_path / "long.yaml"
    conf.write_text("hidden_size: [" + ", ".join(["'" + "y" * 1000 + "'"] * 1000) + "]\n")  # 1 MB
    proc = cli(*_train(tiny_synth, tmp_path / "run", "--config", conf), timeout=60)
    line = assert_one_line_error(proc, 11, conf, "hidden_size must be an integer, got ['yyy")
    shown = line.split("must be an integer, got ", 1)[1]
    assert len(shown) <= SHOWN_CHARS and shown.endswith("...")


@pytest.mark.parametrize(
    "text, phrase",
    [
        ("lr: 0.1\nhidden_size: 16\nlr: 0.2\n", "line 3: the key 'lr' is given twice (first on line 1)"),
        ("hidden-size: 16\nhidden_size: 32\n", "gives hidden_size twice (hidden-size and hidden_size)"),
    ],
    ids=["same-key", "dash-and-underscore"],
)
def test_a_key_twice_in_a_yaml_config_is_refused(tmp_path, tiny_synth, text, phrase):
    conf = tmp_path / "twice.yaml"
    conf.write_text(text)
    out = tmp_path / "run"
    proc = cli(*_train(tiny_synth, out, "--config", conf))
    assert_one_line_error(proc, 11, conf, phrase)
    assert not out.exists()


# --- 13. option values that crashed -----------------------------------------------------------


SEED_COMMANDS = {
    "summarize": lambda b, m, v, t: ["summarize", v["one_frame"], "--model", m["m1280"], "--out", t / "out"],
    "dataset-synth": lambda b, m, v, t: ["dataset", "synth", "--out", t / "out", "--videos", "2", "--dim", "8"],
    "splits-make": lambda b, m, v, t: ["splits", "make", "--dataset", b["good"], "--out", t / "out"],
    "baseline": lambda b, m, v, t: ["baseline", "--dataset", b["good"], "--splits", b["splits"]],
    "evaluate": lambda b, m, v, t: ["evaluate", "--dataset", b["good"], "--model", m["m32"], "--splits", b["splits"]],
    "demo": lambda b, m, v, t: ["demo", "--out", t / "out"],
    "train": lambda b, m, v, t: _train(b["good"], t / "out"),
}


@pytest.mark.parametrize("seed", ["-1", "99999999999999999999999", str(2**63)])
@pytest.mark.parametrize("command", list(SEED_COMMANDS))
def test_a_seed_out_of_range_is_one_line_in_every_command(command, seed, bad, models, videos, tmp_path):
    proc = cli(*SEED_COMMANDS[command](bad, models, videos, tmp_path), "--seed", seed)
    _option_error(proc, 11, f"{SEED_RULE} {seed}")
    assert not (tmp_path / "out").exists()


def test_the_largest_seed_works(bad, tmp_path):
    out = tmp_path / "splits.json"
    proc = cli("splits", "make", "--dataset", bad["good"], "--out", out, "--seed", str(2**63 - 1))
    assert proc.returncode == 0 and out.is_file(), proc.stderr


@pytest.mark.parametrize("flag", ["--hidden_size", "--hidden-size"])
def test_a_huge_hidden_size_is_refused_before_anything_is_written(flag, tiny_synth, tmp_path):
    out = tmp_path / "run"
    proc = cli(*_train(tiny_synth, out), flag, "1000000000")
    _option_error(proc, 11, "hidden_size must be between 1 and 65536, got 1000000000")
    assert not out.exists()


def test_a_model_larger_than_memory_is_refused_before_anything_is_written(tiny_synth, tmp_path):
    out = tmp_path / "run"
    proc = cli(*_train(tiny_synth, out), "--hidden_size", "60000")  # 5.2 TB to train
    _option_error(
        proc,
        11,
        "the model (hidden_size 60000, num_layers 2, action_state_size 60) has 327,609,465,055 parameters",
        "training it needs about 5.2 TB of memory, more than the",
        "lower hidden_size or num_layers",
    )
    assert not out.exists()


def test_an_experiment_of_a_model_larger_than_memory_is_refused_before_its_folder(bad, tmp_path):
    out = tmp_path / "exp"
    proc = cli(
        "experiment", "--dataset", bad["good"], "--splits", bad["splits"], "--out", out, "--hidden_size", "60000"
    )
    _option_error(proc, 11, "the model (hidden_size 60000, num_layers 2, action_state_size 60) has ")
    assert not out.exists()


def _peak_virtual_memory(argv) -> int:
    """VmPeak (bytes) of the command ``argv`` in a process of its own (the address space it takes)."""
    probe = (
        "import atexit, runpy, sys\n"
        "def peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmPeak:'):\n"
        "            print('VMPEAK', int(line.split()[1]) * 1024, file=sys.stderr)\n"
        "atexit.register(peak)\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_module('acsumgan', run_name='__main__', alter_sys=True)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, "acsumgan", *map(str, argv)], capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    return int(proc.stderr.split("VMPEAK")[-1].split()[0])


@pytest.mark.slow
def test_a_model_that_fails_to_allocate_is_one_line_and_leaves_no_run_folder(tiny_synth, tmp_path):
    """A real allocation failure: the process may map only 300 MB more than a tiny run takes
    (RLIMIT_AS), and the model's weights alone need 829 MB. Its estimate (3.3 GB to train)
    fits the machine's memory, so it is PyTorch's allocator that fails."""
    hidden = 1500
    need = parameter_count(32, hidden, 2, 60) * TRAIN_BYTES_PER_PARAMETER
    free = available_memory()
    if free is None or free < 2 * need:
        pytest.skip(f"needs {2 * need / 1e9:.1f} GB of free memory for the estimate to pass")
    peak = _peak_virtual_memory([*_train(tiny_synth, tmp_path / "tiny"), "--n_epochs", "0"])
    limit = peak + 300 * 2**20

    def limited():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    out = tmp_path / "run"
    proc = cli(*_train(tiny_synth, out), "--hidden_size", str(hidden), "--n_epochs", "0", preexec_fn=limited)
    _option_error(
        proc,
        11,
        f"cannot allocate the model (hidden_size {hidden}, num_layers 2, action_state_size 60: 207,253,555 "
        "parameters, 829.0 MB): out of memory",
    )
    assert not out.exists()


def test_a_checkpoint_whose_config_is_too_large_for_memory(models, videos, tmp_path):
    obj = torch.load(models["m1280"], weights_only=True)
    obj["config"]["hidden_size"] = 60000
    big = tmp_path / "big.pt"
    torch.save(obj, big)
    out = tmp_path / "summary"
    proc = cli("summarize", videos["one_frame"], "--model", big, "--out", out)
    assert_one_line_error(proc, 6, big, "the model (hidden_size 60000", "it needs about 1.3 TB of memory")
    assert _nothing_in(out)


# --- 14. wrong or late messages ---------------------------------------------------------------


def test_picks_beyond_n_frames_say_so(tiny_synth, tmp_path):
    data = tmp_path / "picks.h5"
    shutil.copy(tiny_synth, data)
    with h5py.File(data, "r+") as h5:
        picks = h5["video_2/picks"][()]
        n_frames = int(h5["video_2/n_frames"][()])
        picks[-1] = 5_000_000_000  # beyond any video: it used to read "must hold integer frame indices"
        del h5["video_2/picks"]
        h5["video_2/picks"] = picks
    before = _sha(data)
    phrase = f"video_2/picks: frame 5000000000 (entry {len(picks) - 1}) is beyond n_frames={n_frames}"
    proc = cli("dataset", "validate", data, "--purpose", "train")
    assert_one_line_error(proc, 3, data, phrase)
    out = tmp_path / "run"
    assert_one_line_error(cli(*_train(data, out)), 3, data, phrase)
    assert not out.exists() and _sha(data) == before


@pytest.mark.parametrize("seconds", ["inf", "nan", "-inf", "0"])
def test_seconds_must_be_a_finite_number(seconds, models, videos, tmp_path):
    out = tmp_path / "summary"
    proc = cli("summarize", videos["one_frame"], "--model", models["m1280"], "--out", out, "--seconds", seconds)
    _option_error(proc, 11, f"--seconds must be a finite number > 0, got {float(seconds)}")
    assert not out.exists()


FIFO_CASES = {
    # name -> (argv, exit code, expected)
    "video": (lambda f, b, m, v, t: ["summarize", f, "--model", m["m1280"], "--out", t / "out"], 7, "a video file"),
    "model": (
        lambda f, b, m, v, t: ["summarize", v["one_frame"], "--model", f, "--out", t / "out"],
        6,
        "a .pt checkpoint, a run folder or an experiment folder",
    ),
    "config": (lambda f, b, m, v, t: _train(b["good"], t / "out", "--config", f), 11, "a YAML config file"),
    "dataset": (lambda f, b, m, v, t: _train(f, t / "out"), 3, "an HDF5 file"),
    "splits": (lambda f, b, m, v, t: _train(b["good"], t / "out", splits=f), 4, "a JSON splits file"),
}


@pytest.mark.parametrize("case", list(FIFO_CASES))
def test_a_named_pipe_is_not_a_regular_file_and_is_never_opened(case, bad, models, videos, tmp_path):
    fifo = tmp_path / f"pipe {case}"
    os.mkfifo(fifo)
    argv, code, expected = FIFO_CASES[case]
    # opening a pipe blocks until a writer comes: the timeout would fail the test
    proc = cli(*argv(fifo, bad, models, videos, tmp_path), timeout=60)
    assert_one_line_error(proc, code, fifo, "is not a regular file (a named pipe)", expected)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and _nothing_in(tmp_path / "out")


def test_a_key_twice_in_a_splits_file_is_refused(tiny_synth, tmp_path):
    splits = tmp_path / "twice.json"
    splits.write_text('[{"train_keys": ["video_1", "video_2"], "test_keys": ["video_3"], "train_keys": ["video_4"]}]')
    before = _sha(splits)
    out = tmp_path / "run"
    proc = cli(*_train(tiny_synth, out, splits=splits))
    assert_one_line_error(proc, 4, splits, "split 0: has the key 'train_keys' twice")
    assert not out.exists() and _sha(splits) == before


def test_merge_counts_videos_not_the_other_members_of_an_input(tiny_synth, tmp_path):
    """A dataset at an input's root (and a metadata group) is kept beside its videos, and not counted."""
    data = tmp_path / "with root dataset.h5"
    shutil.copy(tiny_synth, data)
    with h5py.File(data, "r+") as h5:
        h5["notes"] = np.bytes_(b"free text at the root")
        h5["frame_rates"] = np.arange(8, dtype=np.float64)
        h5.create_group("metadata").attrs["creator"] = "a lab's own tool"
    before = {p: _sha(p) for p in (data, tiny_synth)}
    merged = tmp_path / "merged.h5"
    proc = cli("dataset", "merge", data, tiny_synth, "--names", "own,plain", "--out", merged)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert " ".join(proc.stdout.split()).endswith("16 videos of 2 datasets (own 8, plain 8)"), proc.stdout
    with h5py.File(merged, "r") as h5:
        assert h5["own/notes"][()] == b"free text at the root" and "frame_rates" in h5["own"]
    assert {p: _sha(p) for p in before} == before


def _gt_with_extra(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A copy of the real SumMe GT folder with ``name`` added: a copy of Cooking.mat."""
    gt = tmp_path / "GT"
    shutil.copytree(SUMME_GT, gt)
    shutil.copy(gt / "Cooking.mat", gt / name)
    return gt, gt / name


@pytest.mark.parametrize(
    "extra, options",
    [
        ("Cooking copy.mat", ("--change-points", SUMME_CP)),  # used to blame the change-points file
        ("zz_notes.mat", ("--change-points", SUMME_CP)),
        ("Cooking copy.mat", ("--change-points", SUMME_CP, "--mapping", SUMME_MAP)),  # used to blame the mapping
        ("Aaa.mat", ()),  # used to be imported as video_1, every video after it renumbered
    ],
    ids=["change-points", "change-points-last", "mapping", "alone"],
)
def test_an_extra_mat_file_in_the_summe_gt_folder_is_named(extra, options, tmp_path):
    gt, bad_file = _gt_with_extra(tmp_path, extra)
    before = {p: _sha(p) for p in gt.iterdir()}
    out = tmp_path / "summe.h5"
    proc = cli("dataset", "import-gt", "summe", "--gt-dir", gt, *options, "--out", out)
    assert_one_line_error(
        proc,
        3,
        bad_file,
        "is not one of the 25 SumMe videos: an extra .mat file in the GT folder",
        "move it out of the folder",
    )
    assert not out.exists() and {p: _sha(p) for p in gt.iterdir()} == before
