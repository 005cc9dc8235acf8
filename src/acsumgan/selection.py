"""Choosing the epoch and sigma without labels (method.md section 8).

Epoch criterion of the paper, per (sigma, split) run with per-epoch actor loss a_e and
mean reward R_e::

    P_e = (1 - |a_e| / max_e |a_e|) * (R_e / max_e R_e),   chosen epoch = argmax_e P_e

Rewards are ``1 - distance`` and can be negative; then ``R / max R`` would flip signs
(with a negative maximum, the *worst* reward would score best). Rule used here:

* every R_e > 0 (the paper's regime): ``R / max R`` exactly as the release;
* otherwise: min-max ``(R - min R) / (max R - min R)``, which keeps the order of the
  rewards and maps them to [0, 1]; a constant reward maps to 1.

``|a|`` all zero gives an actor factor of 1. Ties go to the earliest epoch (as
``torch.argmax`` in the release). Epochs with a non-finite value are never chosen.

Sigma rules, per split, among the chosen epochs of the ten sigma runs:

* ``oracle`` — the sigma whose chosen epoch has the best TEST F-score. Uses the test
  labels; it is how the paper's 50.8 / 60.6 were obtained.
* ``criterion`` (label-free) — the sigma whose chosen epoch has the highest
  *un-normalised* criterion value ``(1 - |a| / A) * (R - R_min) / (R_max - R_min)``
  where A, R_min and R_max are taken over all epochs of ALL sigma runs of the split:
  the paper's criterion, applied across runs on a common scale (normalising per run
  would give every run's best epoch the same top score and could not rank sigmas).
  Uses training logs only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
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


def label_free_sigma(runs: dict[float, tuple[np.ndarray, np.ndarray, int]]) -> float:
    """The ``criterion`` sigma rule: ``runs`` maps sigma -> (actor_loss, reward, chosen epoch)."""
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


def oracle_sigma(test_f: dict[float, float]) -> float:
    """The ``oracle`` sigma rule: best test F-score among the chosen epochs (ties: smallest sigma)."""
    return max(sorted(test_f), key=lambda s: (test_f[s], -s))
