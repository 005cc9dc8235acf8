"""The experiment report's Performance over Random, on a real tiny experiment and by hand."""

from __future__ import annotations

import json

import pytest

from acsumgan.experiment.report import por_by_rule
from acsumgan.experiment.select import Selection


def _selection(f_by_split: dict[int, float]) -> Selection:
    per_split = {str(k): {"label-free": {"sigma": 0.5, "epoch": 1, "f_score": f}} for k, f in f_by_split.items()}
    return Selection({"splits": sorted(f_by_split), "per_split": per_split}, {})


def test_por_by_hand_and_the_random_summarizer_is_100():
    random = [
        {"baseline": "random", "split": 0, "f_score": 40.0},
        {"baseline": "random", "split": 1, "f_score": 50.0},
        {"baseline": "random", "split": "mean", "f_score": 45.0},
    ]
    por = por_by_rule(_selection({0: 50.0, 1: 45.0}), random)["label-free"]
    assert por["per_split"] == {0: pytest.approx(125.0), 1: pytest.approx(90.0)}
    assert por["mean"] == pytest.approx(107.5)
    same = por_by_rule(_selection({0: 40.0, 1: 50.0}), random)["label-free"]
    assert same["mean"] == pytest.approx(100.0)
    assert por_by_rule(_selection({0: 50.0}), random)["oracle"]["mean"] is None


@pytest.mark.slow
def test_report_shows_por_next_to_the_baselines(tiny_experiment):
    res = json.loads((tiny_experiment / "results.json").read_text())
    random = {b["split"]: b["f_score"] for b in res["baselines"] if b["baseline"] == "random"}
    for rule, por in res["por"].items():
        for k, value in por["per_split"].items():
            f = res["selection"]["per_split"][k][rule]["f_score"]
            assert value == pytest.approx(100 * f / random[int(k)])
    md = (tiny_experiment / "report.md").read_text()
    assert "## Performance over Random (PoR)" in md
    assert md.index("## Baselines") < md.index("## Performance over Random")
    assert "Performance over Random" in (tiny_experiment / "report.html").read_text()


@pytest.mark.slow
def test_report_has_the_single_reference_in_a_column_of_its_own(tiny_experiment):
    """The gtscore single-reference F-score of each rule's choice, recomputed from the runs' scores.h5."""
    from acsumgan.data.dataset import load_dataset
    from acsumgan.evaluation.reference import evaluate_reference
    from acsumgan.evaluation.scores import read_scores
    from acsumgan.runs import ExperimentFolder

    res = json.loads((tiny_experiment / "results.json").read_text())
    single = res["single_reference"]
    assert single["reference"] == "gtscore"
    videos = load_dataset(ExperimentFolder(tiny_experiment).read_request()["dataset"], purpose="any")
    for k, choice in res["selection"]["per_split"].items():
        c = choice["label-free"]
        scores = read_scores(tiny_experiment / f"sigma{c['sigma']:g}" / f"split{k}" / "scores.h5")[c["epoch"]]
        want = evaluate_reference(videos, scores, "gtscore").mean
        assert single["final"]["label-free"]["per_split"][k] == pytest.approx(want)
        assert want != pytest.approx(c["f_score"])  # another protocol, another number
    md = (tiny_experiment / "report.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| rule | uses test labels"))
    assert header.rstrip(" |").endswith("single reference (gtscore), mean")
    assert all("f_chosen_gtscore" in r for r in res["runs"])
