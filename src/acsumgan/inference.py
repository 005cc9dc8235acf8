"""Score new videos with a trained model: MODEL is a checkpoint, a run or an experiment.

``Scorer.load(MODEL)`` resolves:

* a ``.pt`` checkpoint (``checkpoints/epoch-NNN.pt``, ``best/<rule>/split<k>.pt``);
* a run folder (``acsumgan train --out``): the checkpoint of the epoch the paper's
  criterion chooses (label-free), or the newest one of an unfinished run (which
  :func:`unfinished_run_note` says, and `summarize --model` prints);
* an experiment folder (``acsumgan experiment --out``): ``best/<rule>/split<k>.pt``,
  by default the label-free rule's model of the first split.

Scoring is the method's test-time pass (method.md section 4): sLSTM scores, an actor
episode, weighted scores. ``policy="sample"`` is the release's (seeded here, so the
same video gives the same scores); ``"greedy"`` picks without repeats.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .errors import CheckpointError, ConfigError, FeatureSizeError, TrainingDivergedError
from .fileio import not_regular
from .model.episode import draw_seed, make_batch, score_videos, test_time_uniforms
from .runs import ExperimentFolder, RunFolder
from .train.checkpoint import load_model


def resolve_model_path(model: str | os.PathLike, rule: str = "label-free", split: int | None = None) -> Path:
    """The checkpoint file a MODEL argument stands for."""
    p = Path(model)
    if not p.exists():
        raise CheckpointError(p, "model not found (a .pt checkpoint, a run folder or an experiment folder)")
    if p.is_file():
        return p
    problem = not_regular(p)
    if problem:
        raise CheckpointError(p, f"{problem}; expected a .pt checkpoint, a run folder or an experiment folder")
    if ExperimentFolder.holds_experiment(p):
        return ExperimentFolder(p).best_model(rule, split)
    run = RunFolder(p)
    if run.checkpoints.is_dir():
        return run.model_checkpoint()
    raise CheckpointError(p, "is a folder but neither a run nor an experiment folder")


def unfinished_run_note(model: str | os.PathLike) -> str | None:
    """The line to show when MODEL is a run folder without COMPLETE (a run still training, or
    interrupted): which checkpoint stands for it (the newest kept epoch, not a finished run's
    criterion choice). None for anything else."""
    p = Path(model)
    if not p.is_dir() or ExperimentFolder.holds_experiment(p):
        return None
    run = RunFolder(p)
    epochs = run.checkpoint_epochs()
    if not epochs or run.is_complete():
        return None
    return (
        f"{p}: run folder is unfinished: using its last kept epoch {epochs[-1]} "
        f"(checkpoints/{run.checkpoint(epochs[-1]).name}), not the criterion's choice of a finished run"
    )


class Scorer:
    """Callable ``features (T, D) -> step scores (T,)`` backed by a trained model.

    ``samples`` K > 1 (sampled policy only) gives the mean of the weighted scores of K
    seeded draws, the "expected" scores (a named deviation: the release scores one
    draw), so a summary no longer depends on one draw; K = 1 is the release's single draw.
    """

    def __init__(
        self,
        model,
        cfg,
        checkpoint: dict,
        path: Path,
        policy: str = "sample",
        seed: int = 0,
        device: str = "cpu",
        samples: int = 1,
    ):
        if int(samples) < 1 or (int(samples) > 1 and policy != "sample"):
            raise ConfigError(
                None, f"--eval-samples must be 1, or > 1 with the sampled policy (got {samples}, {policy})"
            )
        self.model = model
        self.cfg = cfg
        self.checkpoint = checkpoint
        self.path = path
        self.policy = policy
        self.seed = seed
        self.device = device
        self.samples = int(samples)

    @classmethod
    def load(
        cls,
        model: str | os.PathLike,
        policy: str = "sample",
        seed: int = 0,
        device: str = "cpu",
        rule: str = "label-free",
        split: int | None = None,
        samples: int = 1,
    ) -> "Scorer":
        path = resolve_model_path(model, rule, split)
        net, cfg, ck = load_model(path, device)
        return cls(net, cfg, ck, path, policy, seed, device, samples)

    @property
    def input_size(self) -> int:
        return int(self.cfg.input_size)

    @property
    def backbone(self) -> str | None:
        """The backbone of the features the model was trained on, when recorded."""
        return self.checkpoint.get("feature_backbone")

    def check_features(self, dim: int, source: str | os.PathLike | None = None) -> None:
        if dim != self.input_size:
            hint = f" (trained on {self.backbone} features)" if self.backbone else ""
            raise FeatureSizeError(
                source or self.path,
                f"features have {dim} dimensions but the model {self.path.name} expects {self.input_size}{hint}",
            )

    def __call__(self, features: np.ndarray) -> np.ndarray:
        features = np.asarray(features, dtype=np.float32)
        self.check_features(features.shape[1])
        return self.score_many([features])[0]

    def score_many(self, features: list[np.ndarray]) -> list[np.ndarray]:
        """Scores of several videos in one batch (in the given order); with K samples the
        mean over the K draws."""
        draws = self.score_draws(features)
        if len(draws) == 1:
            return draws[0]
        return [
            np.mean([d[i] for d in draws], axis=0, dtype=np.float64).astype(np.float32) for i in range(len(features))
        ]

    def score_draws(self, features: list[np.ndarray]) -> list[list[np.ndarray]]:
        """Every draw's scores: ``[draw][video]``, K draws (one with the greedy policy);
        draw j uses the generator seed ``draw_seed(seed, j)`` (draw 0: ``seed``)."""
        return [self._score_once(features, draw_seed(self.seed, j)) for j in range(self.samples)]

    def _score_once(self, features: list[np.ndarray], seed: int) -> list[np.ndarray]:
        batch = make_batch(features, [str(i) for i in range(len(features))], self.cfg.action_state_size, self.device)
        u = test_time_uniforms(seed, batch, self.device) if self.policy == "sample" else None
        try:
            ws = score_videos(self.model, batch, self.policy, u)
        except TrainingDivergedError:
            ws = None
        if ws is None or not all(bool(torch.isfinite(w).all()) for w in ws):
            raise CheckpointError(
                self.path,
                "the model gives NaN or infinite scores (its weights are not finite, "
                "or the features are far larger than those it was trained on)",
            )
        out: list[np.ndarray] = [None] * len(features)  # type: ignore[list-item]
        for j, i in enumerate(batch.order):
            out[i] = ws[j].float().cpu().numpy()
        return out


def score_dataset(scorer: Scorer, videos, keys) -> dict[int, dict[str, np.ndarray]]:
    """Every policy sample of ``scorer`` on the dataset videos ``keys``: ``{draw: {key: scores}}``."""
    keys = list(keys)
    feats = [np.asarray(videos[k].features, dtype=np.float32) for k in keys]
    if feats:
        scorer.check_features(feats[0].shape[1])
    return {j: dict(zip(keys, draw)) for j, draw in enumerate(scorer.score_draws(feats))}
