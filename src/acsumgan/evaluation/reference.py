"""What a machine summary is compared with: the annotators, or one synthesized reference.

The multi-user protocol (``users``, method.md section 7) compares the machine summary
with every annotator's summary and reduces with max (SumMe) or avg (TVSum). The paper
also reports a single-reference protocol (AC-SUM-GAN: 60.7 on SumMe, 64.8 on TVSum):

* ``gtscore`` — the authors' companion scripts (``check_fscores_{summe,tvsum}_with_gts.py``
  of their SUM-GAN-AAE release) build ONE reference summary per video from the dataset's
  per-step ``gtscore`` with the same keyshot procedure as the machine summary (frame
  scores from the picks, shot means, 15 % knapsack) and take the F-score against it;
* ``gtsummary`` — the dataset's per-step 0/1 ``gtsummary``, spread over the frames like
  step scores (frames ``[picks[i], picks[i+1])`` take step i's label).

With one reference, max and avg are the same number. The two protocols are never mixed:
a result says which reference it used.

**Performance over Random** (Apostolidis et al., ACM MM 2020): ``PoR = 100 * S / R``,
S the method's F-score on a split, R the random summarizer's on the same split and
protocol; the random summarizer's PoR is 100 by construction (above 100: better than
random).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..data.dataset import Video
from ..errors import DatasetError
from .metrics import FScoreResult, f_score_users
from .summary import DEFAULT_BUDGET, frame_scores, keyshot_summary

REFERENCES = ("users", "gtscore", "gtsummary")
#: The field of the dataset each reference needs.
NEEDS = {"users": "user_summary", "gtscore": "gtscore", "gtsummary": "gtsummary"}


def reference_summaries(video: Video, reference: str, budget: float = DEFAULT_BUDGET) -> np.ndarray:
    """The 0/1 reference summaries of a video, (R, n_frames): every annotator's for
    ``users``, one row for ``gtscore`` / ``gtsummary``."""
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
    if reference == "users":
        return np.asarray(video.user_summary)
    if reference == "gtscore":
        row = keyshot_summary(video.gtscore, video.picks, video.n_frames, video.change_points, budget)
    else:
        row = (frame_scores(video.gtsummary, video.picks, video.n_frames) > 0.5).astype(np.uint8)
    return row[None, :]


def can_use(video: Video, reference: str) -> bool:
    """The video has what ``reference`` needs (and the shots the machine summary needs)."""
    need = [NEEDS[reference], "change_points", "picks", "n_frames"]
    return all(getattr(video, f) is not None for f in need)


def check_reference(videos: Mapping[str, Video], keys, reference: str, path=None) -> None:
    """A one-line DatasetError for the first scored video that lacks what ``reference`` needs."""

    for k in sorted(keys):
        if not can_use(videos[k], reference):
            missing = next(
                f for f in (NEEDS[reference], "change_points", "picks", "n_frames") if getattr(videos[k], f) is None
            )
            raise DatasetError(path, f"{k}/{missing}: missing (needed for --reference {reference})")


def evaluate_reference(
    videos: Mapping[str, Video],
    scores: Mapping[str, np.ndarray],
    reference: str,
    metric: str = "avg",
    budget: float = DEFAULT_BUDGET,
) -> FScoreResult:
    """F-score of every scored video against ``reference`` (``metric`` reduces over the
    rows: it matters for ``users`` only). The result's ``metric`` names the protocol:
    ``max`` / ``avg`` for users, ``gtscore`` / ``gtsummary`` for a single reference."""
    result = FScoreResult(metric=metric if reference == "users" else reference)
    for key, s in scores.items():
        v = videos[key]
        machine = keyshot_summary(s, v.picks, v.n_frames, v.change_points, budget)
        result.videos[key] = f_score_users(machine, reference_summaries(v, reference, budget), metric)
    return result


def performance_over_random(f_method: float | None, f_random: float | None) -> float | None:
    """PoR = 100 * S / R (None when either is missing or R is 0)."""
    if f_method is None or f_random is None or not f_random > 0:
        return None
    return 100.0 * float(f_method) / float(f_random)
