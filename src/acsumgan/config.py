"""Training configuration: the release's options under their own names, plus ours.

Plain values with overrides from a YAML file (``--config``) and then the command line.
Every run writes its resolved config, seed and library versions next to its results.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import sys
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import ConfigError
from .fileio import check_input_file


@dataclass
class TrainConfig:
    """Options of one training run. Release defaults unless noted (method.md section 6)."""

    # --- the release's options ---
    video_type: str | None = None  # release: names output folders; here it also picks the metric (SumMe/TVSum)
    input_size: int | None = None  # D; None: the dataset's feature size (the resolved value is recorded)
    hidden_size: int = 512
    num_layers: int = 2
    regularization_factor: float = 0.5  # sigma
    entropy_coef: float = 0.1
    n_epochs: int = 100
    batch_size: int | None = None  # videos per update; None = all training videos (what the release uses)
    clip: float = 5.0
    lr: float = 1e-4
    discriminator_lr: float = 1e-5
    split_index: int = 0
    action_state_size: int = 60  # M
    # --- ours ---
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    eval_policy: str = "sample"  # sample (faithful, seeded) | greedy (deterministic, no repeats)
    eval_samples: int = 1  # K seeded draws of the sampled policy per evaluation (1: the release's one draw)
    eval_metric: str | None = None  # max | avg; None = from the dataset file
    budget: float = 0.15  # summary length for evaluation, fraction of the video
    discount: float = 0.99  # gamma of the returns (fixed in the release)
    reward_chunk_steps: int = 1 << 16  # phase-4 rewards: padded steps per VAE call (memory bound)
    checkpoint_interval_s: float = 60.0  # how often the resumable state is saved (0 = every epoch)
    threads: int | None = None  # torch CPU threads; None = torch's default

    def validate(self, source: str | None = None) -> "TrainConfig":
        def bad(msg: str) -> ConfigError:
            return ConfigError(source, msg)

        for name in ("input_size", "hidden_size", "num_layers", "n_epochs", "action_state_size"):
            if name == "input_size" and self.input_size is None:
                continue  # taken from the dataset
            if int(getattr(self, name)) < (0 if name == "n_epochs" else 1):
                raise bad(f"{name} must be positive, got {getattr(self, name)}")
        if self.batch_size is not None and self.batch_size < 1:
            raise bad(f"batch_size must be >= 1, got {self.batch_size}")
        if not 0 < self.budget < 1:
            raise bad(f"budget must be between 0 and 1 (exclusive), got {self.budget}")
        for name in ("lr", "discriminator_lr", "clip"):
            if not getattr(self, name) > 0:
                raise bad(f"{name} must be > 0, got {getattr(self, name)}")
        if self.eval_policy not in ("sample", "greedy"):
            raise bad(f"eval_policy must be sample or greedy, got {self.eval_policy!r}")
        if int(self.eval_samples) < 1:
            raise bad(f"eval_samples must be >= 1, got {self.eval_samples}")
        if int(self.eval_samples) > 1 and self.eval_policy != "sample":
            raise bad("eval_samples > 1 draws the sampled policy several times; the greedy policy has one answer")
        if self.eval_metric not in (None, "max", "avg"):
            raise bad(f"eval_metric must be max or avg, got {self.eval_metric!r}")
        if self.device not in ("auto", "cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise bad(f"device must be auto, cpu or cuda, got {self.device!r}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str | None = None) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(source, f"unknown option {unknown[0]!r}")
        return cls(**d)

    def model_kwargs(self) -> dict[str, int]:
        if self.input_size is None:
            raise ValueError("input_size is not resolved yet (it is taken from the dataset's features)")
        return {
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "action_state_size": self.action_state_size,
        }


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML (or JSON) config file of TrainConfig options; keys may use dashes."""
    p = check_input_file(path, ConfigError, "a YAML config file", allow_empty=True, not_found="config file not found")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(p, f"not valid YAML ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(p, "must be a mapping of option: value")
    out = {str(k).replace("-", "_"): v for k, v in data.items()}
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(out) - names - {"dataset", "splits", "out"})
    if unknown:
        raise ConfigError(p, f"unknown option {unknown[0]!r}")
    return out


def resolve_device(device) -> str:
    """The device name to compute on: ``auto`` -> ``cuda`` when a GPU is visible, else
    ``cpu``; any other name or ``torch.device`` (``cpu``, ``cuda``, ``cuda:N``, ``mps``)
    is checked and returned as a name. ConfigError when it is unknown or unavailable
    (e.g. ``cuda`` without a GPU). Callers that need a ``torch.device`` wrap the result."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ConfigError(None, f"unknown device {device!r} (use cpu, cuda or cuda:N)") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                None, f"--device {dev} was asked for but CUDA is not available (no CUDA GPU is visible to PyTorch)"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(None, f"device {device!r} does not exist ({torch.cuda.device_count()} CUDA devices)")
    elif dev.type == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ConfigError(None, f"device {device!r} requested but MPS is not available")
    elif dev.type != "cpu":
        raise ConfigError(None, f"unsupported device {device!r} (use cpu, cuda or cuda:N)")
    return str(dev)


def versions() -> dict[str, str]:
    """Library versions recorded next to every result."""
    import h5py
    import numpy
    import torch

    from . import __version__

    out = {
        "acsumgan": __version__,
        "python": sys.version.split()[0],
        "torch": str(torch.__version__),
        "numpy": numpy.__version__,
        "h5py": h5py.__version__,
        "platform": platform.platform(),
        "cpu_threads": str(torch.get_num_threads()),
    }
    if torch.cuda.is_available():
        out["cuda"] = str(torch.version.cuda)
        out["gpu"] = torch.cuda.get_device_name(0)
    return out


def dump_yaml(obj: Any) -> str:
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=None)
