"""Synthetic datasets with the shape of SumMe and TVSum, for tests, the demo and benchmarks.

Each video uses the real step count of its benchmark counterpart (15 frames a step)
and is a sequence of segments, each showing one of a few recurring "scenes". A step's
1024-d feature is its scene's prototype plus temporally smooth noise, non-negative
like GoogLeNet pool5 features. Segments have very different lengths; shot
boundaries fall at every scene change (and split long segments). Simulated users
find each scene interesting to a degree they partly share, lose interest in a scene
they have seen before, and summarize about 15 % of the frames:

* ``summe`` profile: 15-18 users, each marks intervals near the shots they like
  (binary ``user_summary``, boundaries jittered off the shots), metric ``max``.
* ``tvsum`` profile: 20 users, each rates frames 1..5 (``user_scores``); their
  ``user_summary`` is the 15 % knapsack over shots of their own ratings, metric ``avg``.

Every schema field is filled and the files pass validation.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..data.dataset import Video, save_dataset
from ..evaluation.summary import keyshot_summary, knapsack

#: Steps (every 15th frame) of the 25 SumMe videos in the standard feature file.
SUMME_STEPS = [
    300,
    316,
    223,
    205,
    343,
    339,
    604,
    86,
    332,
    649,
    108,
    64,
    213,
    308,
    407,
    205,
    446,
    149,
    117,
    258,
    645,
    346,
    293,
    172,
    208,
]
#: Steps of the 50 TVSum videos in the standard feature file.
TVSUM_STEPS = [
    707,
    313,
    935,
    481,
    222,
    645,
    298,
    658,
    468,
    267,
    314,
    901,
    236,
    324,
    289,
    636,
    390,
    649,
    383,
    417,
    1294,
    378,
    376,
    291,
    439,
    221,
    728,
    553,
    1169,
    267,
    361,
    254,
    891,
    247,
    298,
    531,
    268,
    197,
    278,
    761,
    539,
    396,
    329,
    287,
    167,
    1021,
    316,
    260,
    399,
    461,
]

PROFILES = {
    "summe": {"steps": SUMME_STEPS, "users": (15, 18), "metric": "max"},
    "tvsum": {"steps": TVSUM_STEPS, "users": (20, 20), "metric": "avg"},
}
FRAMES_PER_STEP = 15
MAX_SHOT_STEPS = 12


def _segments(rng: np.random.Generator, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Split T steps into scene segments; returns (bounds (S+1,), scene id per segment)."""
    n_seg = int(np.clip(round(T / 25), 3, 30)) if T >= 9 else 1
    min_len = min(3, T // n_seg)
    lengths = rng.dirichlet(np.full(n_seg, 0.8)) * (T - min_len * n_seg)
    lengths = np.floor(lengths).astype(int) + min_len
    lengths[rng.integers(n_seg)] += T - lengths.sum()
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    n_scenes = int(min(n_seg, rng.integers(3, 8)))
    # Every scene appears once first (in random order), then scenes recur at random,
    # never twice in a row.
    scenes = list(rng.permutation(n_scenes))
    while len(scenes) < n_seg:
        scenes.append(int(rng.choice([s for s in range(n_scenes) if s != scenes[-1]])))
    scenes = np.array(scenes[:n_seg], dtype=int)
    return bounds, scenes


def _features(rng: np.random.Generator, T: int, bounds, scenes, dim: int) -> np.ndarray:
    n_scenes = scenes.max() + 1
    protos = np.abs(rng.normal(0.0, 1.0, (n_scenes, dim))) * rng.uniform(0.3, 1.0, (n_scenes, 1))
    noise = np.empty((T, dim))
    noise[0] = rng.normal(0, 1, dim)
    rho = 0.9
    eps = rng.normal(0, np.sqrt(1 - rho**2), (T, dim))
    for t in range(1, T):  # AR(1): smooth in time
        noise[t] = rho * noise[t - 1] + eps[t]
    base = np.repeat(protos[scenes], np.diff(bounds), axis=0)
    return np.maximum(base + 0.35 * noise, 0.0).astype(np.float32)


def _shots(rng: np.random.Generator, bounds: np.ndarray) -> np.ndarray:
    """Shot boundaries in steps: every scene change, long segments split further."""
    cuts = [0]
    for a, b in zip(bounds[:-1], bounds[1:]):
        n = max(1, int(np.ceil((b - a) / MAX_SHOT_STEPS)))
        inner = np.linspace(a, b, n + 1).round().astype(int)[1:]
        cuts.extend(int(x) for x in inner)
    return np.array(sorted(set(cuts)))


def make_video(rng: np.random.Generator, key: str, T: int, n_users: int, profile: str, dim: int = 1024) -> Video:
    """One synthetic video with every field of the eccv16 schema."""
    n_frames = FRAMES_PER_STEP * T - int(rng.integers(0, FRAMES_PER_STEP))
    picks = np.arange(0, n_frames, FRAMES_PER_STEP, dtype=np.int64)
    bounds, scenes = _segments(rng, T)
    features = _features(rng, T, bounds, scenes, dim)

    step_cuts = _shots(rng, bounds)
    frame_cuts = np.minimum(step_cuts * FRAMES_PER_STEP, n_frames)
    frame_cuts[-1] = n_frames
    cp = np.stack([frame_cuts[:-1], frame_cuts[1:] - 1], axis=1).astype(np.int64)
    cp = cp[cp[:, 1] >= cp[:, 0]]

    # Interest per frame: a shared scene interest, each user's own taste, and less
    # interest in a scene's later appearances (users prefer covering distinct scenes).
    scene_of_step = np.repeat(scenes, np.diff(bounds))
    occurrence = np.zeros(len(scenes))
    seen: dict[int, int] = {}
    for i, s in enumerate(scenes):
        occurrence[i] = seen.get(int(s), 0)
        seen[int(s)] = seen.get(int(s), 0) + 1
    occ_of_step = np.repeat(occurrence, np.diff(bounds))
    step_of_frame = np.minimum(np.arange(n_frames) // FRAMES_PER_STEP, T - 1)
    shared = rng.uniform(0, 1, scenes.max() + 1)

    user_summary = np.zeros((n_users, n_frames), dtype=np.uint8)
    user_scores = np.zeros((n_users, n_frames), dtype=np.float32)
    budget = int(n_frames * 0.15)
    lengths = cp[:, 1] - cp[:, 0] + 1
    for u in range(n_users):
        taste = shared + 0.2 * rng.normal(0, 1, shared.shape)
        step_interest = taste[scene_of_step] * 0.45**occ_of_step + 0.05 * rng.normal(0, 1, T)
        frame_interest = step_interest[step_of_frame]
        if profile == "tvsum":
            ranks = np.argsort(np.argsort(frame_interest)) / max(1, n_frames - 1)
            user_scores[u] = 1 + np.floor(ranks * 4.999)
            shot_vals = np.array([user_scores[u, s : e + 1].mean() for s, e in cp])
            for i in knapsack(shot_vals, lengths, budget):
                user_summary[u, cp[i, 0] : cp[i, 1] + 1] = 1
        else:
            shot_vals = np.array([frame_interest[s : e + 1].mean() for s, e in cp])
            for i in knapsack(shot_vals, lengths, int(budget * rng.uniform(0.6, 1.0))):
                s, e = cp[i]
                js, je = rng.integers(-8, 9, 2)
                user_summary[u, max(0, s + js) : min(n_frames, e + 1 + je)] = 1
            user_scores[u] = user_summary[u]

    if profile == "tvsum":
        gtscore = ((user_scores.mean(0)[picks] - 1) / 4).astype(np.float32)
    else:
        gtscore = user_summary.mean(0)[picks].astype(np.float32)
    gtsummary = keyshot_summary(gtscore, picks, n_frames, cp)[picks].astype(np.float32)
    v = Video(
        key=key,
        features=features,
        picks=picks,
        n_frames=n_frames,
        n_steps=T,
        change_points=cp,
        n_frame_per_seg=(cp[:, 1] - cp[:, 0] + 1).astype(np.int64),
        user_summary=user_summary,
        gtscore=gtscore,
        gtsummary=gtsummary,
    )
    if profile == "tvsum":
        v.user_scores = user_scores
    else:
        v.video_name = f"synthetic summe video {key.split('_')[-1]}"
    return v


def synth_dataset(
    profile: str = "summe", seed: int = 0, videos: int | None = None, dim: int = 1024, steps: list[int] | None = None
) -> list[Video]:
    """The videos of a synthetic dataset (``videos`` limits how many, in profile order;
    ``steps`` replaces the profile's step counts, e.g. for fast tests)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}")
    spec = PROFILES[profile]
    steps = list(spec["steps"] if steps is None else steps)
    steps = steps if videos is None else steps[:videos]
    rng = np.random.default_rng(seed)
    out = []
    for i, T in enumerate(steps):
        lo, hi = spec["users"]
        n_users = int(rng.integers(lo, hi + 1))
        out.append(make_video(np.random.default_rng([seed, i]), f"video_{i + 1}", T, n_users, profile, dim))
    return out


def write_synth_dataset(
    path: str | os.PathLike,
    profile: str = "summe",
    seed: int = 0,
    videos: int | None = None,
    dim: int = 1024,
    steps: list[int] | None = None,
) -> Path:
    """Generate and write a synthetic dataset file (atomically); root attributes record
    the profile, seed and evaluation metric."""
    vids = synth_dataset(profile, seed, videos, dim, steps)
    attrs = {
        "profile": profile,
        "seed": seed,
        "eval_metric": PROFILES[profile]["metric"],
        "generator": "acsumgan.data.synth v1",
    }
    return save_dataset(path, vids, attrs=attrs)
