"""The run folder and the experiment folder: their layout, and reading them.

Every other module goes through :class:`RunFolder` and :class:`ExperimentFolder` for a
path inside these folders. A run folder (``acsumgan train --out RUN``)::

    config.yaml          resolved options, seed, dataset, split keys, library versions
    metrics.csv          one row per epoch (-1 = before training): F-score, reward and every loss
    scores.h5            test-video scores of every epoch (epoch_-1, epoch_0, ...)
    tensorboard/         the same scalars under the release's names (reward_epoch, ...)
    checkpoints/         epoch-NNN.pt for the last epoch and every epoch the selection
                         criterion could still choose
    train.log            what happened, with timings
    resume.pt            resumable state while the run is unfinished
    COMPLETE             written last: the run finished (readers ignore folders without it)

An experiment folder (``acsumgan experiment --out EXP``)::

    experiment.yaml              the request (dataset, splits, sigmas, split indices, options)
    sigma0.5/split0/             one run folder per (sigma, split), plus run.log
    selection.json               model selection (acsumgan select)
    report.md, results.csv, results.json, plots/   (acsumgan report)
    best/<rule>/split<k>.pt      the selected checkpoints
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import yaml

from .config import read_yaml
from .errors import CheckpointError, ConfigError
from .fileio import is_complete, mark_complete, write_text
from .selection import EXPORTED_RULES, chosen_epoch

#: Per-epoch columns of metrics.csv after ``epoch`` and ``f_score``: the release's
#: TensorBoard names without ``_epoch``, and the reconstruction loss of phase 2 on x.
LOSSES = (
    "reward",
    "actor_loss",
    "critic_loss",
    "recon_loss",
    "prior_loss",
    "g_loss",
    "e_loss",
    "d_loss",
    "c_original_loss",
    "c_summary_loss",
    "sparsity_loss",
    "recon_loss_init",
)
COLUMNS = ("epoch", "f_score") + LOSSES + ("seconds",)
#: With K > 1 policy samples (``--eval-samples``) ``f_score`` is their mean and this
#: column, right after it, their standard deviation; runs with K = 1 do not have it.
STD_COLUMN = "f_score_std"


def columns_of(rows: list[dict]) -> tuple[str, ...]:
    """metrics.csv's columns for these rows: COLUMNS, with f_score_std when a row has one."""
    if any(r.get(STD_COLUMN) is not None for r in rows):
        return COLUMNS[:2] + (STD_COLUMN,) + COLUMNS[2:]
    return COLUMNS


_CHECKPOINT = re.compile(r"^epoch-(-?\d+)\.pt$")
_SIGMA_DIR = re.compile(r"^sigma([0-9.]+)$")


def sigma_name(sigma: float) -> str:
    """Folder name of a sigma: ``sigma0.5`` (as the release's folders)."""
    return f"sigma{float(sigma):g}"


def metrics_csv(rows: list[dict]) -> str:
    """metrics.csv's text for a list of per-epoch rows (missing values empty)."""
    columns = columns_of(rows)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in columns})
    return buf.getvalue()


class RunFolder:
    """One training run's folder (see the module docstring)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # --- paths ---
    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.csv"

    @property
    def scores(self) -> Path:
        return self.path / "scores.h5"

    @property
    def tensorboard(self) -> Path:
        return self.path / "tensorboard"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def resume(self) -> Path:
        return self.path / "resume.pt"

    @property
    def log(self) -> Path:
        return self.path / "train.log"

    @property
    def run_log(self) -> Path:
        """The log of the ``acsumgan train`` processes an experiment started for this run."""
        return self.path / "run.log"

    def checkpoint(self, epoch: int) -> Path:
        return self.checkpoints / f"epoch-{epoch:03d}.pt"

    def checkpoint_epochs(self) -> list[int]:
        """Epochs with a kept checkpoint, in order."""
        if not self.checkpoints.is_dir():
            return []
        found = (_CHECKPOINT.match(p.name) for p in self.checkpoints.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    # --- state ---
    def is_complete(self, epochs: int | None = None) -> bool:
        """The run finished (its COMPLETE marker); with ``epochs``, finished with at least
        that many epochs (a run of fewer is extended by the next train command)."""
        if not is_complete(self.path):
            return False
        if epochs is None:
            return True
        n = self.complete_epochs()
        return n is None or n >= epochs

    def complete_epochs(self) -> int | None:
        """Epochs of a finished run as its COMPLETE marker records them (None when it does not say)."""
        try:
            n = json.loads((self.path / "COMPLETE").read_text()).get("epochs")
        except (OSError, ValueError, AttributeError):
            return None
        return n if isinstance(n, int) else None

    def mark_complete(self, info: dict) -> Path:
        return mark_complete(self.path, info)

    def read_config(self) -> dict:
        """config.yaml as a mapping ({} when missing or unreadable)."""
        try:
            return read_yaml(self.config.read_text()) or {}
        except (OSError, ValueError, RecursionError, yaml.YAMLError):
            return {}

    def read_metrics(self) -> list[dict]:
        """metrics.csv as a list of dicts (numbers as float, epoch as int, empty as None)."""
        path = self.metrics
        rows = []
        try:
            with open(path) as f:
                for r in csv.DictReader(f):
                    rows.append(
                        {k: (int(v) if k == "epoch" else (float(v) if v != "" else None)) for k, v in r.items()}
                    )
        except (OSError, ValueError, TypeError, csv.Error) as exc:
            raise ConfigError(path, f"run folder is damaged: metrics.csv unreadable ({type(exc).__name__})") from None
        if not rows or set(rows[0]) - {STD_COLUMN} != set(COLUMNS):
            raise ConfigError(path, "run folder is damaged: metrics.csv lacks its columns or rows")
        return rows

    def write_metrics(self, rows: list[dict]) -> Path:
        return write_text(self.metrics, metrics_csv(rows))

    def epochs_done(self) -> int:
        """Trained epochs recorded so far (for progress; 0 when unreadable)."""
        try:
            with open(self.metrics) as f:
                return max(0, sum(1 for _ in f) - 2)  # header and epoch -1
        except OSError:
            return 0

    def chosen_epoch(self) -> int | None:
        """The epoch the paper's criterion chooses from metrics.csv."""
        return chosen_epoch(self.read_metrics())

    def model_checkpoint(self) -> Path:
        """The checkpoint that stands for the run: the criterion's epoch of a complete run,
        else the newest kept epoch."""
        chosen = self.chosen_epoch() if self.is_complete() else None
        if chosen is not None and self.checkpoint(chosen).exists():
            return self.checkpoint(chosen)
        epochs = self.checkpoint_epochs()
        if epochs:
            return self.checkpoint(epochs[-1])
        raise CheckpointError(self.path, "run folder has no checkpoints yet")


