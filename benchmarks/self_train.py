"""How many epochs should `acsumgan summarize` train when it trains its own model?

On the synthetic SumMe-profile dataset with a k-fold partition (every video tested
once), one run per (fold, seed) trains for the largest epoch count asked; its
metrics.csv then gives, for every count E asked (10, 20, 40, 80 by default), the test
F-score (max over the simulated users) of

* the epoch the paper's label-free criterion chooses among the first E epochs (what
  `summarize` uses: the run folder's criterion epoch), and
* epoch E - 1 (the last of E epochs),

next to the untrained model (epoch -1), uniform and random summaries (mean over
--draws draws) on the same test videos, with the spread (std) over folds x seeds.
Finally the whole `summarize` (features, training at the chosen default, summaries,
review pages) is timed on the sample videos (../shared/data/videos, or generated ones).

Usage::

    .venv/bin/python benchmarks/self_train.py [--folds 5] [--seeds 0,1] [--epochs 10,20,40,80]
        [--hidden-size 512] [--threads N] [--out benchmarks/results/self_train.json]

The numbers are reported as they come out; the synthetic data is not tuned.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_VIDEOS = ROOT.parent / "shared" / "data" / "videos"


def _stats(xs: list[float]) -> dict:
    xs = [x for x in xs if x is not None]
    return {
        "mean": statistics.fmean(xs) if xs else None,
        "std": statistics.pstdev(xs) if len(xs) > 1 else 0.0,
        "n": len(xs),
    }


def _criterion_f(rows: list[dict], epochs: int) -> tuple[int, float]:
    from acsumgan.selection import chosen_epoch

    first = [r for r in rows if r["epoch"] < epochs]
    e = chosen_epoch(first)
    return e, next(r["f_score"] for r in rows if r["epoch"] == e)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--fold-indices", default=None, help="run only these folds (comma-separated; default all)")
    ap.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=None,
        help="combine the runs of earlier outputs (of disjoint folds or seeds) into one table",
    )
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--epochs", default="10,20,40,80", help="epoch counts to report (comma-separated)")
    ap.add_argument(
        "--default-epochs",
        type=int,
        default=None,
        help="epochs of the timed summarize (default: acsumgan's DEFAULT_EPOCHS)",
    )
    ap.add_argument("--hidden-size", type=int, default=512, help="H of the model (512: the release's and summarize's)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--skip-summarize", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "self_train.json"))
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    counts = sorted({int(e) for e in args.epochs.split(",")})

    import torch

    from acsumgan.cli.progress import ProgressBars
    from acsumgan.config import TrainConfig
    from acsumgan.data.dataset import load_dataset
    from acsumgan.data.splits import make_kfold_splits, write_splits
    from acsumgan.evaluation.baselines import baseline_rows
    from acsumgan.fileio import write_json
    from acsumgan.summarize.options import SummarizeOptions
    from acsumgan.summarize.pipeline import DEFAULT_EPOCHS, summarize_videos
    from acsumgan.synthetic.dataset import write_synth_dataset
    from acsumgan.train.trainer import train

    if args.threads:
        torch.set_num_threads(args.threads)
    t_all = time.perf_counter()
    per: list[dict] = []
    folds = range(args.folds) if args.fold_indices is None else [int(k) for k in args.fold_indices.split(",")]
    if args.merge:
        import json

        per = [r for f in args.merge for r in json.loads(f.read_text())["runs"]]
        folds, seeds = [], sorted({r["seed"] for r in per})
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = write_synth_dataset(tmp / "summe_synth.h5", "summe", seed=0)
        videos = load_dataset(data, purpose="evaluate")
        splits = make_kfold_splits(list(videos), args.folds, seed=0)
        splits_path = write_splits(tmp / "splits.json", splits)
        for fold in folds:
            for seed in seeds:
                cfg = TrainConfig(
                    n_epochs=max(counts),
                    seed=seed,
                    split_index=fold,
                    hidden_size=args.hidden_size,
                    checkpoint_interval_s=1e9,
                    threads=args.threads,
                )
                t = time.perf_counter()
                with ProgressBars() if sys.stderr.isatty() else contextlib.nullcontext() as bars:
                    res = train(cfg, data, splits_path, tmp / f"fold{fold}_seed{seed}", progress=bars)
                secs = time.perf_counter() - t
                rows = res.rows
                entry = {"fold": fold, "seed": seed, "seconds": round(secs, 1), "untrained": rows[0]["f_score"]}
                for E in counts:
                    e, f = _criterion_f(rows, E)
                    entry[f"criterion_{E}"] = {"epoch": e, "f_score": f}
                    entry[f"last_{E}"] = next(r["f_score"] for r in rows if r["epoch"] == E - 1)
                per.append(entry)
                print(
                    f"fold {fold} seed {seed}: untrained {entry['untrained']:.2f}  "
                    + "  ".join(
                        f"E={E}: crit {entry[f'criterion_{E}']['f_score']:.2f} last {entry[f'last_{E}']:.2f}"
                        for E in counts
                    )
                    + f"  ({secs:.0f} s)",
                    flush=True,
                )
        base = baseline_rows(videos, splits, "max", draws=args.draws, seed=0, kinds=("random", "uniform"))
    mean_rows = {b["baseline"]: b for b in base if b["split"] == "mean"}
    per_fold = {
        b["baseline"]: [
            b2["f_score"] for b2 in base if b2["baseline"] == b["baseline"] and b2["split"] not in ("mean", "all")
        ]
        for b in base
    }
    table = {"untrained": _stats([p["untrained"] for p in per])}
    for E in counts:
        table[f"criterion epoch of {E}"] = _stats([p[f"criterion_{E}"]["f_score"] for p in per])
        table[f"epoch {E - 1} (last of {E})"] = _stats([p[f"last_{E}"] for p in per])
    table["uniform"] = {**_stats(per_fold["uniform"]), "mean": mean_rows["uniform"]["f_score"]}
    table["random"] = {
        "mean": mean_rows["random"]["f_score"],
        "std": mean_rows["random"]["f_score_std"],
        "n": args.draws,
    }

    timing = None
    if not args.skip_summarize:
        default = args.default_epochs or DEFAULT_EPOCHS
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            if SAMPLE_VIDEOS.is_dir():
                vids = sorted(SAMPLE_VIDEOS.iterdir())
            else:
                from acsumgan.synthetic.media import make_scene_video

                vids = [
                    make_scene_video(tmp / "a.mp4", [75, 200, 50, 150, 100, 225]),
                    make_scene_video(tmp / "b.mp4", [120, 60, 180, 90]),
                ]
            t = time.perf_counter()
            r = summarize_videos(vids, tmp / "out", SummarizeOptions(epochs=default, threads=args.threads))
            timing = {
                "videos": [v.name for v in vids],
                "epochs": default,
                "seconds": round(time.perf_counter() - t, 1),
                "train_seconds": round(r.model.seconds, 1),
                "video_seconds": round(sum(s.n_frames / s.fps for s in r.summaries), 1),
            }
    out = {
        "dataset": f"synthetic SumMe profile (seed 0, 25 videos), {args.folds}-fold partition "
        f"(folds run: {sorted({r['fold'] for r in per})})",
        "config": {
            "hidden_size": args.hidden_size,
            "seeds": seeds,
            "epochs": counts,
            "eval_policy": "sample",
            "sigma": 0.5,
            "threads": torch.get_num_threads(),
        },
        "f_score": table,
        "runs": per,
        "summarize_timing": timing,
        "seconds": round(time.perf_counter() - t_all, 1),
        "command": "python benchmarks/self_train.py " + " ".join(sys.argv[1:]),
    }
    print(
        f"\n{out['dataset']}; F-score (max over simulated users), mean +- std over {len(per)} runs "
        f"(folds {sorted({r['fold'] for r in per})} x seeds {seeds})"
    )
    for name, s in table.items():
        print(f"  {name:28s} {s['mean']:6.2f} +- {s['std']:.2f}")
    if timing:
        print(
            f"summarize on {', '.join(timing['videos'])} ({timing['video_seconds']} s of video), {timing['epochs']} "
            f"epochs: {timing['seconds']} s (training {timing['train_seconds']} s)"
        )
    print(f"wrote {write_json(args.out, out)}")


if __name__ == "__main__":
    main()
