"""KTS speed: the vectorised implementation against a plain loop-based DP.

Input: a synthetic video-like signal, ``--steps`` steps (default 1200, a 10-minute
video at 2 steps per second) of ``--dim``-d features (default 1280, EfficientNet-
Lite0) made of ``--segments`` piecewise-constant segments plus Gaussian noise.

Timed (median of ``--repeats`` runs):

* ``kts``: :func:`acsumgan.summarize.kts.kts` as used by the pipeline (vectorised DP
  rows, exact early stop);
* ``kts_all_rows``: the same with the early stop off (every DP row up to n-1);
* ``reference``: written here, the straightforward DP of the same cost function,
  Python loops over the number of change points and the segment end, the inner
  minimum over the segment start as one numpy expression, all rows up to n-1
  (the shape of the original KTS code); run once (it is slow).

Checks that all three give the same change points (and the true ones).

Scaling (``--scaling``, default 1200,7200,14400 steps: 10 minutes, 1 hour and 2 hours
at 2 steps per second): :func:`acsumgan.summarize.kts.kts` as the pipeline calls it (one
exact run up to 2,400 steps, windows beyond) on shots of 4-60 steps (2-30 s), its
seconds, its peak memory (NumPy's allocations, traced with tracemalloc), the number of
windows, and for each length the time and memory relative to the first length
divided by the length ratio (1.0: linear growth; above the window size the
time ratio stays near 1 and memory stays flat). The exact single run's memory at
each length (a few (n+1) x (n+1) float64 arrays) is given for comparison.

Prints a summary and writes JSON (``--out``, default benchmarks/results/kts_speed.json).

    .venv/bin/python benchmarks/kts_speed.py [--steps 1200] [--dim 1280] [--repeats 7] [--scaling 1200,7200,14400]

Run it with the virtual environment's Python (``.venv/bin/python``): it imports the
installed ``acsumgan`` package (an editable install of ``src/``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from acsumgan import __version__
from acsumgan.fileio import write_json
from acsumgan.summarize.kts import kts, kts_segment, windows

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "kts_speed.json"


def make_signal(steps: int, dim: int, segments: int, noise: float, seed: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    bounds = np.sort(rng.choice(np.arange(1, steps), segments - 1, replace=False))
    seg = np.searchsorted(bounds, np.arange(steps), side="right")
    means = rng.standard_normal((segments, dim))
    x = means[seg] + noise * rng.standard_normal((steps, dim))
    return x.astype(np.float32), bounds.tolist()


def reference_kts(features: np.ndarray, vmax: float = 1.0) -> list[int]:
    """Plain DP of the same cost (within-segment variance of the cosine kernel)."""
    x = features.astype(np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.where(norms > 0, norms, 1.0)
    K = (x @ x.T).astype(np.float64)
    n = K.shape[0]
    S = np.zeros((n + 1, n + 1))
    S[1:, 1:] = K.cumsum(0).cumsum(1)
    D = np.concatenate([[0.0], np.cumsum(np.diag(K))])
    dS = np.diag(S).copy()

    def cost_to(t: int, first: int) -> np.ndarray:
        """v(s, t) for s = first .. t-1."""
        s = np.arange(first, t)
        c = (D[t] - D[s]) - (dS[t] - 2.0 * S[t, s] + dS[s]) / (t - s)
        return np.maximum(c, 0.0)

    I = np.full((n, n + 1), np.inf)
    B = np.zeros((n, n + 1), dtype=np.int64)
    for t in range(1, n + 1):
        I[0, t] = cost_to(t, 0)[0]
    for m in range(1, n):
        for t in range(m + 1, n + 1):
            v = I[m - 1, m:t] + cost_to(t, m)
            j = int(np.argmin(v))
            I[m, t] = v[j]
            B[m, t] = m + j
    ms = np.arange(n, dtype=np.float64)
    with np.errstate(divide="ignore"):
        pen = np.where(ms > 0, vmax * ms / (2.0 * n) * (np.log(n / np.maximum(ms, 1)) + 1.0), 0.0)
    m_best = int(np.argmin(I[:, n] / n + pen))
    cps, t = [], n
    for m in range(m_best, 0, -1):
        t = int(B[m, t])
        cps.append(t)
    return sorted(cps)


def median_time(fn, repeats: int) -> tuple[float, list[float], object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), times, out


def shots_signal(steps: int, dim: int, seed: int) -> np.ndarray:
    """Shots of 4-60 steps, each a random direction plus noise of 0.3-1.0 of it."""
    rng = np.random.default_rng(seed)
    x = np.empty((steps, dim), np.float32)
    t = 0
    while t < steps:
        n = min(int(rng.integers(4, 61)), steps - t)
        x[t : t + n] = rng.standard_normal(dim) + rng.uniform(0.3, 1.0) * rng.standard_normal((n, dim))
        t += n
    return x


def scaling(lengths: list[int], dim: int, seed: int) -> dict:
    """Seconds and peak traced memory of kts() at each length; ratios per unit length."""
    rows = {}
    for n in lengths:
        x = shots_signal(n, dim, seed)
        tracemalloc.start()
        t = time.perf_counter()
        cps = kts(x)
        seconds = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows[str(n)] = {
            "seconds": seconds,
            "peak_mib": peak / 2**20,
            "windows": len(windows(n)) if n > 2400 else 1,
            "change_points": int(len(cps)),
            "exact_single_run_array_mib": (n + 1) ** 2 * 8 / 2**20,
        }
    base = lengths[0]
    for prev, n in zip([lengths[0], *lengths], lengths):
        r = rows[str(n)]
        r["time_per_step_vs_first"] = (r["seconds"] / n) / (rows[str(base)]["seconds"] / base)
        r["time_per_step_vs_previous"] = (r["seconds"] / n) / (rows[str(prev)]["seconds"] / prev)
        r["memory_vs_first"] = r["peak_mib"] / rows[str(base)]["peak_mib"]
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--dim", type=int, default=1280)
    ap.add_argument("--segments", type=int, default=40)
    ap.add_argument("--noise", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-reference", action="store_true", help="skip the slow loop-based reference")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--scaling", default="1200,7200,14400", help="lengths (steps) of the scaling runs; '' skips them")
    args = ap.parse_args(argv)

    x, truth = make_signal(args.steps, args.dim, args.segments, args.noise, args.seed)
    kts_segment(x)  # warm up (first-touch of memory, BLAS threads)
    fast_s, fast_times, fast = median_time(lambda: kts_segment(x), args.repeats)
    full_s, full_times, full = median_time(lambda: kts_segment(x, early_stop=False), max(1, args.repeats // 2))
    result = {
        "benchmark": "kts_speed",
        "acsumgan": __version__,
        "input": {
            "steps": args.steps,
            "dim": args.dim,
            "segments": args.segments,
            "noise": args.noise,
            "seed": args.seed,
        },
        "kts": {
            "median_s": fast_s,
            "times_s": fast_times,
            "dp_rows": fast.rows_computed,
            "n_change_points": fast.n_change_points,
        },
        "kts_all_rows": {"median_s": full_s, "times_s": full_times, "dp_rows": full.rows_computed},
        "found_true_change_points": fast.change_points.tolist() == truth,
        "same_as_all_rows": fast.change_points.tolist() == full.change_points.tolist(),
    }
    if not args.no_reference:
        t = time.perf_counter()
        ref = reference_kts(x)
        ref_s = time.perf_counter() - t
        result["reference"] = {"seconds": ref_s, "dp_rows": args.steps}
        result["same_as_reference"] = fast.change_points.tolist() == ref
        result["speedup_vs_reference"] = ref_s / fast_s
        result["speedup_all_rows_vs_reference"] = ref_s / full_s
    if args.scaling:
        result["scaling"] = scaling([int(v) for v in args.scaling.split(",")], args.dim, args.seed)
    result["machine"] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
    }
    result["date"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")

    print(f"KTS on {args.steps} steps x {args.dim} dims ({args.segments} true segments, noise {args.noise})")
    print(
        f"  kts (early stop):  {fast_s * 1000:8.1f} ms median of {args.repeats}  ({fast.rows_computed} DP rows, "
        f"{fast.n_change_points} change points, true ones found: {result['found_true_change_points']})"
    )
    print(f"  kts (all rows):    {full_s * 1000:8.1f} ms  (same answer: {result['same_as_all_rows']})")
    if "reference" in result:
        print(
            f"  loop reference:    {result['reference']['seconds'] * 1000:8.1f} ms  (same answer: {result['same_as_reference']})"
        )
        print(
            f"  speed-up: {result['speedup_vs_reference']:.0f}x (all rows: {result['speedup_all_rows_vs_reference']:.0f}x)"
        )
    for n, r in result.get("scaling", {}).items():
        print(
            f"  kts at {int(n):6d} steps: {r['seconds']:7.2f} s, peak {r['peak_mib']:7.1f} MiB, "
            f"{r['windows']} window(s); per step {r['time_per_step_vs_first']:.2f}x (vs the previous length "
            f"{r['time_per_step_vs_previous']:.2f}x), memory {r['memory_vs_first']:.2f}x those at "
            f"{args.scaling.split(',')[0]} steps "
            f"(one exact run: {r['exact_single_run_array_mib']:.0f} MiB per array)"
        )
    print(f"  load average during the run: {result['machine']['load_average_1min']:.2f} on {os.cpu_count()} CPUs")
    write_json(args.out, result)
    print(f"wrote {args.out}")
    ok = result["same_as_all_rows"] and result.get("same_as_reference", True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
