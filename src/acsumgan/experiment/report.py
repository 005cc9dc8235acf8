"""The report people read: ``report.md``, ``results.csv``, ``results.json`` and plots.

``write_report(DIR)`` selects models (:func:`acsumgan.experiment.select.select_experiment`)
unless given the selection, then writes one row per split and sigma, the final F-score
of every rule of :mod:`acsumgan.selection`, the baselines, and PNG plots under ``plots/``.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from ..fileio import atomic_path, ensure_dir, write_json, write_text
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
    return baseline_rows(videos, read_splits(splits_path, videos), metric, cfg.budget, draws, cfg.seed,
                         split_indices=split_indices)


# --- the report ----------------------------------------------------------------------

def write_report(exp_dir: str | os.PathLike, selection: Selection | None = None, baselines: list[dict] | None = None
                 ) -> dict[str, Path]:
    """Write report.md, results.csv, results.json and plots/*.png."""
    exp = ExperimentFolder(exp_dir)
    sel = selection or select_experiment(exp.path)
    summaries = sel.summaries
    rows = []
    for (s, k), v in sorted(summaries.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rows.append({"split": k, "sigma": s, "chosen_epoch": v.chosen_epoch, "f_chosen": v.f_chosen,
                     "f_untrained": v.f_untrained, "f_last": v.f_last, "best_epoch": v.best_epoch,
                     "f_best_epoch": v.f_best_epoch, "reward_chosen": v.reward_chosen,
                     "actor_loss_chosen": v.actor_loss_chosen, "normalisation": v.normalisation})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    out = {"results.csv": write_text(exp.results_csv, buf.getvalue())}
    out["results.json"] = write_json(exp.results_json, {"runs": rows, "selection": sel.data,
                                                                "baselines": baselines or []})
    out.update(_plots(exp.plots, summaries, sel))
    out["report.md"] = write_text(exp.report, _markdown(sel, rows, baselines or []))
    return out


def _fmt(x, nd=2):
    return "-" if x is None else f"{x:.{nd}f}"


def _markdown(sel: Selection, rows: list[dict], baselines: list[dict]) -> str:
    splits = sel["splits"]
    lines = [f"# Experiment report: `{Path(sel['experiment']).name}`", "",
             f"{sel['complete_runs']} complete runs; sigmas {', '.join(f'{s:g}' for s in sel['sigmas'])}; "
             f"splits {', '.join(map(str, splits))}.", "",
             "## Final F-score per selection rule", "",
             "| rule | uses test labels | mean | " + " | ".join(f"split {k}" for k in splits) + " |",
             "|---|---|---|" + "---|" * len(splits)]
    for rule in RULES:
        f = sel["final"][rule]
        cells = []
        for k in splits:
            e = sel["per_split"][str(k)].get(rule)
            cells.append("-" if not e or e["f_score"] is None else
                         f"{e['f_score']:.2f}" + ("" if e["sigma"] is None else f" (σ={e['sigma']:g}, e{e['epoch']})"))
        lines.append(f"| {rule} | {USES_LABELS[rule]} | **{_fmt(f['mean'])}** | " + " | ".join(cells) + " |")
    if baselines:
        lines += ["", "## Baselines on the same test videos", "",
                  "| baseline | F-score | Kendall τ | Spearman ρ |", "|---|---|---|---|"]
        summary = [b for b in baselines if b.get("split") in ("mean", "all")] or baselines
        for b in summary:
            lines.append(f"| {b['baseline']} | {_fmt(b.get('f_score'))} | {_fmt(b.get('kendall'), 3)} | "
                         f"{_fmt(b.get('spearman'), 3)} |")
    lines += ["", "Rules: `oracle` picks, per split, the sigma whose criterion-chosen epoch has the best test "
              "F-score (what the release does; the paper's 50.8 / 60.6 were obtained this way). `label-free` "
              "picks sigma by the paper's criterion computed on a common scale across the split's runs (no labels). "
              "`untrained` is the model before training; `best-epoch` is the best test F-score of any epoch "
              "(an upper bound that uses the test labels).", "",
              "## Every run", "",
              "| split | sigma | chosen epoch | F (chosen) | F (untrained) | F (last) | best epoch | F (best) |",
              "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['split']} | {r['sigma']:g} | {r['chosen_epoch']} | {_fmt(r['f_chosen'])} | "
                     f"{_fmt(r['f_untrained'])} | {_fmt(r['f_last'])} | {r['best_epoch']} | "
                     f"{_fmt(r['f_best_epoch'])} |")
    lines += ["", "## Plots", ""]
    for k in splits:
        lines += [f"![F-score per epoch, split {k}](plots/fscore_split{k}.png)",
                  f"![criterion, split {k}](plots/criterion_split{k}.png)"]
    lines += ["![F-score against sigma](plots/fscore_vs_sigma.png)", ""]
    return "\n".join(lines)


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
    ax.set(xlabel="sigma (regularization_factor)", ylabel="test F-score at the criterion's epoch (%)",
           title="F-score against sigma")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save(fig, "fscore_vs_sigma.png")
    return out
