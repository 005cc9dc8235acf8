"""Training numerics: a run that diverges stops with a clear message naming the epoch
(and phase), keeps what the finished epochs wrote, and never writes NaN silently."""

from __future__ import annotations

import re
import shutil

import h5py
import numpy as np
import pytest
import torch

import acsumgan.train.trainer as trainer_module
from acsumgan.cli import main
from acsumgan.config import TrainConfig
from acsumgan.errors import TrainingDivergedError
from acsumgan.evaluation.scores import read_scores
from acsumgan.train.trainer import read_metrics, train

from .conftest import TINY, assert_one_line_error, cli, tmp_files


def _kept_epochs_are_whole(run, last_kept: int) -> None:
    rows = read_metrics(run)
    assert [r["epoch"] for r in rows] == list(range(-1, last_kept + 1))
    for r in rows:
        assert all(v is None or np.isfinite(v) for v in r.values()), r
    scores = read_scores(run / "scores.h5")
    assert sorted(scores) == list(range(-1, last_kept + 1))
    assert all(np.isfinite(s).all() for per in scores.values() for s in per.values())
    assert not (run / "COMPLETE").exists() and not tmp_files(run)


@pytest.mark.slow
def test_learning_rate_so_large_the_loss_becomes_nan(tiny_synth, tiny_splits, tmp_path):
    """lr = 1e4: epoch 0 still ends with finite numbers, a later update makes a loss NaN."""
    run = tmp_path / "run"
    proc = cli(
        "train",
        "--dataset",
        tiny_synth,
        "--splits",
        tiny_splits,
        "--out",
        run,
        "--n_epochs",
        "4",
        "--lr",
        "1e4",
        "--discriminator_lr",
        "1e4",
        "--seed",
        "0",
        *TINY,
    )
    line = assert_one_line_error(proc, 10, run, "training diverged; results up to the previous epoch are kept")
    m = re.search(r": epoch (\d+), phase (encoder|decoder|discriminator|actor_critic): loss became nan", line)
    assert m, line
    epoch = int(m.group(1))
    assert epoch >= 1  # so that finished epochs were kept
    _kept_epochs_are_whole(run, epoch - 1)
    assert "loss became nan" in (run / "train.log").read_text()


SMALL = dict(input_size=32, hidden_size=16, n_epochs=3, seed=2, checkpoint_interval_s=0)


def test_nan_scores_with_finite_losses_stop_the_run(tiny_synth, tiny_splits, tmp_path, monkeypatch, capsys):
    """The model's test scores become NaN while every loss is finite (injected from epoch 1)."""
    real = trainer_module.score_videos
    calls = []

    def nan_from_epoch_1(model, batch, policy, u):
        calls.append(1)
        ws = real(model, batch, policy, u)
        return ws if len(calls) <= 2 else [w * float("nan") for w in ws]  # epochs -1 and 0 are fine

    monkeypatch.setattr(trainer_module, "score_videos", nan_from_epoch_1)
    run = tmp_path / "run"
    with pytest.raises(TrainingDivergedError, match=r"epoch 1: the model's scores of video_\d+ became NaN"):
        train(TrainConfig(**SMALL), tiny_synth, tiny_splits, run)
    _kept_epochs_are_whole(run, 0)
    # the command: exit 10 and one line
    calls.clear()
    run2 = tmp_path / "run2"
    with pytest.raises(SystemExit) as info:
        main(
            [
                "train",
                "--dataset",
                str(tiny_synth),
                "--splits",
                str(tiny_splits),
                "--out",
                str(run2),
                "--n_epochs",
                "3",
                "--seed",
                "2",
                *TINY,
            ]
        )
    err = capsys.readouterr().err.strip()
    assert info.value.code == 10
    assert err.splitlines() == [err] and err.startswith(f"acsumgan: error: {run2}: epoch 1: the model's scores")
    _kept_epochs_are_whole(run2, 0)


def test_features_so_large_float32_overflows(tiny_synth, tmp_path):
    """Features near the float32 maximum (finite, so the file is valid): the first epoch
    overflows; the run stops at epoch 0 instead of writing inf."""
    path = tmp_path / "huge.h5"
    shutil.copy(tiny_synth, path)
    with h5py.File(path, "r+") as h5:
        for key in h5:
            f = h5[key]["features"][()]
            del h5[key]["features"]
            h5[key]["features"] = (f / np.abs(f).max() * 3e38).astype(np.float32)
    run = tmp_path / "run"
    with pytest.raises(TrainingDivergedError, match=r"epoch 0: .* became (nan|inf|-inf)"):
        train(TrainConfig(**SMALL), path, None, run)
    assert [r["epoch"] for r in read_metrics(run)] == [-1]
    assert not (run / "COMPLETE").exists()


@pytest.mark.parametrize("with_test_videos", [False, True])
def test_nan_weights_inside_an_episode_name_the_epoch_and_phase(
    with_test_videos, tiny_synth, tiny_splits, tmp_path, monkeypatch
):
    """The actor's weights become NaN at the end of epoch 0 (injected after its optimizer
    step). Without the check, torch's Categorical raised a ValueError with a tensor dump;
    now it is a one-line divergence naming where it happened."""
    real_step = torch.optim.Adam.step
    steps = []

    def poisoning_step(self, *a, **k):
        out = real_step(self, *a, **k)
        steps.append(1)
        if len(steps) == 4:  # per update: encoder, decoder, discriminator, ACTOR, critic
            for group in self.param_groups:
                for p in group["params"]:
                    p.data.fill_(float("nan"))
        return out

    monkeypatch.setattr(torch.optim.Adam, "step", poisoning_step)
    run = tmp_path / "run"
    with pytest.raises(TrainingDivergedError) as info:
        train(TrainConfig(**SMALL), tiny_synth, tiny_splits if with_test_videos else None, run)
    problem = info.value.problem
    where = "epoch 0, evaluation: " if with_test_videos else "epoch 1, phase encoder: "
    assert problem.startswith(where + "the actor's fragment probabilities became NaN or infinite"), problem
    assert "results up to the previous epoch are kept" in problem and "\n" not in info.value.one_line()
    assert [r["epoch"] for r in read_metrics(run)] == ([-1] if with_test_videos else [-1, 0])


def test_a_model_giving_nan_scores_is_a_checkpoint_error(tmp_path):
    """A checkpoint whose weights are NaN (e.g. saved by another tool from a diverged run)."""
    from acsumgan.errors import CheckpointError
    from acsumgan.inference import Scorer
    from acsumgan.model.networks import ACSumGAN
    from acsumgan.train.checkpoint import save_checkpoint

    cfg = TrainConfig(input_size=8, hidden_size=4)
    model = ACSumGAN(**cfg.model_kwargs())
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float("nan"))
    path = save_checkpoint(tmp_path / "nan.pt", model, cfg, 0)
    features = np.random.default_rng(0).random((70, 8)).astype(np.float32)
    for policy in ("sample", "greedy"):
        with pytest.raises(CheckpointError, match="the model gives NaN or infinite scores") as info:
            Scorer.load(path, policy=policy)(features)
        assert info.value.path == str(path)
