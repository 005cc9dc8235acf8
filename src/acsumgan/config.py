"""Training configuration: the release's options under their own names, plus ours.

Plain values with overrides from a YAML file (``--config``) and then the command line.
Every run writes its resolved config, seed and library versions next to its results.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import platform
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from .errors import ConfigError, shown
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
    threads: int | None = None  # torch CPU threads; None = default_threads() (recorded resolved)

    def validate(self, source: str | os.PathLike | None = None) -> "TrainConfig":
        """Check every option (its type and range: :func:`check_option`) and how they go
        together; ConfigError naming ``source`` otherwise. The one validation of both
        ``--config`` files and command-line flags."""
        for f in dataclasses.fields(self):
            try:
                setattr(self, f.name, check_option(f.name, getattr(self, f.name)))
            except ConfigError as exc:
                raise ConfigError(source, exc.problem) from None
        if self.eval_samples > 1 and self.eval_policy != "sample":
            raise ConfigError(
                source, "eval_samples > 1 draws the sampled policy several times; the greedy policy has one answer"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str | None = None) -> "TrainConfig":
        unknown = sorted(set(d) - set(OPTION_RULES))
        if unknown:
            raise ConfigError(source, unknown_option(unknown[0]))
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


class YamlRefused(yaml.YAMLError):
    """A YAML document :func:`read_yaml` refuses (an alias, a key given twice); ``problem`` says which."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases and without repeated keys.

    An alias (``*a``) repeats what its anchor holds: nine levels of nine aliases in a
    few hundred bytes stand for 9^9 values (the "billion laughs"), which any later
    look at the value (a check, a message) expands. A key given twice is kept once by
    YAML, silently. Both are refused as the parser meets them, before anything is built."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise YamlRefused(
                f"line {event.start_mark.line + 1}: uses the YAML alias *{event.anchor[:40]}; "
                "aliases are not allowed in a config file (write the value out)"
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        first_line: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = first_line.get(key)
            except TypeError:  # an unhashable key: the constructor's own error
                continue
            if first is not None:
                raise YamlRefused(f"line {line}: the key {shown(key)} is given twice (first on line {first})")
            first_line[key] = line
        return super().construct_mapping(node, deep)


