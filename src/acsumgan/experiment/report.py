"""Model selection over an experiment folder, and the report people read.

``select_experiment(DIR)`` reads every complete run (``sigma<s>/split<k>``), applies the
paper's epoch criterion per run, then per split both sigma rules of
:mod:`acsumgan.selection`, and adds two reference rows that use the test
labels or no training at all. It writes ``selection.json`` and exports the selected
checkpoints to ``best/<rule>/split<k>.pt``.

``write_report(DIR)`` writes ``report.md``, ``results.csv`` (one row per split and
sigma), ``results.json`` and PNG plots under ``plots/``.

Rules (F-score of the split's test videos, then mean over splits):

===================  ==========================================================  ============
rule                 how the (sigma, epoch) of a split is chosen                 uses labels
===================  ==========================================================  ============
``oracle``           criterion's epoch per sigma; sigma with best test F-score    yes (sigma)
                     (the release's procedure; how the paper's numbers were made)
``label-free``       criterion's epoch per sigma; sigma by the criterion across   no
                     runs (see selection.py)
``untrained``        epoch -1 (before training), mean over sigmas                 no
``best-epoch``       best test F-score over every epoch and sigma (upper bound)   yes (all)
===================  ==========================================================  ============
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..fileio import atomic_path, ensure_dir, is_complete, write_json, write_text
from ..train.trainer import read_metrics
from ..selection import epoch_criterion, label_free_sigma, oracle_sigma

RULES = ("oracle", "label-free", "untrained", "best-epoch")
EXPORTED_RULES = ("oracle", "label-free")
RUN_DIR = re.compile(r"^sigma([0-9.]+)$")


def find_runs(exp_dir: Path) -> dict[tuple[float, int], Path]:
    """Complete run folders of an experiment: {(sigma, split): path}."""
    runs = {}
    for sdir in sorted(Path(exp_dir).glob("sigma*")):
        m = RUN_DIR.match(sdir.name)
        if not m or not sdir.is_dir():
            continue
        for kdir in sorted(sdir.glob("split*")):
            if kdir.is_dir() and kdir.name[5:].isdigit() and is_complete(kdir):
                runs[(float(m.group(1)), int(kdir.name[5:]))] = kdir
    return runs


def run_summary(run_dir: Path) -> dict:
    """Per-run figures: the criterion's epoch and the F-scores that matter."""
    rows = read_metrics(run_dir)
    trained = [r for r in rows if r["epoch"] >= 0]
    crit = epoch_criterion([r["actor_loss"] for r in trained], [r["reward"] for r in trained])
    chosen = trained[crit.epoch]
    with_f = [r for r in trained if r.get("f_score") is not None]
    best = max(with_f, key=lambda r: r["f_score"]) if with_f else None
    return {
        "epochs": len(trained),
        "chosen_epoch": chosen["epoch"],
        "normalisation": crit.normalisation,
        "criterion": [None if not np.isfinite(v) else float(v) for v in crit.values],
        "f_chosen": chosen.get("f_score"),
        "f_untrained": rows[0].get("f_score") if rows and rows[0]["epoch"] == -1 else None,
        "f_last": trained[-1].get("f_score"),
        "best_epoch": None if best is None else best["epoch"],
        "f_best_epoch": None if best is None else best["f_score"],
        "reward_chosen": chosen["reward"],
        "actor_loss_chosen": chosen["actor_loss"],
        "actor_loss": [r["actor_loss"] for r in trained],
        "reward": [r["reward"] for r in trained],
        "f_score": [r.get("f_score") for r in trained],
    }


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return float(np.mean(xs)) if xs else None