def read_metrics(run_dir: str | os.PathLike) -> list[dict]:
    """metrics.csv of a run folder (see :meth:`RunFolder.read_metrics`)."""
    return RunFolder(run_dir).read_metrics()


class ExperimentFolder:
    """One experiment's folder (see the module docstring)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @property
    def request_file(self) -> Path:
        return self.path / "experiment.yaml"

    @property
    def selection(self) -> Path:
        return self.path / "selection.json"

    @property
    def report(self) -> Path:
        return self.path / "report.md"

    @property
    def results_csv(self) -> Path:
        return self.path / "results.csv"

    @property
    def results_json(self) -> Path:
        return self.path / "results.json"

    @property
    def plots(self) -> Path:
        return self.path / "plots"

    @property
    def attempts_log(self) -> Path:
        """Ray executor: one line per task attempt."""
        return self.path / "ray_attempts.log"

    @staticmethod
    def holds_experiment(path: str | os.PathLike) -> bool:
        return (Path(path) / "experiment.yaml").exists()

    def run(self, sigma: float, split: int) -> RunFolder:
        return RunFolder(self.path / sigma_name(sigma) / f"split{split}")

    def run_dirs(self) -> list[Path]:
        """Every ``sigma<s>/split<k>`` folder, complete or not."""
        return sorted(self.path.glob("sigma*/split*"))

    def complete_runs(self) -> dict[tuple[float, int], RunFolder]:
        """The complete run folders: ``{(sigma, split): RunFolder}``."""
        runs = {}
        for sdir in sorted(self.path.glob("sigma*")):
            m = _SIGMA_DIR.match(sdir.name)
            if not m or not sdir.is_dir():
                continue
            for kdir in sorted(sdir.glob("split*")):
                if kdir.is_dir() and kdir.name[5:].isdigit() and is_complete(kdir):
                    runs[(float(m.group(1)), int(kdir.name[5:]))] = RunFolder(kdir)
        return runs

    def read_request(self) -> dict:
        """The ``request`` of experiment.yaml ({} when the file has none)."""
        if not self.request_file.exists():
            raise ConfigError(self.path, "is not an experiment folder (no experiment.yaml)")
        try:
            data = read_yaml(self.request_file.read_text()) or {}
        except (OSError, ValueError, RecursionError, yaml.YAMLError) as exc:
            raise ConfigError(self.request_file, f"unreadable ({type(exc).__name__})") from None
        return data.get("request", {}) if isinstance(data, dict) else {}

    def best(self, rule: str, split: int) -> Path:
        """Where the model a rule selected for a split is exported."""
        return self.path / "best" / rule / f"split{split}.pt"

    def best_model(self, rule: str = "label-free", split: int | None = None) -> Path:
        """The exported model of ``rule`` for ``split`` (default: the first split that has one).

        An unknown rule, or a split the experiment does not have, is a ConfigError saying
        so; a rule and split that exist but were not exported yet, a CheckpointError
        saying to run ``acsumgan select``."""
        if rule not in EXPORTED_RULES:
            raise ConfigError(
                None, f"--rule {rule!r} is not a selection rule with a model (use {' or '.join(EXPORTED_RULES)})"
            )
        try:
            known = self.read_request().get("split_indices")
        except ConfigError:
            known = None
        if split is not None and isinstance(known, list) and split not in known:
            have = ", ".join(str(k) for k in known) or "none"
            raise ConfigError(self.path, f"has no split {split} (its splits: {have}); choose one with --split")
        folder = self.path / "best" / rule
        files = sorted(folder.glob("split*.pt"), key=lambda q: int(q.stem[5:]) if q.stem[5:].isdigit() else -1)
        if split is not None:
            files = [f for f in files if f.stem == f"split{split}"]
        if not files:
            which = f"best/{rule}/split{'*' if split is None else split}.pt"
            raise CheckpointError(self.path, f"has no selected model {which}; run `acsumgan select {self.path}` first")
        return files[0]
