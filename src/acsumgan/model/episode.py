"""A batch of videos and the fragment-selection episode (method.md section 4).

Given x (T_max, B, H) and the frame scores s = sLSTM(x):

1. ``state_0[m]`` = mean of s over fragment m, detached.
2. Every step starts with the factor (M - N) / M = 0.85; every fragment is unpicked.
3. For N = 9 steps the actor samples a fragment ``a`` from softmax(actor(state)).
   A new pick, the k-th distinct one so far (k = 0, 1, ...), sets the factor of its
   steps to (N - k) / (M - k) + 1 and leaves the state (``mask[a] = 0``); a repeated
   pick changes nothing. The next state is ``state_0 * mask``.
4. Weighted scores ``w_s = factor * s``; weighted features ``w = w_s * x``.

At test time (:func:`score_videos`) the same episode runs once per video and its
weighted scores are the video's step scores.

The factors live in a per-video table of M + 1 entries (fragment -> factor; the last
entry, for steps in no fragment and for padding, stays at (M - N) / M), so a step's
factor is a gather. Sampling uses pre-drawn uniforms (inverse CDF), so the batched
trainer and the per-video reference draw the same actions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.distributions import Categorical

from ..errors import TrainingDivergedError
from .fragments import fragment_ids, termination_point


@dataclass
class Batch:
    """Videos padded time-major and sorted by decreasing length."""

    keys: list[str]
    features: Tensor  # (T_max, B, D)
    lengths: Tensor  # (B,) int64, on the CPU
    frag: Tensor  # (B, T_max) int64: fragment of each step, M for none or padding
    frag_count: Tensor  # (B, M + 1): steps per fragment
    n_frag: Tensor  # (B,) M' = min(M, T)
    n_picks: Tensor  # (B,) N' = floor(0.15 M')
    order: list[int]  # position in the caller's list of each batch video
    M: int

    @property
    def size(self) -> int:
        return len(self.keys)

    @property
    def N(self) -> int:
        """Actor steps of the longest episode in the batch."""
        return int(self.n_picks.max())

    def mask(self, dtype=torch.float32) -> Tensor:
        """(T_max, B): 1 on real steps, 0 on padding."""
        T_max = self.features.shape[0]
        t = torch.arange(T_max, device=self.features.device).unsqueeze(1)
        return (t < self.lengths.to(self.features.device).unsqueeze(0)).to(dtype)


def make_batch(
    features: list[np.ndarray | Tensor], keys: list[str], M: int, device="cpu", dtype=torch.float32
) -> Batch:
    """Pad, sort (longest first) and describe the fragments of a list of videos."""
    lengths = [int(f.shape[0]) for f in features]
    order = sorted(range(len(features)), key=lambda i: -lengths[i])
    T_max = lengths[order[0]]
    D = int(features[0].shape[1])
    B = len(features)
    feats = torch.zeros(T_max, B, D, dtype=dtype)
    frag = torch.full((B, T_max), M, dtype=torch.int64)
    n_frag = torch.zeros(B, dtype=torch.int64)
    for j, i in enumerate(order):
        f = torch.as_tensor(np.asarray(features[i]) if not isinstance(features[i], Tensor) else features[i])
        T = lengths[i]
        feats[:T, j] = f.to(dtype)
        ids = torch.from_numpy(fragment_ids(T, M))
        frag[j, :T] = torch.where(ids >= 0, ids, torch.full_like(ids, M))
        n_frag[j] = min(M, T)
    frag_count = torch.zeros(B, M + 1, dtype=dtype).scatter_add_(1, frag, torch.ones(B, T_max, dtype=dtype))
    n_picks = torch.tensor([termination_point(int(m)) for m in n_frag], dtype=torch.int64)
    return Batch(
        keys=[keys[i] for i in order],
        features=feats.to(device),
        lengths=torch.tensor([lengths[i] for i in order], dtype=torch.int64),
        frag=frag.to(device),
        frag_count=frag_count.to(device),
        n_frag=n_frag.to(device),
        n_picks=n_picks.to(device),
        order=order,
        M=M,
    )


def fragment_state(s: Tensor, batch: Batch) -> Tensor:
    """state_0 (B, M): mean frame score of each fragment, detached (0 where none)."""
    s = s.detach().transpose(0, 1)  # (B, T_max)
    sums = torch.zeros_like(batch.frag_count).scatter_add_(1, batch.frag, s)
    return (sums / batch.frag_count.clamp(min=1))[:, : batch.M]


@dataclass
class Episode:
    """What one episode drew and produced, step by step (N steps, B videos)."""

    actions: Tensor  # (N, B)
    new: Tensor  # (N, B) bool: a new distinct pick (it gets a reward)
    active: Tensor  # (N, B) bool: step i < N' of the video
    states: Tensor  # (N, B, M): input state of each step
    tables: Tensor  # (N, B, M + 1): factors after each step
    logp: Tensor | None  # (N, B)
    entropy: Tensor | None  # (N, B)

    @property
    def final_table(self) -> Tensor:
        return self.tables[-1]


def initial_table(batch: Batch, dtype) -> Tensor:
    """(B, M + 1) factors before any pick: (M' - N') / M' everywhere."""
    m = batch.n_frag.to(torch.float64)
    n = batch.n_picks.to(torch.float64)
    base = ((m - n) / m).to(dtype)
    return base.unsqueeze(1).expand(batch.size, batch.M + 1).clone()


