"""Model selection: which epoch of a run, and which sigma of a split (method.md section 8).

Pure functions on training logs; nothing here reads or writes a file.

**Epoch criterion** of the paper, per (sigma, split) run with per-epoch actor loss a_e
and mean reward R_e::

    P_e = (1 - |a_e| / max_e |a_e|) * (R_e / max_e R_e),   chosen epoch = argmax_e P_e

Rewards are ``1 - distance`` and can be negative; then ``R / max R`` would flip signs
(with a negative maximum, the *worst* reward would score best). Rule used here:

* every R_e > 0 (the paper's regime): ``R / max R`` exactly as the release;
* otherwise: min-max ``(R - min R) / (max R - min R)``, which keeps the order of the
  rewards and maps them to [0, 1]; a constant reward maps to 1.

``|a|`` all zero gives an actor factor of 1. Ties go to the earliest epoch (as
``torch.argmax`` in the release). Epochs with a non-finite value are never chosen.

**Rules**, per split, among the runs of the split's sigmas (F-score of the split's test
videos; the final figure is the mean over splits):

===============  ===========================================================  ==================
rule             how the (sigma, epoch) of a split is chosen                   uses test labels
===============  ===========================================================  ==================
``oracle``       criterion's epoch per sigma; the sigma whose chosen epoch     yes (sigma)
                 has the best test F-score (the release's procedure; how the
                 paper's 50.8 / 60.6 were obtained)
``label-free``   criterion's epoch per sigma; the sigma with the highest       no
                 criterion value on a common scale across the split's runs
``untrained``    epoch -1 (before training), mean over sigmas                  no
``best-epoch``   best test F-score over every epoch and sigma (upper bound)    yes (epoch, sigma)
===============  ===========================================================  ==================

The label-free common scale: ``(1 - |a| / A) * (R - R_min) / (R_max - R_min)`` with A,
R_min and R_max over all epochs of ALL sigma runs of the split (normalising per run
would give every run's best epoch the same top score and could not rank sigmas).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

RULES = ("oracle", "label-free", "untrained", "best-epoch")
#: What each rule uses of the test labels (for reports).
USES_LABELS = {"oracle": "yes (sigma)", "label-free": "no", "untrained": "no", "best-epoch": "yes (epoch, sigma)"}
#: Rules whose models are exported as checkpoints (the others are references).
EXPORTED_RULES = ("oracle", "label-free")


# --- the epoch criterion ----------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    values: np.ndarray  # P_e per epoch (NaN where not choosable)
    epoch: int  # index of the chosen epoch (0-based epoch number)
    normalisation: str  # "release" or "min-max"


def _actor_factor(actor_loss: np.ndarray, scale: float | None = None) -> np.ndarray:
    a = np.abs(np.asarray(actor_loss, dtype=np.float64))
    m = np.nanmax(a) if scale is None else scale
    return np.ones_like(a) if not m > 0 else 1 - a / m


def _reward_factor(reward: np.ndarray, lo: float | None = None, hi: float | None = None) -> tuple[np.ndarray, str]:
    r = np.asarray(reward, dtype=np.float64)
    finite = r[np.isfinite(r)]
    if lo is None and finite.size and (finite > 0).all():
        return r / finite.max(), "release"
    lo = finite.min() if lo is None else lo
    hi = finite.max() if hi is None else hi
    if not hi > lo:
        return np.ones_like(r), "min-max"
    return (r - lo) / (hi - lo), "min-max"


def epoch_criterion(actor_loss, reward) -> Criterion:
    """The paper's criterion over one run's epochs; returns values and the chosen epoch."""
    a = np.asarray(actor_loss, dtype=np.float64)
    r = np.asarray(reward, dtype=np.float64)
    if a.shape != r.shape or a.ndim != 1 or a.size == 0:
        raise ValueError("actor_loss and reward must be 1-D of equal, non-zero length")
    ok = np.isfinite(a) & np.isfinite(r)
    if not ok.any():
        raise ValueError("no epoch has finite actor loss and reward")
    af = _actor_factor(np.where(ok, a, np.nan))
    rf, how = _reward_factor(np.where(ok, r, np.nan))
    p = np.where(ok, af * rf, np.nan)
    return Criterion(values=p, epoch=int(np.nanargmax(p)), normalisation=how)


def pareto_epochs(actor_loss, reward) -> list[int]:
    """Epochs not strictly dominated (another epoch has lower |actor loss| AND higher
    reward). The criterion can only ever choose one of these, whatever epochs follow,
    so only their checkpoints need keeping."""
    a = np.abs(np.asarray(actor_loss, dtype=np.float64))
    r = np.asarray(reward, dtype=np.float64)
    keep = []
    for e in range(a.size):
        if not (np.isfinite(a[e]) and np.isfinite(r[e])):
            continue
        dominated = np.any((a < a[e]) & (r > r[e]))
        if not dominated:
            keep.append(e)
    return keep


def trained_rows(rows: Sequence[Mapping]) -> list[Mapping]:
    """The rows of metrics.csv after training epochs (epoch >= 0)."""
    return [r for r in rows if r["epoch"] >= 0]


def chosen_epoch(rows: Sequence[Mapping]) -> int | None:
    """The epoch number the criterion chooses among a run's metrics rows (None: no epoch trained)."""
    trained = trained_rows(rows)
    if not trained:
        return None
    c = epoch_criterion([r["actor_loss"] for r in trained], [r["reward"] for r in trained])
    return trained[c.epoch]["epoch"]


