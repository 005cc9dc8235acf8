"""Does training help? AC-SUM-GAN on the synthetic SumMe profile, one split.

Trains the full-size model (release defaults, sigma 0.5) on split 0 of a seeded 80/20
split of the synthetic SumMe-profile dataset for --epochs epochs, then reports the
test F-score (max over the simulated users, the SumMe protocol) of:

* the untrained model (epoch -1),
* the model at the epoch the paper's label-free criterion chooses,
* the last epoch and the best epoch (the latter uses the test labels: reference only),
* every baseline of ``acsumgan baseline`` on the same test videos, as the report shows
  them: random summaries (uniform random step scores through the same keyshot protocol;
  mean and std over --draws draws), uniform summaries (one score for every step: the
  knapsack alone decides) and the simulated annotators themselves (leave-one-out), the ceiling.

``--baselines-only`` skips the training (30 epochs of the full-size model take about
15 minutes on 2 cores) and writes only the baselines, with the same data and split.

Usage::

    .venv/bin/python benchmarks/quality_synthetic.py [--epochs 30] [--seed 0] [--eval-policy sample]
        [--out benchmarks/results/quality_synthetic.json]
    .venv/bin/python benchmarks/quality_synthetic.py --baselines-only \
        [--out benchmarks/results/quality_synthetic_baselines.json]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sigma", type=float, default=0.5)
    ap.add_argument("--eval-policy", default="sample", choices=["sample", "greedy"])
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--keep", type=Path, default=None, help="keep the run folder here")
    ap.add_argument("--baselines-only", action="store_true", help="no training: only the baselines")
    ap.add_argument("--out", default=None, help="JSON results (default: benchmarks/results/quality_synthetic*.json)")
    args = ap.parse_args()
    if args.out is None:
        name = "quality_synthetic_baselines.json" if args.baselines_only else "quality_synthetic.json"
        args.out = str(ROOT / "benchmarks" / "results" / name)

    from acsumgan.cli.progress import ProgressBars
    from acsumgan.config import TrainConfig
    from acsumgan.data.dataset import load_dataset
    from acsumgan.data.splits import make_random_splits, write_splits
    from acsumgan.evaluation.baselines import baseline_rows
    from acsumgan.fileio import write_json
    from acsumgan.synthetic.dataset import write_synth_dataset
    from acsumgan.train.trainer import train

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = write_synth_dataset(tmp / "summe_synth.h5", "summe", seed=args.seed)
        videos = load_dataset(data, purpose="evaluate")
        splits = make_random_splits(list(videos), 1, 0.2, seed=args.seed)
        splits_path = write_splits(tmp / "splits.json", splits)
        base = {
            r["baseline"]: r
            for r in baseline_rows(
                videos, splits, "max", draws=args.draws, seed=args.seed, kinds=("random", "uniform", "human")
            )
        }
        dataset = (
            f"synthetic SumMe profile (seed {args.seed}), split 0 of a seeded 80/20 split: "
            f"{len(splits[0]['train_keys'])} train / {len(splits[0]['test_keys'])} test videos"
        )
        baselines = {
            "random": {"mean": base["random"]["f_score"], "std": base["random"]["f_score_std"], "draws": args.draws},
            "uniform": base["uniform"]["f_score"],
            "human_leave_one_out": base["human"]["f_score"],
        }
        if args.baselines_only:
            _print_baselines(dataset, baselines)
            out = {
                "dataset": dataset,
                "config": {"seed": args.seed, "draws": args.draws, "budget": base["uniform"]["budget"]},
                "f_score": baselines,
                "command": "python benchmarks/quality_synthetic.py " + " ".join(sys.argv[1:]),
            }
            print(f"wrote {write_json(args.out, out)}")
            return
        run_dir = args.keep or tmp / "run"
        cfg = TrainConfig(
            n_epochs=args.epochs,
            seed=args.seed,
            regularization_factor=args.sigma,
            eval_policy=args.eval_policy,
            checkpoint_interval_s=600,
        )
        t = time.perf_counter()
        with ProgressBars() if sys.stderr.isatty() else contextlib.nullcontext() as bars:
            res = train(cfg, data, splits_path, run_dir, progress=bars, force=True)
        seconds = time.perf_counter() - t
    rows = res.rows
    trained = [r for r in rows if r["epoch"] >= 0]
    best = max(trained, key=lambda r: r["f_score"])
    chosen = res.row(res.chosen_epoch)
    out = {
        "dataset": dataset,
        "config": {"epochs": args.epochs, "sigma": args.sigma, "eval_policy": args.eval_policy, "seed": args.seed},
        "f_score": {
            "untrained": rows[0]["f_score"],
            "criterion_epoch": {"epoch": res.chosen_epoch, "f_score": chosen["f_score"]},
            "last_epoch": {"epoch": rows[-1]["epoch"], "f_score": rows[-1]["f_score"]},
            "best_epoch_uses_test_labels": {"epoch": best["epoch"], "f_score": best["f_score"]},
            **baselines,
        },
        "per_epoch": [{k: r.get(k) for k in ("epoch", "f_score", "reward", "actor_loss")} for r in rows],
        "train_seconds": seconds,
        "command": "python benchmarks/quality_synthetic.py " + " ".join(sys.argv[1:]),
    }
    f = out["f_score"]
    print(out["dataset"])
    print(f"  untrained (epoch -1)          {f['untrained']:6.2f}")
    print(f"  criterion's epoch ({res.chosen_epoch:3d})      {chosen['f_score']:6.2f}")
    print(f"  last epoch ({rows[-1]['epoch']:3d})             {rows[-1]['f_score']:6.2f}")
    print(f"  best epoch ({best['epoch']:3d}, test labels) {best['f_score']:6.2f}")
    _print_baselines(None, f)
    print(f"wrote {write_json(args.out, out)}")


def _print_baselines(dataset: str | None, f: dict) -> None:
    if dataset:
        print(dataset)
    print(f"  random summaries              {f['random']['mean']:6.2f} +- {f['random']['std']:.2f}")
    print(f"  uniform summaries             {f['uniform']:6.2f}")
    print(f"  simulated annotators (LOO)    {f['human_leave_one_out']:6.2f}")


if __name__ == "__main__":
    main()
