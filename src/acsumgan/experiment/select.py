"""Model selection applied to an experiment folder (``acsumgan select``).

Reads every complete run (:class:`acsumgan.runs.ExperimentFolder`), summarises it
(:func:`acsumgan.selection.summarize_run`), applies every rule of
:mod:`acsumgan.selection` per split, writes ``selection.json`` and exports the models of
the label-free and oracle rules to ``best/<rule>/split<k>.pt``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from ..errors import ConfigError
from ..fileio import atomic_path, ensure_dir, write_json
from ..runs import ExperimentFolder, RunFolder
from ..selection import EXPORTED_RULES, Choice, RunSummary, final_scores, select_split, summarize_run


@dataclass
class Selection:
    """The result of :func:`select_experiment`: what selection.json holds, and the run summaries."""

    data: dict  # selection.json
    summaries: dict[tuple[float, int], RunSummary]

    def __getitem__(self, key: str):
        return self.data[key]


def select_experiment(exp_dir: str | os.PathLike, export: bool = True) -> Selection:
    """Apply every rule; write selection.json and best/<rule>/split<k>.pt."""
    exp = ExperimentFolder(exp_dir)
    if not exp.path.exists():
        raise ConfigError(exp.path, "experiment folder not found")
    if not exp.path.is_dir():
        raise ConfigError(exp.path, "is a file, not an experiment folder")
    runs = exp.complete_runs()
    if not runs:
        raise ConfigError(exp.path, "holds no complete runs (sigma<s>/split<k> folders with a COMPLETE marker)")
    summaries = {key: summarize_run(run.read_metrics()) for key, run in runs.items()}
    splits = sorted({k for _, k in runs})
    sigmas = sorted({s for s, _ in runs})
    per_split = {k: select_split({s: summaries[(s, k)] for s in sigmas if (s, k) in summaries}) for k in splits}
    data = {
        "experiment": str(exp.path),
        "complete_runs": len(runs),
        "splits": splits,
        "sigmas": sigmas,
        "runs": {f"sigma{s:g}/split{k}": v.headline() for (s, k), v in summaries.items()},
        "per_split": {
            str(k): {
                "sigmas": sorted(s for s, kk in runs if kk == k),
                **{rule: c.to_json() for rule, c in choices.items()},
            }
            for k, choices in per_split.items()
        },
        "final": final_scores(per_split),
    }
    if export:
        data["exported"] = _export_best(exp, runs, per_split)
    write_json(exp.selection, data)
    return Selection(data, summaries)


def _export_best(
    exp: ExperimentFolder, runs: dict[tuple[float, int], RunFolder], per_split: dict[int, dict[str, Choice]]
) -> dict:
    exported = {}
    for rule in EXPORTED_RULES:
        for k, choices in per_split.items():
            if rule not in choices:
                continue
            c = choices[rule]
            src = runs[(c.sigma, k)].checkpoint(c.epoch)
            if not src.exists():
                continue
            dst = exp.best(rule, k)
            ensure_dir(dst.parent)
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
            exported[f"{rule}/split{k}"] = str(dst.relative_to(exp.path))
    return exported