def kept_epochs(rows: Sequence[Mapping]) -> set[int]:
    """Epoch numbers whose checkpoints a run keeps: the criterion's possible choices and the newest."""
    trained = trained_rows(rows)
    keep = {
        trained[i]["epoch"] for i in pareto_epochs([r["actor_loss"] for r in trained], [r["reward"] for r in trained])
    }
    if trained:
        keep.add(trained[-1]["epoch"])
    return keep


# --- one run, summarised for the rules ------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    """What the rules need of one (sigma, split) run, from its metrics rows."""

    epochs: int
    chosen_epoch: int
    normalisation: str
    criterion: list[float | None]
    f_chosen: float | None
    f_untrained: float | None
    f_last: float | None
    best_epoch: int | None
    f_best_epoch: float | None
    reward_chosen: float
    actor_loss_chosen: float
    actor_loss: list[float]
    reward: list[float]
    f_score: list[float | None]
    f_chosen_std: float | None = None  # std over the policy samples at the chosen epoch (runs with K > 1)

    def headline(self) -> dict:
        """The per-run figures of selection.json (without the per-epoch curves)."""
        extra = {} if self.f_chosen_std is None else {"f_chosen_std": self.f_chosen_std}
        return {
            k: getattr(self, k)
            for k in (
                "epochs",
                "chosen_epoch",
                "normalisation",
                "f_chosen",
                "f_untrained",
                "f_last",
                "best_epoch",
                "f_best_epoch",
                "reward_chosen",
                "actor_loss_chosen",
            )
        } | extra


def summarize_run(rows: Sequence[Mapping]) -> RunSummary:
    """The criterion's epoch of a run and the F-scores the rules compare."""
    trained = trained_rows(rows)
    crit = epoch_criterion([r["actor_loss"] for r in trained], [r["reward"] for r in trained])
    chosen = trained[crit.epoch]
    with_f = [r for r in trained if r.get("f_score") is not None]
    best = max(with_f, key=lambda r: r["f_score"]) if with_f else None
    return RunSummary(
        epochs=len(trained),
        chosen_epoch=chosen["epoch"],
        normalisation=crit.normalisation,
        criterion=[None if not np.isfinite(v) else float(v) for v in crit.values],
        f_chosen=chosen.get("f_score"),
        f_untrained=rows[0].get("f_score") if rows and rows[0]["epoch"] == -1 else None,
        f_last=trained[-1].get("f_score"),
        best_epoch=None if best is None else best["epoch"],
        f_best_epoch=None if best is None else best["f_score"],
        reward_chosen=chosen["reward"],
        actor_loss_chosen=chosen["actor_loss"],
        actor_loss=[r["actor_loss"] for r in trained],
        reward=[r["reward"] for r in trained],
        f_score=[r.get("f_score") for r in trained],
        f_chosen_std=chosen.get("f_score_std"),
    )


