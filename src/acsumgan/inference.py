"""Score new videos with a trained model: MODEL is a checkpoint, a run or an experiment.

``Scorer.load(MODEL)`` resolves:

* a ``.pt`` checkpoint (``checkpoints/epoch-NNN.pt``, ``best/<rule>/split<k>.pt``);
* a run folder (``acsumgan train --out``): the checkpoint of the epoch the paper's
  criterion chooses (label-free), or the newest one of an unfinished run;
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

from .errors import CheckpointError, FeatureSizeError, TrainingDivergedError
from .model.episode import make_batch, score_videos, test_time_uniforms
from .runs import ExperimentFolder, RunFolder
from .train.checkpoint import load_model


def resolve_model_path(model: str | os.PathLike, rule: str = "label-free", split: int | None = None) -> Path:
    """The checkpoint file a MODEL argument stands for."""
    p = Path(model)
    if not p.exists():
        raise CheckpointError(p, "model not found (a .pt checkpoint, a run folder or an experiment folder)")
    if p.is_file():
        return p
    if ExperimentFolder.holds_experiment(p):
        return ExperimentFolder(p).best_model(rule, split)
    run = RunFolder(p)
    if run.checkpoints.is_dir():
        return run.model_checkpoint()
    raise CheckpointError(p, "is a folder but neither a run nor an experiment folder")


class Scorer:
    """Callable ``features (T, D) -> step scores (T,)`` backed by a trained model."""

    def __init__(
        self, model, cfg, checkpoint: dict, path: Path, policy: str = "sample", seed: int = 0, device: str = "cpu"
    ):
        self.model = model
        self.cfg = cfg
        self.checkpoint = checkpoint
        self.path = path
        self.policy = policy
        self.seed = seed
        self.device = device

    @classmethod
    def load(
        cls,
        model: str | os.PathLike,
        policy: str = "sample",
        seed: int = 0,
        device: str = "cpu",
        rule: str = "label-free",
        split: int | None = None,
    ) -> "Scorer":
        path = resolve_model_path(model, rule, split)
        net, cfg, ck = load_model(path, device)
        return cls(net, cfg, ck, path, policy, seed, device)

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
        """Scores of several videos in one batch (in the given order)."""
        batch = make_batch(features, [str(i) for i in range(len(features))], self.cfg.action_state_size, self.device)
        u = test_time_uniforms(self.seed, batch, self.device) if self.policy == "sample" else None
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
