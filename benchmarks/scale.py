"""Memory that does not grow with the collection (issue 26): time and peak memory against size.

Two parts, each size in a fresh process (its peak resident size from ``wait4``, its wall time):

* ``train``: ``acsumgan train`` for one epoch with a fixed ``--batch_size`` on synthetic
  collections of 100, 1,000 and 5,000 videos (SumMe step counts in turn, 256-d features,
  every schema field), generated here into a temporary folder, one video group at a
  time (never the collection in memory). Checks: time about linear in the videos (the
  time per video of the added videos, 100 -> 1,000 then 1,000 -> 5,000, grows by at most
  25 %) and peak memory within 10 % across the sizes.
* ``build``: ``acsumgan dataset build`` of 10, 100 and 1,000 short generated clips (about
  1.5 s of 96x64, 25 fps). Same checks.

Prints a table, saves JSON (``--out``) and a plot of time and peak memory against the size
(``--plot``). ``--hidden-size`` (default 64, not the paper's 512) keeps the 5,000-video
epoch to minutes on a laptop: memory depends on it through the batch, not the collection.

    python benchmarks/scale.py
    python benchmarks/scale.py --parts build --build-sizes 5,10
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE_TIME = 0.25
TOLERANCE_MEMORY = 0.10


def machine(threads: int) -> dict:
    import torch

    return {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "threads": threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def measure(argv: list[str], log: Path) -> dict:
    """Run ``argv`` in a process of its own: wall seconds, peak resident MiB, exit status."""
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} ... failed ({proc.returncode}); see {log}:\n{log.read_text()[-2000:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


# --- collections ------------------------------------------------------------------------


def write_collection(path: Path, n: int, dim: int, seed: int = 0) -> Path:
    """A synthetic SumMe-profile file of ``n`` videos (the 25 SumMe step counts in turn),
    written one video group at a time."""
    from acsumgan.data.dataset import write_video
    from acsumgan.synthetic.dataset import PROFILES, make_video

    spec = PROFILES["summe"]
    steps, (lo, hi) = spec["steps"], spec["users"]
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".part")
    with h5py.File(tmp, "w") as h5:
        h5.attrs["profile"], h5.attrs["eval_metric"] = "summe", spec["metric"]
        for i in range(n):
            users = int(rng.integers(lo, hi + 1))
            v = make_video(
                np.random.default_rng([seed, i]), f"video_{i + 1}", steps[i % len(steps)], users, "summe", dim
            )
            write_video(h5, v)
    tmp.rename(path)
    return path


def copy_first(src: Path, dst: Path, n: int) -> Path:
    """The first ``n`` videos of ``src`` (a prefix of the same collection), group by group."""
    with h5py.File(src, "r") as a, h5py.File(dst, "w") as b:
        for k, v in a.attrs.items():
            b.attrs[k] = v
        for i in range(n):
            a.copy(a[f"video_{i + 1}"], b, f"video_{i + 1}")
    return dst


def write_clips(folder: Path, n: int) -> Path:
    """``n`` short clips of three scenes (about 1.5 s at 25 fps, 96x64), one file each."""
    from acsumgan.synthetic.media import scene_video

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        lengths = [12 + i % 5, 13, 12 + (i // 5) % 3]
        scene_video(folder / f"clip_{i:05d}.mp4", lengths, fps=25, size=(96, 64), fmt="mp4")
    return folder


# --- the parts --------------------------------------------------------------------------


def run_train(sizes: list[int], work: Path, args) -> list[dict]:
    largest = max(sizes)
    t0 = time.perf_counter()
    full = write_collection(work / f"collection_{largest}.h5", largest, args.dim)
    print(f"generated {largest:,} videos in {time.perf_counter() - t0:.0f} s ({full.stat().st_size / 2**30:.2f} GiB)")
    rows = []
    for n in sizes:
        data = full if n == largest else copy_first(full, work / f"collection_{n}.h5", n)
        argv = [
            sys.executable,
            "-m",
            "acsumgan",
            "train",
            "--dataset",
            str(data),
            "--out",
            str(work / f"run_{n}"),
            "--n_epochs",
            "1",
            "--batch_size",
            str(args.batch_size),
            "--hidden_size",
            str(args.hidden_size),
            "--threads",
            str(args.threads),
            "--seed",
            "0",
        ]
        r = {"videos": n, **measure(argv, work / f"train_{n}.log")}
        r["updates"] = n // args.batch_size
        r["seconds_per_video"] = round(r["seconds"] / n, 4)
        rows.append(r)
        print(f"train {n:>6,} videos: {r['seconds']:8.1f} s  {r['peak_rss_mib']:7.0f} MiB peak", flush=True)
        if data != full:
            data.unlink()
        shutil.rmtree(work / f"run_{n}", ignore_errors=True)
    return rows


def run_build(sizes: list[int], work: Path, args) -> list[dict]:
    rows = []
    for n in sizes:
        clips = write_clips(work / f"clips_{n}", n)
        argv = [
            sys.executable,
            "-m",
            "acsumgan",
            "dataset",
            "build",
            str(clips),
            "--out",
            str(work / f"built_{n}.h5"),
            "--threads",
            str(args.threads),
        ]
        r = {"videos": n, **measure(argv, work / f"build_{n}.log")}
        r["seconds_per_video"] = round(r["seconds"] / n, 4)
        rows.append(r)
        print(f"build {n:>6,} videos: {r['seconds']:8.1f} s  {r['peak_rss_mib']:7.0f} MiB peak", flush=True)
        shutil.rmtree(clips, ignore_errors=True)
        (work / f"built_{n}.h5").unlink(missing_ok=True)
    return rows


def checks(rows: list[dict]) -> dict:
    """Time about linear in the videos and memory flat (peak within TOLERANCE_MEMORY of the
    smallest). Linear: the seconds per added video between successive sizes do not grow by
    more than TOLERANCE_TIME (a cost per video that grows with the collection, e.g. a file
    rewritten per video, is what this catches; a cost per video that falls, as a fixed
    start-up is spread over more videos, is not a failure). ``spread``: how far apart the
    two are, either way."""
    out: dict = {}
    if len(rows) >= 2:
        added = [(b["seconds"] - a["seconds"]) / (b["videos"] - a["videos"]) for a, b in zip(rows[:-1], rows[1:])]
        out["seconds_per_added_video"] = [round(x, 4) for x in added]
        spread = max(added) / min(added) - 1 if min(added) > 0 else float("inf")
        growth = max((b / a - 1 for a, b in zip(added[:-1], added[1:])), default=0.0) if min(added) > 0 else 0.0
        out["time_linear"] = {"spread": round(spread, 3), "growth": round(growth, 3), "ok": growth <= TOLERANCE_TIME}
    peaks = [r["peak_rss_mib"] for r in rows]
    growth = max(peaks) / min(peaks) - 1
    out["memory_flat"] = {"growth": round(growth, 3), "ok": growth <= TOLERANCE_MEMORY}
    return out


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [p for p in ("train", "build") if p in results]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for part, marker in zip(parts, "os"):
        rows = results[part]["rows"]
        n = [r["videos"] for r in rows]
        axes[0].plot(n, [r["seconds"] for r in rows], marker=marker, label=part)
        axes[1].plot(n, [r["peak_rss_mib"] for r in rows], marker=marker, label=part)
    for ax, title in zip(axes, ("wall time (s)", "peak resident memory (MiB)")):
        ax.set_xscale("log")
        ax.set_xlabel("videos in the collection")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_yscale("log")
    axes[1].set_ylim(bottom=0)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    tmp.replace(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", default="train,build", help="train, build or both (comma-separated)")
    ap.add_argument("--train-sizes", default="100,1000,5000")
    ap.add_argument("--build-sizes", default="10,100,1000")
    ap.add_argument("--batch-size", type=int, default=20)
    ap.add_argument("--hidden-size", type=int, default=64)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--work", default=None, help="folder for the generated files (default: a temporary one)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "scale.json"))
    ap.add_argument("--plot", default=str(ROOT / "docs" / "img" / "scale.png"))
    args = ap.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="acsumgan-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "command": "python benchmarks/scale.py " + " ".join(sys.argv[1:]),
        "machine": machine(args.threads),
        "settings": {"batch_size": args.batch_size, "hidden_size": args.hidden_size, "dim": args.dim},
    }
    try:
        if "train" in parts:
            rows = run_train(sorted(int(x) for x in args.train_sizes.split(",")), work, args)
            results["train"] = {"rows": rows, "checks": checks(rows)}
        if "build" in parts:
            rows = run_build(sorted(int(x) for x in args.build_sizes.split(",")), work, args)
            results["build"] = {"rows": rows, "checks": checks(rows)}
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    for part in ("train", "build"):
        if part in results:
            print(f"{part}: {json.dumps(results[part]['checks'])}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():  # a part not run this time keeps its earlier results
        earlier = json.loads(out.read_text())
        for part in ("train", "build"):
            if part not in results and part in earlier:
                results[part] = {**earlier[part], "command": earlier.get("command"), "machine": earlier.get("machine")}
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n")
    tmp.replace(out)
    plot(results, Path(args.plot))
    print(f"wrote {out} and {args.plot}")


if __name__ == "__main__":
    main()
