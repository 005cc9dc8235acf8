"""Bad inputs of every kind, made once per session, and how to run the real command on them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

ERROR_PREFIX = "acsumgan: error: "
#: Small and fast model options for every training run of this suite.
TINY = ("--input_size", "32", "--hidden-size", "16", "--no-progress", "--threads", "1")
PYTHON = (sys.executable, "-m", "acsumgan")


def cli(*args, timeout: float = 180, **kw) -> subprocess.CompletedProcess:
    """Run ``python -m acsumgan ARGS`` in a subprocess (the real command line)."""
    return subprocess.run(
        [sys.executable, "-m", "acsumgan", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        **kw,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int, path, *phrases: str) -> str:
    """The command failed with ``code`` and ONE line on stderr naming ``path`` and the problem."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == code, f"exit {proc.returncode} (wanted {code}): {proc.stderr}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith(f"{ERROR_PREFIX}{path}: "), line
    for phrase in phrases:
        assert phrase in line, (phrase, line)
    return line


def assert_usage_error(proc: subprocess.CompletedProcess, option: str, *phrases: str) -> str:
    """A click usage error: exit 2, `Usage` and `Try --help` lines, then ONE `Error:` line."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("Usage: acsumgan") and lines[-1].startswith(f"Error: Invalid value for '{option}'")
    for phrase in phrases:
        assert phrase in lines[-1], (phrase, lines[-1])
    return lines[-1]


def tmp_files(folder: Path) -> list[Path]:
    """Temporary files left by an atomic write (``.NAME.XXXX.tmp``)."""
    return [p for p in Path(folder).rglob("*.tmp")]


# --- dataset files ----------------------------------------------------------------------


def _copy_with(src: Path, dst: Path, edit) -> Path:
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as h5:
        edit(h5)
    return dst


def _replace(h5, name, value):
    del h5[name]
    h5[name] = value


@pytest.fixture(scope="session")
def bad(tmp_path_factory, tiny_synth, tiny_splits) -> dict[str, Path]:
    """Bad dataset, splits and config files, by name of the problem."""
    d = tmp_path_factory.mktemp("bad")
    f: dict[str, Path] = {"good": tiny_synth, "splits": tiny_splits, "missing": d / "no_such_file.h5"}
    data = tiny_synth.read_bytes()
    (d / "text.h5").write_text("video_1,0.5,0.7\n" * 50)
    f["not_hdf5"] = d / "text.h5"
    (d / "truncated.h5").write_bytes(data[: len(data) // 2])
    f["truncated"] = d / "truncated.h5"
    f["no_features"] = _copy_with(tiny_synth, d / "no_features.h5", lambda h: h["video_3"].__delitem__("features"))

    def put(step_value):
        def edit(h5):
            feats = h5["video_2/features"][()]
            feats[7, 5] = step_value
            _replace(h5, "video_2/features", feats)

        return edit

    f["nan"] = _copy_with(tiny_synth, d / "nan.h5", put(np.nan))
    f["inf"] = _copy_with(tiny_synth, d / "inf.h5", put(np.inf))

    def zero_steps(h5):
        g = h5["video_4"]
        for name in ("features", "picks", "n_steps", "gtscore", "gtsummary"):
            del g[name]
        g["features"] = np.zeros((0, 32), np.float32)

    f["t0"] = _copy_with(tiny_synth, d / "t0.h5", zero_steps)

    def gap(h5):
        cp = h5["video_5/change_points"][()]
        cp[-1, 1] -= 10  # the last 10 frames belong to no shot
        _replace(h5, "video_5/change_points", cp)

    f["cp_gap"] = _copy_with(tiny_synth, d / "cp_gap.h5", gap)
    keys = [f"video_{i}" for i in range(1, 9)]
    for name, split in {
        "splits_unknown": {"train_keys": keys[:5] + ["video_42"], "test_keys": keys[6:]},
        "splits_empty_train": {"train_keys": [], "test_keys": keys[6:]},
        "splits_empty_test": {"train_keys": keys[:3], "test_keys": []},
    }.items():
        (d / f"{name}.json").write_text(json.dumps([split]))
        f[name] = d / f"{name}.json"
    (d / "budget.yaml").write_text("budget: 1.5\n")
    f["config_budget"] = d / "budget.yaml"
    (d / "a_file").write_text("a regular file, not a folder\n")
    f["a_file"] = d / "a_file"
    return f


# --- checkpoints -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    """Checkpoints: good ones of two feature sizes and broken ones."""
    import torch

    from acsumgan.config import TrainConfig
    from acsumgan.model.networks import ACSumGAN
    from acsumgan.train.checkpoint import save_checkpoint

    d = tmp_path_factory.mktemp("models")
    out = {}
    torch.manual_seed(0)
    for dim in (1280, 32):
        cfg = TrainConfig(input_size=dim, hidden_size=16)
        out[f"m{dim}"] = save_checkpoint(d / f"model{dim}.pt", ACSumGAN(**cfg.model_kwargs()), cfg, 0)
    data = out["m1280"].read_bytes()
    (d / "truncated.pt").write_bytes(data[: len(data) // 2])
    out["truncated"] = d / "truncated.pt"
    obj = torch.load(out["m1280"], weights_only=True)
    obj["version"] = 99
    torch.save(obj, d / "version99.pt")
    out["version99"] = d / "version99.pt"
    torch.save({"weights": torch.randn(4, 4), "epoch": 3}, d / "random_dict.pt")
    out["random_dict"] = d / "random_dict.pt"
    torch.save(torch.nn.Linear(4, 2), d / "pickled_module.pt")
    out["pickled_module"] = d / "pickled_module.pt"
    obj = torch.load(out["m32"], weights_only=True)
    obj["config"]["input_size"] = 1280  # the weights say 32
    torch.save(obj, d / "mismatch.pt")
    out["weights_mismatch"] = d / "mismatch.pt"
    out["missing"] = d / "no_such_model.pt"
    return out


# --- videos ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def videos(bad_videos) -> dict[str, Path]:
    """Bad, truncated and one-frame videos (tests/conftest.py's ``bad_videos``, shared with the video tests)."""
    return bad_videos


# --- private mounts (root only): a genuinely read-only folder, a genuinely full disk ------------


def _can_mount(tmp: Path) -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "sh", "-c", f"mount -t tmpfs -o ro,size=64k tmpfs '{tmp}'"],
        capture_output=True,
        timeout=30,
    )
    return probe.returncode == 0


