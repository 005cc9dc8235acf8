"""The train command: option spellings and config files, a damaged run folder, the
feature size taken from the dataset."""

import subprocess
import sys

import pytest
import yaml

from acsumgan.config import TrainConfig
from acsumgan.train.checkpoint import load_model
from acsumgan.train.trainer import train

pytestmark = pytest.mark.slow  # each test trains (and starts the command)

SMALL = dict(input_size=32, hidden_size=16, n_epochs=2, seed=5, checkpoint_interval_s=0)


def _cfg(**kw):
    return TrainConfig(**{**SMALL, **kw})


def test_cli_accepts_release_and_dashed_spellings_and_yaml(tmp_path, tiny_synth, tiny_splits):
    conf = tmp_path / "c.yaml"
    conf.write_text("hidden-size: 16\nn_epochs: 1\ninput_size: 32\nregularization_factor: 0.3\n")
    out = tmp_path / "cli"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "acsumgan",
            "train",
            "--dataset",
            str(tiny_synth),
            "--splits",
            str(tiny_splits),
            "--out",
            str(out),
            "--config",
            str(conf),
            "--regularization-factor",
            "0.7",
            "--split_index",
            "1",
            "--seed",
            "2",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    resolved = yaml.safe_load((out / "config.yaml").read_text())["resolved"]
    assert resolved["hidden_size"] == 16 and resolved["n_epochs"] == 1
    assert resolved["regularization_factor"] == 0.7  # the flag wins over the file
    assert resolved["split_index"] == 1 and resolved["seed"] == 2
    assert "criterion's epoch" in proc.stdout


def test_damaged_run_folder_is_a_one_line_error(tmp_path, tiny_synth, tiny_splits):
    res = train(_cfg(n_epochs=1), tiny_synth, tiny_splits, tmp_path / "r")
    (res.run_dir / "metrics.csv").write_text("garbage\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "acsumgan",
            "train",
            "--dataset",
            str(tiny_synth),
            "--splits",
            str(tiny_splits),
            "--out",
            str(res.run_dir),
            "--n_epochs",
            "1",
            "--input_size",
            "32",
            "--hidden_size",
            "16",
            "--seed",
            "5",
            "--checkpoint-interval",
            "0",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 11 and "run folder is damaged" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("dim", [1280, 32])
def test_train_takes_the_feature_size_from_the_dataset(tmp_path, dim):
    """Without --input_size the model is built for the dataset's features; config.yaml and
    the checkpoints record the size, and a second run with the size given explicitly is the same run."""
    from acsumgan.synthetic.dataset import write_synth_dataset

    data = write_synth_dataset(tmp_path / f"d{dim}.h5", "summe", seed=2, dim=dim, steps=[70, 64, 90, 61])
    run = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "acsumgan",
            "train",
            "--dataset",
            str(data),
            "--out",
            str(run),
            "--n_epochs",
            "1",
            "--hidden_size",
            "8",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    conf = yaml.safe_load((run / "config.yaml").read_text())
    assert conf["resolved"]["input_size"] == dim and conf["identity"]["config"]["input_size"] == dim
    model, cfg, _ = load_model(run / "checkpoints" / "epoch-000.pt")
    assert cfg.input_size == dim and model.linear_compress.in_features == dim
    # the explicit spelling of the same size resolves to the same run: nothing to redo
    again = train(TrainConfig(input_size=dim, hidden_size=8, n_epochs=1), data, None, run)
    assert [r["epoch"] for r in again.rows] == [-1, 0]
