"""The report people read: ``report.md``, ``results.csv``, ``results.json``, plots and ``report.html``.

``write_report(DIR)`` selects models (:func:`acsumgan.experiment.select.select_experiment`)
unless given the selection, then writes one row per split and sigma, the final F-score
of every rule of :mod:`acsumgan.selection`, the baselines, and PNG plots under ``plots/``;
``report.html`` holds report.md's tables with the plots embedded and links to each run's files.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from ..fileio import atomic_path, ensure_dir, write_json, write_text
from ..pages.media import relative_href
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
    from ..data.dataset import load_dataset
    from ..data.splits import read_splits
    from ..evaluation.baselines import baseline_rows
    from ..evaluation.metrics import resolve_metric

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
    from ..data.dataset import load_dataset
    from ..errors import AcsumganError
    from ..evaluation.reference import can_use, evaluate_reference
    from ..evaluation.scores import read_scores

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
_RULES_TITLE = "Final F-score per selection rule"
_BASELINES_TITLE = "Baselines on the same test videos"
_RUNS_TITLE = "Every run"


def _intro(sel: Selection) -> str:
    return (
        f"{sel['complete_runs']} complete runs; sigmas {', '.join(f'{s:g}' for s in sel['sigmas'])}; "
        f"splits {', '.join(map(str, sel['splits']))}."
    )


# The tables of report.md and report.html: headers and rows of cell texts, one home for both.


def _rule_table(sel: Selection, single: dict | None = None) -> tuple[list[str], list[list[str]]]:
    """Rows: rule, uses test labels, mean (shown bold), one cell per split; and, with the
    single-reference F-scores, their mean in a column of its own (never mixed in)."""
    splits = sel["splits"]
    rows = []
    for rule in RULES:
        f = sel["final"][rule]
        cells = []
        for k in splits:
            e = sel["per_split"][str(k)].get(rule)
            cells.append(
                "-"
                if not e or e["f_score"] is None
                else f"{e['f_score']:.2f}" + ("" if e["sigma"] is None else f" (σ={e['sigma']:g}, e{e['epoch']})")
            )
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
                f"{r['best_epoch']}",
                _fmt(r["f_best_epoch"]),
            ]
            for r in rows
        ],
    )


def _plot_names(splits) -> list[tuple[str, str]]:
    """(file under plots/, caption) of every plot, in the report's order."""
    out = []
    for k in splits:
        out += [
            (f"fscore_split{k}.png", f"F-score per epoch, split {k}"),
            (f"criterion_split{k}.png", f"criterion, split {k}"),
        ]
    return out + [("fscore_vs_sigma.png", "F-score against sigma")]


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
    from ..evaluation.reference import performance_over_random

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
    if baselines:
        lines += ["", f"## {_BASELINES_TITLE}", "", *_md_table(*_baseline_table(baselines))]
    if _has_random(baselines):
        lines += ["", f"## {_POR_TITLE}", "", *_md_table(*_por_table(sel, baselines)), "", _POR_NOTE]
    lines += ["", _RULES_NOTE, "", f"## {_RUNS_TITLE}", "", *_md_table(*_run_table(rows)), "", "## Plots", ""]
    lines += [f"![{caption}](plots/{name})" for name, caption in _plot_names(sel["splits"])]
    lines += [""]
    return "\n".join(lines)


def _html(
    exp: ExperimentFolder, sel: Selection, rows: list[dict], baselines: list[dict], single: dict | None = None
) -> tuple[str, str, list[Section]]:
    """The title, subtitle and sections of report.html: report.md's tables and plots, each run linking its files."""
    headers, cells = _rule_table(sel, single)
    rules = Table(headers, [[*r[:2], Cell(r[2], strong=True), *r[3:]] for r in cells], name="rules")
    sections = [Section(_RULES_TITLE, tables=[rules], notes=[_RULES_NOTE])]
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
        Section("Plots", figures=[Figure(exp.plots / name, caption) for name, caption in _plot_names(sel["splits"])])
    )
    return f"Experiment report: `{Path(sel['experiment']).name}`", _intro(sel), sections


def _plots(plots_dir: Path, summaries: dict, sel: Selection) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    pdir = ensure_dir(plots_dir)
    splits, sigmas = sel["splits"], sel["sigmas"]
    cmap = plt.get_cmap("viridis")
    color = {s: cmap(i / max(1, len(sigmas) - 1)) for i, s in enumerate(sigmas)}

    def save(fig, name):
        with atomic_path(pdir / name) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        out[f"plots/{name}"] = pdir / name

    for k in splits:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for s in sigmas:
            v = summaries.get((s, k))
            if not v or all(f is None for f in v.f_score):
                continue
            ep = np.arange(len(v.f_score))
            ax.plot(ep, [np.nan if f is None else f for f in v.f_score], color=color[s], lw=1.2, label=f"σ={s:g}")
            c = v.chosen_epoch
            ax.plot([c], [v.f_score[c]], "o", color=color[s], ms=7, mec="black")
        ax.set_xlabel("epoch")
        ax.set_ylabel("test F-score (%)")
        ax.set_title(f"split {k}: F-score per epoch (dots: the criterion's epoch)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        save(fig, f"fscore_split{k}.png")

        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for s in sigmas:
            v = summaries.get((s, k))
            if not v:
                continue
            ep = np.arange(len(v.reward))
            c = v.chosen_epoch
            axes[0].plot(ep, v.reward, color=color[s], lw=1.2, label=f"σ={s:g}")
            axes[0].plot([c], [v.reward[c]], "o", color=color[s], mec="black")
            axes[1].plot(ep, np.abs(v.actor_loss), color=color[s], lw=1.2)
            axes[1].plot([c], [abs(v.actor_loss[c])], "o", color=color[s], mec="black")
        axes[0].set(xlabel="epoch", ylabel="mean reward", title=f"split {k}: reward")
        axes[1].set(xlabel="epoch", ylabel="|actor loss|", title="|actor loss| (dots: chosen epoch)")
        for a in axes:
            a.grid(alpha=0.3)
        axes[0].legend(fontsize=7, ncol=2)
        save(fig, f"criterion_split{k}.png")

    fig, ax = plt.subplots(figsize=(7, 4.5))
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
    ax.legend(fontsize=7)
    save(fig, "fscore_vs_sigma.png")
    return out