def run_episode(
    actor, state0: Tensor, batch: Batch, u: Tensor | None, policy: str = "sample", track_grad: bool = False
) -> Episode:
    """Run the actor for N steps on every video of the batch at once.

    ``u`` (N, B) uniforms drive sampling (inverse CDF); ``policy="greedy"`` picks the
    most probable fragment not yet picked (deterministic, no repeats). With
    ``track_grad`` the log-probabilities and entropies keep their graph (phase 4).
    """
    B, M = state0.shape
    N = batch.N
    dev, dtype = state0.device, state0.dtype
    table = initial_table(batch, dtype)
    if N == 0:
        empty = torch.zeros(0, B, device=dev)
        return Episode(
            empty.long(),
            empty.bool(),
            empty.bool(),
            torch.zeros(0, B, M, device=dev, dtype=dtype),
            table.unsqueeze(0),
            empty if track_grad else None,
            empty if track_grad else None,
        )
    invalid = torch.arange(M, device=dev).unsqueeze(0) >= batch.n_frag.unsqueeze(1)  # (B, M)
    picked = torch.zeros(B, M, dtype=torch.bool, device=dev)
    k = torch.zeros(B, dtype=torch.float64, device=dev)
    m64 = batch.n_frag.to(torch.float64)
    n64 = batch.n_picks.to(torch.float64)
    rows = torch.arange(B, device=dev)
    actions, news, actives, states, tables, logps, ents = [], [], [], [], [], [], []
    ctx = torch.enable_grad() if track_grad else torch.no_grad()
    with ctx:
        for i in range(N):
            state = state0 * (~picked).to(dtype)
            logits = actor(state).masked_fill(invalid, float("-inf"))
            probs = torch.softmax(logits, dim=-1)
            try:
                dist = Categorical(probs=probs)
            except ValueError:
                if bool(torch.isfinite(probs).all()):
                    raise
                raise TrainingDivergedError(None, "the actor's fragment probabilities became NaN or infinite") from None
            with torch.no_grad():
                if policy == "greedy":
                    a = dist.probs.masked_fill(picked | invalid, -1.0).argmax(-1)
                else:
                    cdf = dist.probs.cumsum(-1)
                    a = (cdf < u[i].to(dtype).unsqueeze(1)).sum(-1)
                    a = torch.minimum(a, batch.n_frag - 1)
                active = i < batch.n_picks
                new = active & ~picked[rows, a]
                factor = ((n64 - k) / (m64 - k) + 1).to(dtype)
                table = table.clone()
                table[rows[new], a[new]] = factor[new]
                picked[rows[new], a[new]] = True
                k = k + new.to(torch.float64)
            actions.append(a)
            news.append(new)
            actives.append(active)
            states.append(state)
            tables.append(table)
            if track_grad:
                logps.append(dist.log_prob(a))
                ents.append(dist.entropy())
    return Episode(
        actions=torch.stack(actions),
        new=torch.stack(news),
        active=torch.stack(actives),
        states=torch.stack(states),
        tables=torch.stack(tables),
        logp=torch.stack(logps) if track_grad else None,
        entropy=torch.stack(ents) if track_grad else None,
    )


def step_factors(table: Tensor, batch: Batch) -> Tensor:
    """Per-step factors (T_max, B) from a (B, M + 1) fragment table."""
    return table.gather(1, batch.frag).transpose(0, 1)


def weighted(x: Tensor, s: Tensor, table: Tensor, batch: Batch) -> tuple[Tensor, Tensor]:
    """Weighted scores w_s = factor * s (T_max, B) and features w = w_s * x (T_max, B, H)."""
    ws = step_factors(table, batch) * s
    return ws, ws.unsqueeze(-1) * x


def draw_seed(seed: int, draw: int) -> int:
    """The generator seed of test-time draw ``draw`` of K: draw 0 is ``seed`` itself (so
    K = 1 is the single seeded draw), draw j > 0 a seed derived from (seed, j)."""
    if draw == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed) % (1 << 63), 11, int(draw)]).generate_state(1)[0])


def test_time_uniforms(seed: int, batch: Batch, device="cpu") -> Tensor:
    """The draws of the sampled test-time policy: (max(N, 1), B) float64 uniforms from
    a generator seeded with ``seed``, so the same videos get the same scores."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(max(batch.N, 1), batch.size, generator=g, dtype=torch.float64).to(device)


@torch.no_grad()
def score_videos(model, batch: Batch, policy: str, u: Tensor | None) -> list[Tensor]:
    """The test-time pass: weighted scores w_s of each video (its own length), in the
    batch's order. ``u`` from :func:`test_time_uniforms` (``policy="sample"``) or None."""
    model.eval()
    x = model.compress(batch.features)
    s = model.s_lstm(x, batch.lengths)
    ep = run_episode(model.actor, fragment_state(s, batch), batch, u, policy=policy)
    ws, _ = weighted(x, s, ep.final_table, batch)
    return [ws[: int(batch.lengths[j]), j] for j in range(batch.size)]
