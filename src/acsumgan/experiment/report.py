"""The report people read: ``report.md``, ``results.csv``, ``results.json``, plots and ``report.html``.

``write_report(DIR)`` selects models (:func:`acsumgan.experiment.select.select_experiment`)
unless given the selection, then writes one row per split and sigma, the final F-score
of every rule of :mod:`acsumgan.selection`, the baselines, and PNG plots under ``plots/``;
``report.html`` holds report.md's tables with the plots embedded and links to each run's files.

Plots (:func:`report_figures`, style of :mod:`acsumgan.pages.plots`): legends outside the
axes, integer epoch ticks, the F-score per epoch from epoch -1 (before training). An
experiment without test F-scores (its dataset has no annotations) gets no F-score plots
and a note saying so; its tables show each rule's choice (sigma, epoch) with ``-`` for the F-score.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from ..data.dataset import load_dataset
from ..data.splits import read_splits
from ..errors import AcsumganError, DatasetError
from ..evaluation.baselines import baseline_rows
from ..evaluation.metrics import resolve_metric
from ..evaluation.reference import can_use, evaluate_reference, performance_over_random
from ..evaluation.scores import read_scores
from ..fileio import ensure_dir, write_json, write_text
from ..media.browser import relative_href
from ..pages.report import Cell, Figure, Link, Section, Table, write_report_page
from ..runs import ExperimentFolder
from ..selection import RULES, USES_LABELS
from .select import Selection, select_experiment


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return float(np.mean(xs)) if xs else None


def experiment_baselines(dataset_path, splits_path, split_indices, cfg, draws: int) -> list[dict]:
    """The baseline rows of the report (random, uniform, human) on the experiment's test
    videos; none for a dataset without annotations or whose metric is unknown."""

    try:
        videos = load_dataset(dataset_path, purpose="evaluate")
    except DatasetError:  # no annotations to compare with: a report without baselines
        return []
    metric = resolve_metric(dataset_path, cfg.eval_metric, required=False)
    if metric is None:
        return []
    return baseline_rows(
        videos, read_splits(splits_path, videos), metric, cfg.budget, draws, cfg.seed, split_indices=split_indices
    )


def single_reference(exp: ExperimentFolder, sel: Selection, reference: str = "gtscore") -> dict | None:
    """The single-reference F-score (:mod:`acsumgan.evaluation.reference`) of every rule's
    choice and of every run's chosen epoch, from the runs' scores.h5; None when the
    experiment's dataset is not at hand or its test videos lack ``reference``."""

    try:
        req = exp.read_request()
        videos = load_dataset(req["dataset"], purpose="any")
        budget = float(req.get("config", {}).get("budget", 0.15))
    except (AcsumganError, KeyError, TypeError, ValueError):
        return None
    runs = exp.complete_runs()
    cache: dict = {}

    def f_at(sigma, split, epoch) -> float | None:
        if (sigma, split) not in runs:
            return None
        if (sigma, split) not in cache:
            cache[(sigma, split)] = read_scores(runs[(sigma, split)].scores)
        scores = cache[(sigma, split)].get(epoch)
        if not scores or not all(k in videos and can_use(videos[k], reference) for k in scores):
            return None
        return evaluate_reference(videos, scores, reference, budget=budget).mean

    final = {}
    for rule in RULES:
        per = {}
        for k in sel["splits"]:
            c = sel["per_split"][str(k)].get(rule)
            if not c:
                continue
            if c["sigma"] is None:  # untrained: the mean over the split's sigmas at epoch -1
                f = _mean([f_at(s, k, -1) for s in sel["sigmas"]])
            else:
                f = f_at(c["sigma"], k, c["epoch"])
            if f is not None:
                per[k] = f
        final[rule] = {"mean": _mean(per.values()), "per_split": per}
    per_run = {f"sigma{s:g}/split{k}": f_at(s, k, v.chosen_epoch) for (s, k), v in sel.summaries.items()}
    if all(v is None for v in per_run.values()):
        return None
    return {"reference": reference, "final": final, "runs": per_run}