def select_experiment(exp_dir: str | os.PathLike, export: bool = True) -> dict:
    """Apply every rule; write selection.json and best/<rule>/split<k>.pt."""
    exp_dir = Path(exp_dir)
    runs = find_runs(exp_dir)
    if not runs:
        raise ConfigError(exp_dir, "holds no complete runs (sigma<s>/split<k> folders with a COMPLETE marker)")
    summaries = {key: run_summary(path) for key, path in runs.items()}
    splits = sorted({k for _, k in runs})
    sigmas = sorted({s for s, _ in runs})
    per_split: dict[int, dict] = {}
    for k in splits:
        here = {s: summaries[(s, k)] for s in sigmas if (s, k) in summaries}
        entry: dict = {"sigmas": sorted(here)}
        f_chosen = {s: v["f_chosen"] for s, v in here.items() if v["f_chosen"] is not None}
        if f_chosen:
            s = oracle_sigma(f_chosen)
            entry["oracle"] = {"sigma": s, "epoch": here[s]["chosen_epoch"], "f_score": here[s]["f_chosen"]}
        s = label_free_sigma({s: (np.asarray(v["actor_loss"]), np.asarray(v["reward"]), v["chosen_epoch"])
                              for s, v in here.items()})
        entry["label-free"] = {"sigma": s, "epoch": here[s]["chosen_epoch"], "f_score": here[s]["f_chosen"]}
        untrained = _mean([v["f_untrained"] for v in here.values()])
        entry["untrained"] = {"sigma": None, "epoch": -1, "f_score": untrained}
        with_best = {s: v for s, v in here.items() if v["f_best_epoch"] is not None}
        if with_best:
            s = max(sorted(with_best), key=lambda x: with_best[x]["f_best_epoch"])
            entry["best-epoch"] = {"sigma": s, "epoch": with_best[s]["best_epoch"],
                                   "f_score": with_best[s]["f_best_epoch"]}
        per_split[k] = entry
    finals = {}
    for rule in RULES:
        vals = {k: per_split[k][rule]["f_score"] for k in splits if rule in per_split[k]
                and per_split[k][rule]["f_score"] is not None}
        finals[rule] = {"mean": _mean(vals.values()), "per_split": vals}
    result = {
        "experiment": str(exp_dir),
        "complete_runs": len(runs),
        "splits": splits,
        "sigmas": sigmas,
        "runs": {f"sigma{s:g}/split{k}": {kk: vv for kk, vv in v.items() if kk not in
                                          ("actor_loss", "reward", "f_score", "criterion")}
                 for (s, k), v in summaries.items()},
        "per_split": {str(k): v for k, v in per_split.items()},
        "final": finals,
    }
    if export:
        result["exported"] = _export_best(exp_dir, runs, per_split)
    write_json(exp_dir / "selection.json", result)
    result["_summaries"] = summaries
    return result


def _export_best(exp_dir: Path, runs, per_split) -> dict:
    exported = {}
    for rule in EXPORTED_RULES:
        for k, entry in per_split.items():
            if rule not in entry:
                continue
            s, e = entry[rule]["sigma"], entry[rule]["epoch"]
            src = runs[(s, k)] / "checkpoints" / f"epoch-{e:03d}.pt"
            if not src.exists():
                continue
            dst = exp_dir / "best" / rule / f"split{k}.pt"
            ensure_dir(dst.parent)
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
            exported[f"{rule}/split{k}"] = str(dst.relative_to(exp_dir))
    return exported


# --- the report ----------------------------------------------------------------------