@pytest.fixture(scope="session")
def private_mount(tmp_path_factory):
    """``run(mount_options, mountpoint, argv, copy_to=None)``: run ``argv`` in a private mount
    namespace where a fresh tmpfs with ``mount_options`` is mounted at ``mountpoint``
    (vanishes with the process; nothing on the host changes). ``copy_to`` gets a copy of
    what the tmpfs held at the end."""
    probe_dir = tmp_path_factory.mktemp("mount_probe")
    if not _can_mount(probe_dir):
        pytest.skip("needs root and unshare/mount (private tmpfs mounts) on this machine")

    def run(options: str, mountpoint: Path, argv: list[str], copy_to: Path | None = None, timeout: float = 180):
        mountpoint.mkdir(parents=True, exist_ok=True)
        script = 'mount -t tmpfs -o "$1" tmpfs "$2" || exit 99; shift 3; "$@"; rc=$?; '
        if copy_to is not None:
            copy_to.mkdir(parents=True, exist_ok=True)
            script += 'cp -a "$0"/. "$OUT_COPY"/; '
        script += "exit $rc"
        env = dict(os.environ, OUT_COPY=str(copy_to or ""))
        return subprocess.run(
            [
                "unshare",
                "--mount",
                "sh",
                "-c",
                script,
                str(mountpoint),
                options,
                str(mountpoint),
                "--",
                *map(str, argv),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )

    return run
