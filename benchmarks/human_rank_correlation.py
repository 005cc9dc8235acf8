"""Human leave-one-out and random-score rank correlation on TVSum (Otani et al., CVPR 2019).

Reads the official TVSum annotation (ydata-tvsum50-anno.tsv[.gz] or ydata-tvsum50.mat),
and computes, per video, Kendall's tau-b and Spearman's rho:

* human: each of the 20 annotators' frame importance (1..5) against each other
  annotator's, averaged over the others, then over annotators (leave-one-out);
* random: uniform random step scores (one per 15 frames, spread to frames) against
  each annotator, averaged over annotators; mean and std over ``--draws`` seeded draws;

then the mean over the 50 videos. Prints a table and writes JSON (``--out``).

    .venv/bin/python benchmarks/human_rank_correlation.py [--anno FILE] [--draws 100] [--seed 0]

Run it with the virtual environment's Python (``.venv/bin/python``): it imports the
installed ``acsumgan`` package (an editable install of ``src/``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy

from acsumgan import __version__
from acsumgan.data.groundtruth import import_tvsum
from acsumgan.errors import AcsumganError
from acsumgan.evaluation.baselines import video_baseline
from acsumgan.evaluation.rank import METHODS
from acsumgan.fileio import write_json

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = [
    ROOT.parent / "shared" / "data" / "TVSum" / "ydata-tvsum50-anno.tsv.gz",
    ROOT / "tests" / "fixtures" / "tvsum" / "ydata-tvsum50-anno.tsv.gz",
]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "human_rank_correlation.json"

#: As printed in Otani et al., CVPR 2019 (TVSum, Table of rank correlations).
REPORTED_OTANI_2019 = {"human": {"kendall": 0.177, "spearman": 0.204}, "random": {"kendall": 0.000, "spearman": 0.000}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--anno",
        type=Path,
        default=None,
        help="TVSum annotation (.tsv, .tsv.gz or .mat); default: ../shared/data copy, else tests/fixtures",
    )
    ap.add_argument("--draws", type=int, default=100, help="random draws (default 100)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random draws (default 0)")
    ap.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT.relative_to(ROOT)})"
    )
    args = ap.parse_args(argv)
    if args.draws < 1 or args.seed < 0:
        ap.error("--draws must be >= 1 and --seed >= 0")
    anno = args.anno or next((p for p in CANDIDATES if p.exists()), CANDIDATES[-1])

    t0 = time.perf_counter()
    try:
        videos = import_tvsum(anno)
    except AcsumganError as exc:
        print(f"human_rank_correlation: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    t_import = time.perf_counter() - t0

    t1 = time.perf_counter()
    human = {k: video_baseline("human", v, "avg") for k, v in videos.items()}
    t_human = time.perf_counter() - t1
    t2 = time.perf_counter()
    rnd = {k: video_baseline("random", v, "avg", draws=args.draws, seed=args.seed) for k, v in videos.items()}
    t_random = time.perf_counter() - t2

    result = {
        "dataset": "TVSum (Song et al., CVPR 2015), 50 videos x 20 annotators, frame importance 1..5",
        "anno": os.path.relpath(anno, ROOT),
        "anno_sha256": hashlib.sha256(Path(anno).read_bytes()).hexdigest(),
        "protocol": "Otani et al., CVPR 2019: tau-b (scipy.stats.kendalltau) and rho (scipy.stats.spearmanr) "
        "per annotator at frame level, mean over annotators, then over videos",
        "n_videos": len(videos),
        "n_users": sorted({int(v.user_scores.shape[0]) for v in videos.values()}),
        "human_leave_one_out": {
            **{m: float(np.mean([human[k][m][0] for k in videos])) for m in METHODS},
            "per_video": {k: {m: float(human[k][m][0]) for m in METHODS} for k in videos},
        },
        "random": {
            "draws": args.draws,
            "seed": args.seed,
            **{m: float(np.mean(np.mean([rnd[k][m] for k in videos], axis=0))) for m in METHODS},
            **{f"{m}_std": float(np.std(np.mean([rnd[k][m] for k in videos], axis=0))) for m in METHODS},
        },
        "reported_otani_2019": REPORTED_OTANI_2019,
        "seconds": {"import": round(t_import, 3), "human": round(t_human, 3), "random": round(t_random, 3)},
        "versions": {
            "acsumgan": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
    }

    h, r = result["human_leave_one_out"], result["random"]
    print(f"TVSum rank correlation ({len(videos)} videos; {anno})")
    print(f"{'':28s}{'Kendall tau':>14s}{'Spearman rho':>14s}")
    print(f"{'human (leave-one-out)':28s}{h['kendall']:>14.4f}{h['spearman']:>14.4f}")
    print(
        f"{f'random ({args.draws} draws, seed {args.seed})':28s}"
        f"{r['kendall']:>8.4f}±{r['kendall_std']:.4f}{r['spearman']:>8.4f}±{r['spearman_std']:.4f}"
    )
    o = REPORTED_OTANI_2019
    print(f"{'reported (Otani 2019) human':28s}{o['human']['kendall']:>14.3f}{o['human']['spearman']:>14.3f}")
    print(f"{'reported (Otani 2019) random':28s}{o['random']['kendall']:>14.3f}{o['random']['spearman']:>14.3f}")
    print(f"time: import {t_import:.1f} s, human {t_human:.1f} s, random {t_random:.1f} s")
    try:
        write_json(args.out, result)
    except AcsumganError as exc:
        print(f"human_rank_correlation: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