def write_report(exp_dir: str | os.PathLike, selection: dict | None = None, baselines: list[dict] | None = None
                 ) -> dict[str, Path]:
    """Write report.md, results.csv, results.json and plots/*.png."""
    exp_dir = Path(exp_dir)
    sel = selection or select_experiment(exp_dir)
    summaries = sel.pop("_summaries", None) or {key: run_summary(p) for key, p in find_runs(exp_dir).items()}
    rows = []
    for (s, k), v in sorted(summaries.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rows.append({"split": k, "sigma": s, "chosen_epoch": v["chosen_epoch"], "f_chosen": v["f_chosen"],
                     "f_untrained": v["f_untrained"], "f_last": v["f_last"], "best_epoch": v["best_epoch"],
                     "f_best_epoch": v["f_best_epoch"], "reward_chosen": v["reward_chosen"],
                     "actor_loss_chosen": v["actor_loss_chosen"], "normalisation": v["normalisation"]})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    out = {"results.csv": write_text(exp_dir / "results.csv", buf.getvalue())}
    public = {k: v for k, v in sel.items() if not k.startswith("_")}
    out["results.json"] = write_json(exp_dir / "results.json", {"runs": rows, "selection": public,
                                                                "baselines": baselines or []})
    out.update(_plots(exp_dir, summaries, sel))
    out["report.md"] = write_text(exp_dir / "report.md", _markdown(sel, rows, baselines or []))
    return out


def _fmt(x, nd=2):
    return "-" if x is None else f"{x:.{nd}f}"


def _markdown(sel: dict, rows: list[dict], baselines: list[dict]) -> str:
    splits = sel["splits"]
    lines = [f"# Experiment report: `{Path(sel['experiment']).name}`", "",
             f"{sel['complete_runs']} complete runs; sigmas {', '.join(f'{s:g}' for s in sel['sigmas'])}; "
             f"splits {', '.join(map(str, splits))}.", "",
             "## Final F-score per selection rule", "",
             "| rule | uses test labels | mean | " + " | ".join(f"split {k}" for k in splits) + " |",
             "|---|---|---|" + "---|" * len(splits)]
    labels = {"oracle": "yes (sigma)", "label-free": "no", "untrained": "no", "best-epoch": "yes (epoch, sigma)"}
    for rule in RULES:
        f = sel["final"][rule]
        cells = []
        for k in splits:
            e = sel["per_split"][str(k)].get(rule)
            cells.append("-" if not e or e["f_score"] is None else
                         f"{e['f_score']:.2f}" + ("" if e["sigma"] is None else f" (σ={e['sigma']:g}, e{e['epoch']})"))
        lines.append(f"| {rule} | {labels[rule]} | **{_fmt(f['mean'])}** | " + " | ".join(cells) + " |")
    if baselines:
        lines += ["", "## Baselines on the same test videos", "",
                  "| baseline | F-score | Kendall τ | Spearman ρ |", "|---|---|---|---|"]
        summary = [b for b in baselines if b.get("split") in ("mean", "all")] or baselines
        for b in summary:
            if True:
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


def _plots(exp_dir: Path, summaries: dict, sel: dict) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    pdir = ensure_dir(exp_dir / "plots")
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
            if not v or all(f is None for f in v["f_score"]):
                continue
            ep = np.arange(len(v["f_score"]))
            ax.plot(ep, [np.nan if f is None else f for f in v["f_score"]], color=color[s], lw=1.2, label=f"σ={s:g}")
            c = v["chosen_epoch"]
            ax.plot([c], [v["f_score"][c]], "o", color=color[s], ms=7, mec="black")
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
            ep = np.arange(len(v["reward"]))
            c = v["chosen_epoch"]
            axes[0].plot(ep, v["reward"], color=color[s], lw=1.2, label=f"σ={s:g}")
            axes[0].plot([c], [v["reward"][c]], "o", color=color[s], mec="black")
            axes[1].plot(ep, np.abs(v["actor_loss"]), color=color[s], lw=1.2)
            axes[1].plot([c], [abs(v["actor_loss"][c])], "o", color=color[s], mec="black")
        axes[0].set(xlabel="epoch", ylabel="mean reward", title=f"split {k}: reward")
        axes[1].set(xlabel="epoch", ylabel="|actor loss|", title="|actor loss| (dots: chosen epoch)")
        for a in axes:
            a.grid(alpha=0.3)
        axes[0].legend(fontsize=7, ncol=2)
        save(fig, f"criterion_split{k}.png")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k in splits:
        xs = [s for s in sigmas if (s, k) in summaries and summaries[(s, k)]["f_chosen"] is not None]
        if xs:
            ax.plot(xs, [summaries[(s, k)]["f_chosen"] for s in xs], "o-", alpha=0.5, lw=1, label=f"split {k}")
    means = [(s, _mean([summaries[(s, k)]["f_chosen"] for k in splits if (s, k) in summaries])) for s in sigmas]
    means = [(s, m) for s, m in means if m is not None]
    if means:
        ax.plot([s for s, _ in means], [m for _, m in means], "k-", lw=2.5, label="mean over splits")
    ax.set(xlabel="sigma (regularization_factor)", ylabel="test F-score at the criterion's epoch (%)",
           title="F-score against sigma")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save(fig, "fscore_vs_sigma.png")
    return out