# --- the sigma rules ------------------------------------------------------------------------


def label_free_sigma(runs: Mapping[float, tuple[np.ndarray, np.ndarray, int]]) -> float:
    """The ``label-free`` sigma: ``runs`` maps sigma -> (actor_loss, reward, chosen epoch)."""
    all_a = np.concatenate([np.abs(np.asarray(a, dtype=np.float64)) for a, _, _ in runs.values()])
    all_r = np.concatenate([np.asarray(r, dtype=np.float64) for _, r, _ in runs.values()])
    A = np.nanmax(all_a)
    lo, hi = np.nanmin(all_r), np.nanmax(all_r)
    best, best_val = None, -np.inf
    for sigma in sorted(runs):
        a, r, e = runs[sigma]
        val = _actor_factor(np.asarray([a[e]]), A)[0] * _reward_factor(np.asarray([r[e]]), lo, hi)[0][0]
        if val > best_val:
            best, best_val = sigma, val
    return best


def oracle_sigma(test_f: Mapping[float, float]) -> float:
    """The ``oracle`` sigma: best test F-score among the chosen epochs (ties: smallest sigma)."""
    return max(sorted(test_f), key=lambda s: (test_f[s], -s))


@dataclass(frozen=True)
class Choice:
    """The model a rule chooses for one split (``sigma`` None: a mean over sigmas)."""

    sigma: float | None
    epoch: int
    f_score: float | None

    def to_json(self) -> dict:
        return {"sigma": self.sigma, "epoch": self.epoch, "f_score": self.f_score}


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return float(np.mean(xs)) if xs else None


def choose(rule: str, runs: Mapping[float, RunSummary]) -> Choice | None:
    """What ``rule`` chooses among one split's runs (``{sigma: summary}``); None when the
    rule needs test F-scores the runs do not have."""
    if rule == "oracle":
        f_chosen = {s: v.f_chosen for s, v in runs.items() if v.f_chosen is not None}
        if not f_chosen:
            return None
        s = oracle_sigma(f_chosen)
        return Choice(s, runs[s].chosen_epoch, runs[s].f_chosen)
    if rule == "label-free":
        s = label_free_sigma(
            {s: (np.asarray(v.actor_loss), np.asarray(v.reward), v.chosen_epoch) for s, v in runs.items()}
        )
        return Choice(s, runs[s].chosen_epoch, runs[s].f_chosen)
    if rule == "untrained":
        return Choice(None, -1, _mean([v.f_untrained for v in runs.values()]))
    if rule == "best-epoch":
        with_best = {s: v for s, v in runs.items() if v.f_best_epoch is not None}
        if not with_best:
            return None
        s = max(sorted(with_best), key=lambda x: with_best[x].f_best_epoch)
        return Choice(s, with_best[s].best_epoch, with_best[s].f_best_epoch)
    raise ValueError(f"unknown rule {rule!r} (rules: {', '.join(RULES)})")


def select_split(runs: Mapping[float, RunSummary]) -> dict[str, Choice]:
    """Every rule's choice for one split (rules without a choice are left out)."""
    out = {}
    for rule in RULES:
        c = choose(rule, runs)
        if c is not None:
            out[rule] = c
    return out


def final_scores(per_split: Mapping[int, Mapping[str, Choice]]) -> dict[str, dict]:
    """Per rule: the mean F-score over splits and the F-score of each split."""
    finals = {}
    for rule in RULES:
        vals = {
            k: choices[rule].f_score
            for k, choices in per_split.items()
            if rule in choices and choices[rule].f_score is not None
        }
        finals[rule] = {"mean": _mean(vals.values()), "per_split": vals}
    return finals