def read_yaml(text: str) -> Any:
    """A YAML document's value, read safely (:class:`_StrictLoader`): no Python objects, no
    aliases, no key twice. yaml.YAMLError (:class:`YamlRefused` with its ``problem``) otherwise."""
    return yaml.load(text, Loader=_StrictLoader)


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML (or JSON) config file of TrainConfig options; keys may use dashes.

    Every value is checked and converted as a command-line flag is (``lr: 1e-4``, which
    YAML reads as a string, is the number 0.0001); an unknown key, a key given twice
    (also as ``hidden-size`` and ``hidden_size``), an alias (:func:`read_yaml`), a value
    of the wrong type or out of range is a ConfigError naming the file and the key."""
    p = check_input_file(path, ConfigError, "a YAML config file", allow_empty=True, not_found="config file not found")
    try:
        data = read_yaml(p.read_text()) or {}
    except YamlRefused as exc:
        raise ConfigError(p, exc.problem) from None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError, ValueError) as exc:  # ValueError: an int of 5000 digits
        raise ConfigError(p, f"not valid YAML ({type(exc).__name__})") from None
    except OSError as exc:
        raise ConfigError(p, f"cannot read ({exc.strerror or exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(p, "must be a mapping of option: value")
    out = {}
    given: dict[str, str] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in OPTION_RULES:
            raise ConfigError(p, unknown_option(str(key)))
        if name in given:
            raise ConfigError(p, f"gives {name} twice ({given[name]} and {key})")
        given[name] = str(key)
        try:
            out[name] = check_option(name, value)
        except ConfigError as exc:
            raise ConfigError(p, exc.problem) from None
    return out


#: Keys that belong on the command line, not in a config file.
COMMAND_LINE_ONLY = {"dataset": "--dataset", "splits": "--splits", "out": "--out", "config": "--config"}


def unknown_option(key: str) -> str:
    """The problem of a key that is no TrainConfig option, with the closest valid name."""
    name = key.replace("-", "_")
    if name in COMMAND_LINE_ONLY:
        return f"{shown(key)} is not a config option (give {COMMAND_LINE_ONLY[name]} on the command line)"
    close = difflib.get_close_matches(name, list(OPTION_RULES), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f" (options: {', '.join(OPTION_RULES)})"
    return f"unknown option {shown(key)}{hint}"


# --- the rules of every option (one validation for config files and flags) ----------------


@dataclass(frozen=True)
class OptionRule:
    """What one TrainConfig option accepts: its kind (int, float, choice, device), the
    range of a number (``ok``, described by ``expected``), the choices of a name, and
    whether ``None`` (the default's "decide for me") is allowed."""

    kind: str
    ok: Callable[[Any], bool] | None = None
    expected: str = ""
    choices: tuple[str, ...] = ()
    optional: bool = False


def _at_least(n):
    return OptionRule("int", lambda v: v >= n, f">= {n}")


#: The largest hidden size H accepted (a model of H = 65536 already needs terabytes; what
#: fits this machine is checked when the model is built: ``model.networks.build_model``).
MAX_HIDDEN_SIZE = 65536
#: Seeds: what every generator used here takes (torch's up to 2**64 - 1, NumPy's any
#: integer >= 0); one bound for every command.
MAX_SEED = 2**63 - 1


OPTION_RULES: dict[str, OptionRule] = {
    "video_type": OptionRule("choice", choices=("SumMe", "TVSum"), optional=True),
    "input_size": OptionRule("int", lambda v: v >= 1, ">= 1", optional=True),
    "hidden_size": OptionRule("int", lambda v: 1 <= v <= MAX_HIDDEN_SIZE, f"between 1 and {MAX_HIDDEN_SIZE}"),
    "num_layers": _at_least(1),
    "regularization_factor": OptionRule("float", lambda v: 0 <= v <= 1, "between 0 and 1 (the target mean score)"),
    "entropy_coef": OptionRule("float", lambda v: v >= 0, ">= 0"),
    "n_epochs": _at_least(0),
    "batch_size": OptionRule("int", lambda v: v >= 1, ">= 1", optional=True),
    "clip": OptionRule("float", lambda v: v > 0, "> 0"),
    "lr": OptionRule("float", lambda v: v > 0, "> 0"),
    "discriminator_lr": OptionRule("float", lambda v: v > 0, "> 0"),
    "split_index": _at_least(0),
    "action_state_size": _at_least(1),
    "seed": OptionRule("int", lambda v: 0 <= v <= MAX_SEED, "between 0 and 2**63 - 1"),
    "device": OptionRule("device"),
    "eval_policy": OptionRule("choice", choices=("sample", "greedy")),
    "eval_samples": _at_least(1),
    "eval_metric": OptionRule("choice", choices=("max", "avg"), optional=True),
    "budget": OptionRule("float", lambda v: 0 < v < 1, "between 0 and 1 (exclusive)"),
    "discount": OptionRule("float", lambda v: 0 <= v <= 1, "between 0 and 1"),
    "reward_chunk_steps": _at_least(1),
    "checkpoint_interval_s": OptionRule("float", lambda v: v >= 0, ">= 0 seconds"),
    "threads": OptionRule("threads", optional=True),
}


def check_option(name: str, value: Any) -> Any:
    """``value`` of option ``name`` checked and converted as a command-line flag would be:
    integers from ints or integer strings, numbers from ints, floats or numeric strings
    (``"1e-4"``), finite and in range; names from their choices. ConfigError (no path)
    saying what is wrong, e.g. ``n_epochs must be an integer, got 1.7``."""
    rule = OPTION_RULES[name]
    if value is None:
        if rule.optional:
            return None
        raise ConfigError(None, f"{name} must be set (it has no automatic value)")
    if rule.kind in ("int", "threads"):
        v = _as_int(value)
        if v is None:
            raise ConfigError(None, f"{name} must be an integer, got {shown(value)}")
        if rule.kind == "threads":
            return check_threads(v, name)
    elif rule.kind == "float":
        v = _as_float(value)
        if v is None:
            raise ConfigError(None, f"{name} must be a number, got {shown(value)}")
        if not math.isfinite(v):
            raise ConfigError(None, f"{name} must be a finite number, got {shown(value)}")
    elif rule.kind == "choice":
        if not isinstance(value, str) or value not in rule.choices:
            close = difflib.get_close_matches(str(value), rule.choices, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(None, f"{name} must be {' or '.join(rule.choices)}, got {shown(value)}{hint}")
        return value
    else:  # device
        if not isinstance(value, str) or not (value in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:\d+", value)):
            raise ConfigError(None, f"device must be auto, cpu, cuda or cuda:N, got {shown(value)}")
        return value
    if rule.ok is not None and not rule.ok(v):
        raise ConfigError(None, f"{name} must be {rule.expected}, got {shown(value)}")
    return v


def _as_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        try:
            return int(value)
        except ValueError:  # more digits than Python converts
            return None
    return None


def _as_float(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:  # beyond float range: not a finite number
            return math.inf if value > 0 else -math.inf
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


# --- CPU threads ----------------------------------------------------------------------

#: Threads of each run of an experiment unless --threads says otherwise (whatever the
#: executor and the number of workers, so that both executors give the same numbers).
RUN_THREADS = 2


def available_cores() -> int:
    """CPU cores this process may run on: its affinity mask (``os.sched_getaffinity``,
    what taskset, cgroups cpusets, Slurm and containers set), capped by a cgroup CPU
    quota (``cpu.max``) when there is one."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        n = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    return max(1, min(n, quota) if quota else n)


def _cgroup_cpu_quota() -> int | None:
    """Whole CPUs of this process's cgroup quota (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``), None without one."""
    root = Path("/sys/fs/cgroup")
    try:
        fields = (root / "cpu.max").read_text().split()
        if len(fields) == 2 and fields[0] != "max":
            return max(1, math.ceil(int(fields[0]) / int(fields[1])))
        return None
    except (OSError, ValueError, ZeroDivisionError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return max(1, math.ceil(quota / period)) if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def default_threads(cap: int | None = None) -> int:
    """Threads when none are asked for: ``OMP_NUM_THREADS`` when it is set to a positive
    integer, else every available core (:func:`available_cores`); never more than those
    cores, nor than ``cap``."""
    cores = available_cores()
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    n = int(env) if env.isdigit() and int(env) > 0 else cores
    n = min(n, cores)
    return max(1, min(n, cap) if cap else n)


def check_threads(value, name: str = "threads") -> int:
    """A thread count between 1 and the available cores, else ConfigError (no path)."""
    cores = available_cores()
    v = _as_int(value)
    if v is None:
        raise ConfigError(None, f"{name} must be an integer, got {shown(value)}")
    if not 1 <= v <= cores:
        raise ConfigError(
            None, f"{name} must be between 1 and {cores} (the CPU cores available to this process), got {shown(value)}"
        )
    return v


def set_threads(threads: int | None) -> int:
    """Set PyTorch's CPU threads: ``threads``, else :func:`default_threads`; returns the count."""
    import torch  # torch takes a second to import: only where it is used, not for `acsumgan --help`

    n = check_threads(threads) if threads is not None else default_threads()
    torch.set_num_threads(n)
    return n


def resolve_device(device) -> str:
    """The device name to compute on: ``auto`` -> ``cuda`` when a GPU is visible, else
    ``cpu``; any other name or ``torch.device`` (``cpu``, ``cuda``, ``cuda:N``, ``mps``)
    is checked and returned as a name. ConfigError when it is unknown or unavailable
    (e.g. ``cuda`` without a GPU). Callers that need a ``torch.device`` wrap the result."""
    import torch  # as in set_threads

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
    # the libraries themselves, only when versions are recorded (torch's import is slow)
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
