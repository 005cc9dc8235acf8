"""Checkpoints that load alone: weights plus the config that built them.

Two kinds:

* an *epoch checkpoint* (``checkpoints/epoch-NNN.pt``, ``best/<rule>/split<k>.pt``):
  the weights needed to score videos (linear_compress, sLSTM, actor; about 48 MB with
  the defaults instead of 107 MB), the config, the epoch and its metrics;
* the *resume state* (``resume.pt``): every weight, the five optimizers and the
  random generator, written atomically during training and removed when the run is
  complete.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..config import TrainConfig
from ..errors import CheckpointError, ConfigError
from ..fileio import atomic_path, check_input_file
from ..model.networks import ACSumGAN, build_model

FORMAT = "acsumgan-checkpoint"
VERSION = 1


def save_checkpoint(
    path: str | os.PathLike,
    model: ACSumGAN,
    cfg: TrainConfig,
    epoch: int,
    metrics: dict | None = None,
    full: bool = False,
    extra: dict | None = None,
) -> Path:
    """Write a checkpoint atomically (``full`` keeps every weight, else inference weights)."""
    state = {k: v.detach().cpu() for k, v in (model.state_dict() if full else model.inference_state_dict()).items()}
    obj: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "config": cfg.to_dict(),
        "epoch": int(epoch),
        "metrics": metrics or {},
        "full": full,
        "state_dict": state,
    }
    if extra:
        obj.update(extra)
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load and check a checkpoint file; one-line CheckpointError on any problem."""
    p = check_input_file(path, CheckpointError, "a .pt checkpoint", not_found="checkpoint not found")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, io.UnsupportedOperation) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "zip archive" in msg or "central directory" in msg or isinstance(exc, (EOFError, zipfile.BadZipFile)):
            raise CheckpointError(p, "truncated or corrupt checkpoint (incomplete copy?)") from None
        raise CheckpointError(p, f"not a readable checkpoint ({msg[:120]})") from None
    except Exception as exc:  # torch.load's unpickler raises many types on foreign files
        raise CheckpointError(p, f"not an acsumgan checkpoint ({type(exc).__name__})") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointError(p, "not an acsumgan checkpoint (no format tag)")
    if obj.get("version") != VERSION:
        raise CheckpointError(
            p, f"checkpoint version {obj.get('version')} is not supported by this acsumgan (expects {VERSION})"
        )
    for key in ("config", "state_dict", "epoch"):
        if key not in obj:
            raise CheckpointError(p, f"checkpoint lacks {key!r}")
    return obj


def load_model(path: str | os.PathLike, device: str = "cpu") -> tuple[ACSumGAN, TrainConfig, dict]:
    """Rebuild the model a checkpoint was saved from; returns (model, config, checkpoint)."""
    obj = read_checkpoint(path)
    try:
        cfg = TrainConfig.from_dict(obj["config"], str(path))
    except TypeError as exc:
        raise CheckpointError(path, f"checkpoint config is incompatible ({exc})") from None
    try:
        model = build_model(**cfg.model_kwargs())
    except ConfigError as exc:  # sizes too large for this machine
        raise CheckpointError(path, exc.problem) from None
    state = obj["state_dict"]
    expected = model.state_dict() if obj.get("full") else model.inference_state_dict()
    missing = [k for k in expected if k not in state]
    if missing:
        raise CheckpointError(path, f"checkpoint lacks weights {missing[0]!r}")
    for k, v in state.items():
        if k in expected and tuple(v.shape) != tuple(expected[k].shape):
            raise CheckpointError(
                path, f"weight {k!r} has shape {tuple(v.shape)}, the config implies {tuple(expected[k].shape)}"
            )
    model.load_state_dict(state, strict=bool(obj.get("full")))
    model.to(device).eval()
    return model, cfg, obj
