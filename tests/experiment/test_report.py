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


# --- the plots and tables people read (issue 17, "plots people read") ---------------------------


def _visible_ticks(ax) -> list[float]:
    lo, hi = ax.get_xlim()
    return [t for t in ax.get_xticks() if lo <= t <= hi]


@pytest.mark.slow
def test_report_figures_have_integer_epochs_from_minus_one_and_legends_outside(tiny_experiment):
    from acsumgan.experiment.report import report_figures
    from acsumgan.experiment.select import select_experiment

    sel = select_experiment(tiny_experiment)
    figures = report_figures(sel.summaries, sel)
    assert sorted(figures) == [
        "criterion_split0.png",
        "criterion_split1.png",
        "fscore_split0.png",
        "fscore_split1.png",
        "fscore_vs_sigma.png",
    ]
    for name, fig in figures.items():
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        (legend,) = fig.legends
        box = legend.get_window_extent(renderer)
        assert not any(box.overlaps(ax.get_window_extent(renderer)) for ax in fig.axes), name
        if name.startswith(("fscore_split", "criterion")):
            for ax in fig.axes:
                ticks = _visible_ticks(ax)
                assert ticks and all(float(t).is_integer() for t in ticks), (name, ticks)
    for k in (0, 1):
        ax = figures[f"fscore_split{k}.png"].axes[0]
        assert -1 in _visible_ticks(ax)
        curves = [line for line in ax.get_lines() if line.get_label().startswith("σ=")]
        assert len(curves) == 2
        for line in curves:
            s = float(line.get_label()[2:])
            v = sel.summaries[(s, k)]
            x, y = line.get_xdata(), line.get_ydata()
            assert list(x) == list(range(-1, v.epochs))
            assert y[0] == pytest.approx(v.f_untrained) and list(y[1:]) == pytest.approx(v.f_score)


@pytest.fixture(scope="module")
def unlabeled_experiment(tmp_path_factory, tiny_synth, tiny_splits):
    """The tiny experiment on the tiny dataset without any annotation (trained without labels)."""
    import shutil
    import subprocess

    import h5py

    from conftest import experiment_cmd

    d = tmp_path_factory.mktemp("unlabeled")
    data = shutil.copy(tiny_synth, d / "unlabeled.h5")
    with h5py.File(data, "r+") as h5:
        for video in h5.values():
            for name in ("user_summary", "user_scores", "gtscore", "gtsummary"):
                if name in video:
                    del video[name]
    proc = subprocess.run(experiment_cmd(data, tiny_splits, d / "exp"), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return d / "exp"


@pytest.mark.slow
def test_unlabeled_report_shows_the_choice_and_no_empty_plot(unlabeled_experiment):
    import subprocess
    import sys

    exp = unlabeled_experiment
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-m", "acsumgan", "report", str(exp)], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "Warning" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    sel = json.loads((exp / "selection.json").read_text())
    md = (exp / "report.md").read_text()
    assert "None" not in md
    row = next(line for line in md.splitlines() if line.startswith("| label-free |"))
    for k in sel["splits"]:
        c = sel["per_split"][str(k)]["label-free"]
        assert c["f_score"] is None
        assert f"- (σ={c['sigma']:g}, e{c['epoch']})" in row
    assert "No test F-scores: the test videos have no annotations" in md
    assert sorted(p.name for p in (exp / "plots").iterdir()) == ["criterion_split0.png", "criterion_split1.png"]
    assert "fscore_" not in md and "fscore_" not in (exp / "report.html").read_text()
    for run in sel["runs"].values():
        assert f"| {run['chosen_epoch']} | - | - | - | - | - |" in md