# --- the report ----------------------------------------------------------------------


def write_report(
    exp_dir: str | os.PathLike, selection: Selection | None = None, baselines: list[dict] | None = None
) -> dict[str, Path]:
    """Write report.md, results.csv, results.json, plots/*.png and report.html (the same, for a browser)."""
    exp = ExperimentFolder(exp_dir)
    sel = selection or select_experiment(exp.path)
    summaries = sel.summaries
    single = single_reference(exp, sel)
    rows = []
    for (s, k), v in sorted(summaries.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rows.append(
            {
                "split": k,
                "sigma": s,
                "chosen_epoch": v.chosen_epoch,
                "f_chosen": v.f_chosen,
                "f_untrained": v.f_untrained,
                "f_last": v.f_last,
                "best_epoch": v.best_epoch,
                "f_best_epoch": v.f_best_epoch,
                "reward_chosen": v.reward_chosen,
                "actor_loss_chosen": v.actor_loss_chosen,
                "normalisation": v.normalisation,
            }
            | ({} if v.f_chosen_std is None else {"f_chosen_std": v.f_chosen_std})
            | ({} if single is None else {"f_chosen_gtscore": single["runs"][f"sigma{s:g}/split{k}"]})
        )
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    out = {"results.csv": write_text(exp.results_csv, buf.getvalue())}
    out["results.json"] = write_json(
        exp.results_json,
        {"runs": rows, "selection": sel.data, "baselines": baselines or []}
        | ({"por": por_by_rule(sel, baselines)} if _has_random(baselines or []) else {})
        | ({} if single is None else {"single_reference": single}),
    )
    out.update(_plots(exp.plots, summaries, sel))
    out["report.md"] = write_text(exp.report, _markdown(sel, rows, baselines or [], single))
    title, subtitle, sections = _html(exp, sel, rows, baselines or [], single)
    out["report.html"] = write_report_page(exp.report.with_suffix(".html"), title, sections, subtitle)
    return out


def _fmt(x, nd=2):
    return "-" if x is None else f"{x:.{nd}f}"


_RULES_NOTE = (
    "Rules: `oracle` picks, per split, the sigma whose criterion-chosen epoch has the best test "
    "F-score (what the release does; the paper's 50.8 / 60.6 were obtained this way). `label-free` "
    "picks sigma by the paper's criterion computed on a common scale across the split's runs (no labels). "
    "`untrained` is the model before training; `best-epoch` is the best test F-score of any epoch "
    "(an upper bound that uses the test labels)."
)
_NO_F_NOTE = (
    "No test F-scores: the test videos have no annotations (`user_summary`), so `oracle` and `best-epoch` "
    "choose nothing and the F-score plots are left out. `label-free` chooses by the paper's criterion alone: "
    "its sigma and epoch per split are in the table (`best/label-free/split<k>.pt`; "
    "`acsumgan summarize --model EXPERIMENT` uses it)."
)
_RULES_TITLE = "Final F-score per selection rule"
_BASELINES_TITLE = "Baselines on the same test videos"
_RUNS_TITLE = "Every run"


def _intro(sel: Selection) -> str:
    return (
        f"{sel['complete_runs']} complete runs; sigmas {', '.join(f'{s:g}' for s in sel['sigmas'])}; "
        f"splits {', '.join(map(str, sel['splits']))}."
    )


# The tables of report.md and report.html: headers and rows of cell texts, one home for both.


def _choice_cell(e: dict | None) -> str:
    """A rule's choice for one split: its F-score (``-`` without one) and, for a trained
    model, its sigma and epoch, shown also when there is no F-score (no annotations)."""
    if not e:
        return "-"
    f = _fmt(e["f_score"])
    return f if e["sigma"] is None else f"{f} (σ={e['sigma']:g}, e{e['epoch']})"


def _rule_table(sel: Selection, single: dict | None = None) -> tuple[list[str], list[list[str]]]:
    """Rows: rule, uses test labels, mean (shown bold), one cell per split; and, with the
    single-reference F-scores, their mean in a column of its own (never mixed in)."""
    splits = sel["splits"]
    rows = []
    for rule in RULES:
        f = sel["final"][rule]
        cells = [_choice_cell(sel["per_split"][str(k)].get(rule)) for k in splits]
        extra = [] if single is None else [_fmt(single["final"][rule]["mean"])]
        rows.append([rule, f"{USES_LABELS[rule]}", _fmt(f["mean"])] + cells + extra)
    extra = [] if single is None else [f"single reference ({single['reference']}), mean"]
    return ["rule", "uses test labels", "mean"] + [f"split {k}" for k in splits] + extra, rows


def _baseline_table(baselines: list[dict]) -> tuple[list[str], list[list[str]]]:
    summary = [b for b in baselines if b.get("split") in ("mean", "all")] or baselines
    return (
        ["baseline", "F-score", "Kendall τ", "Spearman ρ"],
        [
            [f"{b['baseline']}", _fmt(b.get("f_score")), _fmt(b.get("kendall"), 3), _fmt(b.get("spearman"), 3)]
            for b in summary
        ],
    )


def _run_table(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    return (
        ["split", "sigma", "chosen epoch", "F (chosen)", "F (untrained)", "F (last)", "best epoch", "F (best)"],
        [
            [
                f"{r['split']}",
                f"{r['sigma']:g}",
                f"{r['chosen_epoch']}",
                _fmt(r["f_chosen"]) + ("" if r.get("f_chosen_std") is None else f" ± {r['f_chosen_std']:.2f}"),
                _fmt(r["f_untrained"]),
                _fmt(r["f_last"]),
                "-" if r["best_epoch"] is None else f"{r['best_epoch']}",
                _fmt(r["f_best_epoch"]),
            ]
            for r in rows
        ],
    )


def _plot_names(splits, has_f: bool = True) -> list[tuple[str, str]]:
    """(file under plots/, caption) of every plot, in the report's order; without any
    test F-score (a dataset without annotations) only the criterion plots."""
    out = []
    for k in splits:
        if has_f:
            out.append((f"fscore_split{k}.png", f"F-score per epoch, split {k}"))
        out.append((f"criterion_split{k}.png", f"criterion, split {k}"))
    return out + ([("fscore_vs_sigma.png", "F-score against sigma")] if has_f else [])


def _md_table(headers: list[str], rows: list[list[str]], strong: int | None = None) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for r in rows:
        lines.append("| " + " | ".join(f"**{c}**" if i == strong else c for i, c in enumerate(r)) + " |")
    return lines


_POR_TITLE = "Performance over Random (PoR)"
_POR_NOTE = (
    "PoR = 100 x F / F_random per split (Apostolidis et al., ACM MM 2020), F_random the random baseline's "
    "F-score on the same test videos; then the mean over splits. The random summarizer's PoR is 100; above 100 "
    "is better than random."
)


def por_by_rule(sel: Selection, baselines: list[dict]) -> dict[str, dict]:
    """Per rule: PoR of each split (against that split's random baseline) and their mean."""

    random = {b["split"]: b.get("f_score") for b in baselines if b.get("baseline") == "random"}
    out = {}
    for rule in RULES:
        per = {}
        for k in sel["splits"]:
            e = sel["per_split"][str(k)].get(rule)
            p = performance_over_random(None if not e else e["f_score"], random.get(k))
            if p is not None:
                per[k] = p
        out[rule] = {"mean": _mean(per.values()), "per_split": per}
    return out


def _por_table(sel: Selection, baselines: list[dict]) -> tuple[list[str], list[list[str]]]:
    por = por_by_rule(sel, baselines)
    splits = sel["splits"]
    rows = [
        [rule, _fmt(por[rule]["mean"], 1)] + [_fmt(por[rule]["per_split"].get(k), 1) for k in splits] for rule in RULES
    ]
    return ["rule", "PoR (mean)"] + [f"split {k}" for k in splits], rows


def _has_random(baselines: list[dict]) -> bool:
    return any(b.get("baseline") == "random" and isinstance(b.get("split"), int) for b in baselines)


def _markdown(sel: Selection, rows: list[dict], baselines: list[dict], single: dict | None = None) -> str:
    lines = [
        f"# Experiment report: `{Path(sel['experiment']).name}`",
        "",
        _intro(sel),
        "",
        f"## {_RULES_TITLE}",
        "",
        *_md_table(*_rule_table(sel, single), strong=2),
    ]
    if not _has_f(sel.summaries):
        lines += ["", _NO_F_NOTE]
    if baselines:
        lines += ["", f"## {_BASELINES_TITLE}", "", *_md_table(*_baseline_table(baselines))]
    if _has_random(baselines):
        lines += ["", f"## {_POR_TITLE}", "", *_md_table(*_por_table(sel, baselines)), "", _POR_NOTE]
    lines += ["", _RULES_NOTE, "", f"## {_RUNS_TITLE}", "", *_md_table(*_run_table(rows)), "", "## Plots", ""]
    lines += [f"![{caption}](plots/{name})" for name, caption in _plot_names(sel["splits"], _has_f(sel.summaries))]
    lines += [""]
    return "\n".join(lines)


def _html(
    exp: ExperimentFolder, sel: Selection, rows: list[dict], baselines: list[dict], single: dict | None = None
) -> tuple[str, str, list[Section]]:
    """The title, subtitle and sections of report.html: report.md's tables and plots, each run linking its files."""
    headers, cells = _rule_table(sel, single)
    rules = Table(headers, [[*r[:2], Cell(r[2], strong=True), *r[3:]] for r in cells], name="rules")
    no_f = [] if _has_f(sel.summaries) else [_NO_F_NOTE]
    sections = [Section(_RULES_TITLE, tables=[rules], notes=[*no_f, _RULES_NOTE])]
    if baselines:
        sections.append(Section(_BASELINES_TITLE, tables=[Table(*_baseline_table(baselines), name="baselines")]))
    if _has_random(baselines):
        sections.append(Section(_POR_TITLE, tables=[Table(*_por_table(sel, baselines), name="por")], notes=[_POR_NOTE]))
    headers, cells = _run_table(rows)
    linked = []
    for r, c in zip(rows, cells):
        run = exp.run(r["sigma"], r["split"])
        files = [run.metrics, run.config, run.log, run.scores]
        linked.append(c + [Cell(links=[Link(f.name, relative_href(f, exp.path)) for f in files if f.is_file()])])
    sections.append(Section(_RUNS_TITLE, tables=[Table(headers + ["files"], linked, name="runs")]))
    sections.append(
        Section(
            "Plots",
            figures=[
                Figure(exp.plots / name, caption) for name, caption in _plot_names(sel["splits"], _has_f(sel.summaries))
            ],
        )
    )
    return f"Experiment report: `{Path(sel['experiment']).name}`", _intro(sel), sections


def _has_f(summaries: dict) -> bool:
    """True when some run has a test F-score (its dataset has annotations)."""
    return any(f is not None for v in summaries.values() for f in [v.f_untrained, *v.f_score])


def _floats(xs) -> np.ndarray:
    return np.asarray([np.nan if x is None else float(x) for x in xs], dtype=np.float64)


def _plots(plots_dir: Path, summaries: dict, sel: Selection) -> dict[str, Path]:
    """Write the plots of :func:`report_figures` under ``plots/`` (PNG, atomically); remove
    an earlier report's F-score plots that this one does not make."""
    from ..pages.plots import save_png  # matplotlib: loaded when needed

    pdir = ensure_dir(plots_dir)
    figures = report_figures(summaries, sel)
    for stale in [*pdir.glob("fscore_split*.png"), pdir / "fscore_vs_sigma.png"]:
        if stale.name not in figures and stale.is_file():
            stale.unlink()
    return {f"plots/{name}": save_png(fig, pdir / name, dpi=110) for name, fig in figures.items()}


def report_figures(summaries: dict, sel: Selection) -> dict:
    """The report's figures by file name (:func:`_plot_names`): legends outside the axes,
    integer epochs, the F-score from epoch -1 (before training); no F-score figures when
    no run has a test F-score."""
    from matplotlib import colormaps  # loaded when needed

    from ..pages.plots import epoch_axis, legend_outside, new_figure  # matplotlib: loaded when needed

    out = {}
    splits, sigmas = sel["splits"], sel["sigmas"]
    cmap = colormaps["viridis"]
    color = {s: cmap(i / max(1, len(sigmas) - 1)) for i, s in enumerate(sigmas)}
    has_f = _has_f(summaries)

    def save(fig, name):
        out[name] = fig

    for k in splits:
        if has_f:
            fig = new_figure(8.5, 4.5)
            ax = fig.add_subplot(1, 1, 1)
            for s in sigmas:
                v = summaries.get((s, k))
                if not v:
                    continue
                f = _floats([v.f_untrained, *v.f_score])
                if np.isnan(f).all():
                    continue
                ax.plot(np.arange(-1, len(v.f_score)), f, color=color[s], lw=1.2, marker=".", ms=4, label=f"σ={s:g}")
                c = v.chosen_epoch
                if 0 <= c < len(v.f_score) and v.f_score[c] is not None:
                    ax.plot([c], [v.f_score[c]], "o", color=color[s], ms=7, mec="black")
            ax.set_xlabel("epoch (-1: before training)")
            ax.set_ylabel("test F-score (%)")
            ax.set_title(f"split {k}: F-score per epoch (dots: the criterion's epoch)")
            ax.grid(alpha=0.3)
            epoch_axis(ax)
            legend_outside(fig, ax, fontsize=8)
            save(fig, f"fscore_split{k}.png")

        fig = new_figure(12, 4)
        axes = fig.subplots(1, 2)
        for s in sigmas:
            v = summaries.get((s, k))
            if not v:
                continue
            ep = np.arange(len(v.reward))
            c = v.chosen_epoch
            axes[0].plot(ep, _floats(v.reward), color=color[s], lw=1.2, label=f"σ={s:g}")
            axes[0].plot([c], [v.reward[c]], "o", color=color[s], mec="black")
            axes[1].plot(ep, np.abs(_floats(v.actor_loss)), color=color[s], lw=1.2)
            axes[1].plot([c], [abs(v.actor_loss[c])], "o", color=color[s], mec="black")
        axes[0].set(xlabel="epoch", ylabel="mean reward", title=f"split {k}: reward")
        axes[1].set(xlabel="epoch", ylabel="|actor loss|", title="|actor loss| (dots: chosen epoch)")
        for a in axes:
            a.grid(alpha=0.3)
            epoch_axis(a)
        legend_outside(fig, axes[0], fontsize=8)
        save(fig, f"criterion_split{k}.png")

    if has_f:
        fig = new_figure(8, 4.5)
        ax = fig.add_subplot(1, 1, 1)
        for k in splits:
            xs = [s for s in sigmas if (s, k) in summaries and summaries[(s, k)].f_chosen is not None]
            if xs:
                ax.plot(xs, [summaries[(s, k)].f_chosen for s in xs], "o-", alpha=0.5, lw=1, label=f"split {k}")
        means = [(s, _mean([summaries[(s, k)].f_chosen for k in splits if (s, k) in summaries])) for s in sigmas]
        means = [(s, m) for s, m in means if m is not None]
        if means:
            ax.plot([s for s, _ in means], [m for _, m in means], "k-", lw=2.5, label="mean over splits")
        ax.set(
            xlabel="sigma (regularization_factor)",
            ylabel="test F-score at the criterion's epoch (%)",
            title="F-score against sigma",
        )
        ax.grid(alpha=0.3)
        legend_outside(fig, ax, fontsize=8)
        save(fig, "fscore_vs_sigma.png")
    return out
