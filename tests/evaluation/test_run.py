"""run_evaluation: the metrics, scores and results behind ``acsumgan evaluate``."""

import json

import numpy as np
import pytest

from acsumgan.data.dataset import load_dataset
from acsumgan.errors import ScoresError
from acsumgan.evaluation.metrics import evaluate_video
from acsumgan.evaluation.rank import evaluate_rank
from acsumgan.evaluation.run import Evaluation, run_evaluation
from acsumgan.evaluation.scores import write_scores


def _scores(videos, seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(size=v.steps) for k, v in videos.items()}


def test_a_scores_file_known_answers(tmp_path, tiny_synth):
    videos = load_dataset(tiny_synth, purpose="evaluate")
    scores = _scores(videos)
    f = tmp_path / "s.json"
    f.write_text(json.dumps({k: v.tolist() for k, v in scores.items()}))
    ev = run_evaluation(tiny_synth, f)
    assert isinstance(ev, Evaluation) and ev.names == ["max"] and list(ev.results) == [None]
    res = ev.results[None]["max"]
    for k, v in videos.items():
        assert res["videos"][k] == pytest.approx(evaluate_video(scores[k], v, "max"))
    assert res["mean"] == pytest.approx(np.mean(list(res["videos"].values())))
    ev = run_evaluation(tiny_synth, f, metric="all")
    assert ev.names == ["max", "kendall", "spearman"]
    want = evaluate_rank(videos, scores, "kendall").to_json()
    assert ev.results[None]["kendall"] == want


def test_epochs_and_a_scoring_function(tmp_path, tiny_synth):
    videos = load_dataset(tiny_synth, purpose="evaluate")
    a, b = _scores(videos, 1), _scores(videos, 2)
    both = write_scores(tmp_path / "epochs.h5", {-1: a, 0: b})
    ev = run_evaluation(tiny_synth, both, metric="avg")
    assert ev.names == ["avg"] and list(ev.results) == [-1, 0]
    only = run_evaluation(tiny_synth, both, metric="avg", epoch=0)
    assert list(only.results) == [0] and only.results[0] == ev.results[0]
    seen = []

    def score(vs):
        seen.append(sorted(vs))
        return {0: a, 1: b}

    drawn = run_evaluation(tiny_synth, "the model", metric="avg", score=score)
    assert seen == [sorted(videos)] and list(drawn.results) == [0, 1]
    assert drawn.results[0] == ev.results[-1] and drawn.results[1] == ev.results[0]
    with pytest.raises(ScoresError, match="the model"):
        run_evaluation(tiny_synth, "the model", score=lambda vs: {0: {"video_404": [0.5]}})
