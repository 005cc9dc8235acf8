"""The KTS test corpus: every input shorter than 20 minutes (2,400 steps at 2 per second)
on which the scalable :func:`acsumgan.summarize.kts.kts` must give exactly the change points
of one exact run, as KTS did before it had windows.

- the three sample videos of ``../shared/data/videos`` (EfficientNet-Lite0 features at 2
  steps per second: 11, 20 and 159 steps);
- the synthetic SumMe (25 videos) and TVSum (50 videos) profiles, real step counts,
  1024-d features of recurring scenes (:mod:`acsumgan.synthetic.dataset`);
- scene features of 5, 10 and 19.9 minutes (600, 1,200 and 2,388 steps): shots of 2 to
  30 s, 256-d, noise like that of camera footage.

``tests/fixtures/kts_corpus.json`` holds their change points (pure KTS, and split to
shots of at most 20 steps, the summaries' default of 10 s) as computed by the exact
single-run KTS before windows were added (``python -m tests.video.kts_corpus`` writes it).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "kts_corpus.json"
REAL_VIDEOS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "videos"
SAMPLE_VIDEOS = ("bigbuckbunny.mp4", "bikes.mp4", "vtest.avi")
LONG_STEPS = (600, 1200, 2388)
MAX_SHOT_STEPS = 20


def scene_features(n: int, seed: int, dim: int = 256) -> np.ndarray:
    """Shots of 4-60 steps (2-30 s), each a random direction plus noise of 0.3-1.0 of it."""
    rng = np.random.default_rng(seed)
    x = np.empty((n, dim), np.float32)
    t = 0
    while t < n:
        length = int(rng.integers(4, 61))
        x[t : t + length] = rng.standard_normal(dim) + rng.uniform(0.3, 1.0) * rng.standard_normal(
            (min(length, n - t), dim)
        )
        t += length
    return x


def corpus(backbone=None) -> dict[str, np.ndarray]:
    """name -> features of every input of the corpus (``backbone`` for the sample videos)."""
    from acsumgan.summarize.backbones import get_backbone
    from acsumgan.summarize.features import extract_features
    from acsumgan.synthetic.dataset import synth_dataset

    bb = backbone or get_backbone("efficientnet-lite0")
    out = {f"sample/{name}": extract_features(REAL_VIDEOS / name, bb).features for name in SAMPLE_VIDEOS}
    for profile in ("summe", "tvsum"):
        for v in synth_dataset(profile, seed=0, dim=1024):
            out[f"{profile}/{v.key}"] = v.features
    for i, n in enumerate(LONG_STEPS):
        out[f"scenes/{n}"] = scene_features(n, seed=i)
    return out


def change_points(features: np.ndarray, kts_segment, split_long_segments) -> dict[str, list[int]]:
    cps = kts_segment(features).change_points
    return {"kts": cps.tolist(), "split": split_long_segments(features, cps, MAX_SHOT_STEPS).tolist()}


def main() -> None:
    from acsumgan.summarize.kts import kts_segment, split_long_segments

    data = {
        name: {"steps": int(x.shape[0]), **change_points(x, kts_segment, split_long_segments)}
        for name, x in corpus().items()
    }
    FIXTURE.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE}: {len(data)} inputs")


if __name__ == "__main__":
    main()
