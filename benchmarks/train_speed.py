"""Training throughput: the batched trainer against the per-video implementation.

For the SumMe and TVSum profiles of the synthetic data (all training videos of split
0 of a seeded 80/20 split: 20 and 40 videos), measures in one run:

* seconds per epoch of the batched trainer (acsumgan.train.update.train_step, all
  training videos in one update, as the release is run) — median of --epochs epochs
  after --warmup warm-up epochs;
* seconds per epoch of the straightforward per-video implementation of the same
  update (tests/reference.py, the one the equivalence test uses) — median of
  --ref-epochs epochs;
* their ratio (speedup), the peak memory (max RSS of a fresh process doing only that
  profile's batched epochs), the epoch's arithmetic counted from the shapes divided by
  the time as a fraction of this machine's measured float32 matrix-multiply peak
  (torch.mm on 4096 x 4096), the time to evaluate all test videos of the split (one
  batch) and the time to load a checkpoint.

Usage::

    .venv/bin/python benchmarks/train_speed.py [--out benchmarks/results/train_speed.json]
        [--profiles summe,tvsum] [--epochs 3] [--warmup 1] [--ref-epochs 1] [--device cpu|cuda]

Targets (issue "Performance", 2 CPU cores, float32): <= 30 s per SumMe-profile epoch,
>= 6x faster than per-video on SumMe, <= 6 GiB peak on TVSum, >= 40 % of the matmul peak.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import torch

from acsumgan.config import TrainConfig
from acsumgan.data.splits import make_random_splits
from acsumgan.fileio import write_json
from acsumgan.model.episode import (
    make_batch,
    score_videos,
)
from acsumgan.model.networks import ACSumGAN
from acsumgan.synthetic.dataset import PROFILES, synth_dataset
from acsumgan.train.checkpoint import load_model, save_checkpoint
from acsumgan.train.update import Optimizers, make_draws, train_step


def matmul_peak(device: str, n: int = 4096, reps: int = 5) -> float:
    """Measured float32 GFLOP/s of torch.mm on n x n matrices (median)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    times = []
    for _ in range(reps + 1):
        _sync(device)
        t = time.perf_counter()
        a @ b
        _sync(device)
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times[1:]) / 1e9


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def lstm_flops(steps: int, inp: int, hidden: int) -> float:
    """Matrix-multiply FLOPs of one LSTM layer forward over ``steps`` steps."""
    return 2.0 * steps * 4 * hidden * (inp + hidden)


def epoch_flops(lengths: list[int], picks_new: float, D: int = 1024, H: int = 512, L: int = 2) -> float:
    """Arithmetic of one epoch counted from the shapes (method.md section 6).

    Forward matmul FLOPs of every network call of the four phases, plus 2x forward for
    each call on a differentiated path (the usual 3x rule for forward + backward).
    ``picks_new`` = mean number of distinct picks per video (rewards computed).
    """
    n = float(sum(lengths))
    compress = 2 * n * D * H
    slstm = sum(2 * lstm_flops(n, H if layer == 0 else 2 * H, H) for layer in range(L)) + 2 * n * 2 * H
    uni = sum(lstm_flops(n, H, H) for _ in range(L))  # eLSTM or cLSTM
    dec = L * lstm_flops(n, H, H) + 2 * n * H * H
    phase1 = compress + slstm + uni + 3 * (uni + dec + uni)  # x, s, phi(x) no grad; e, d, c on the grad path
    phase2 = uni + 3 * (dec + uni)  # x, s, phi(x) shared with phase 1; eLSTM no grad
    phase3 = 3 * (compress + uni) + uni + dec + 3 * uni  # L_orig with grad; summary no grad; L_sum with grad
    rewards = picks_new * (uni + dec + uni) + uni
    phase4 = 3 * (compress + slstm) + rewards
    return phase1 + phase2 + phase3 + phase4


def _setup(profile: str, device: str, seed: int = 0):
    videos = synth_dataset(profile, seed=seed)
    keys = [v.key for v in videos]
    split = make_random_splits(keys, 1, 0.2, seed=seed)[0]
    by_key = {v.key: v for v in videos}
    train = [by_key[k] for k in split["train_keys"]]
    test = [by_key[k] for k in split["test_keys"]]
    return train, test


def worker(profile: str, impl: str, epochs: int, warmup: int, device: str) -> dict:
    """Measure one profile with one implementation in this (fresh) process."""
    torch.manual_seed(0)
    cfg = TrainConfig(device=device, input_size=1024)
    train, test = _setup(profile, device)
    model = ACSumGAN(**cfg.model_kwargs()).to(device)
    opts = Optimizers(model, cfg.lr, cfg.discriminator_lr)
    gen = torch.Generator().manual_seed(0)
    feats = [v.features for v in train]
    batch = make_batch(feats, [v.key for v in train], cfg.action_state_size, device)
    times = []
    if impl == "batched":
        for i in range(warmup + epochs):
            draws = make_draws(gen, batch, cfg.num_layers, cfg.hidden_size, device)
            _sync(device)
            t = time.perf_counter()
            train_step(model, opts, batch, draws, cfg)
            _sync(device)
            if i >= warmup:
                times.append(time.perf_counter() - t)
        out = {"s_per_epoch": statistics.median(times), "epochs_timed": times}
        # evaluation of all test videos (one batch) and loading a checkpoint
        tb = make_batch([v.features for v in test], [v.key for v in test], cfg.action_state_size, device)
        u = torch.rand(tb.N, tb.size, generator=gen, dtype=torch.float64).to(device)
        score_videos(model, tb, "sample", u)
        _sync(device)
        t = time.perf_counter()
        score_videos(model, tb, "sample", u)
        _sync(device)
        out["eval_s"] = time.perf_counter() - t
        with tempfile.TemporaryDirectory() as d:
            save_checkpoint(Path(d) / "m.pt", model, cfg, 0)
            t = time.perf_counter()
            load_model(Path(d) / "m.pt", device)
            out["load_s"] = time.perf_counter() - t
        # distinct picks per video of the last update (for the FLOP count)
        from acsumgan.model.episode import fragment_state, run_episode

        with torch.no_grad():
            x = model.compress(batch.features)
            s = model.s_lstm(x, batch.lengths)
            ep = run_episode(model.actor, fragment_state(s, batch), batch, draws.u[3])
        out["distinct_picks"] = float(ep.new.sum(0).float().mean())
    else:
        from acsumgan.train.reference import reference_train_step

        ordered = [torch.as_tensor(feats[i]).to(device) for i in batch.order]
        for _ in range(epochs):
            draws = make_draws(gen, batch, cfg.num_layers, cfg.hidden_size, device)
            _sync(device)
            t = time.perf_counter()
            reference_train_step(model, opts, ordered, draws, cfg)
            _sync(device)
            times.append(time.perf_counter() - t)
        out = {"s_per_epoch": statistics.median(times), "epochs_timed": times}
    out["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    if device.startswith("cuda"):
        out["peak_cuda_gib"] = torch.cuda.max_memory_allocated() / 2**30
    out["lengths"] = [int(n) for n in batch.lengths.tolist()]
    return out


def run_worker(profile: str, impl: str, epochs: int, warmup: int, device: str) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        profile,
        impl,
        "--epochs",
        str(epochs),
        "--warmup",
        str(warmup),
        "--device",
        device,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    if proc.returncode != 0:
        raise SystemExit(f"worker {profile}/{impl} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "train_speed.json"))
    ap.add_argument("--profiles", default="summe,tvsum")
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs of the batched trainer")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--ref-epochs", type=int, default=1, help="timed epochs of the per-video implementation")
    ap.add_argument("--skip-reference", action="store_true", help="only the batched trainer")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--worker", nargs=2, metavar=("PROFILE", "IMPL"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], args.epochs, args.warmup, args.device)))
        return

    peak = matmul_peak(args.device)
    print(f"device {args.device}, {torch.get_num_threads()} threads, matmul peak {peak:.0f} GFLOP/s", flush=True)
    result = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "device": args.device,
            "gpu": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else None,
            "torch": str(torch.__version__),
        },
        "matmul_peak_gflops": peak,
        "command": "python benchmarks/train_speed.py " + " ".join(sys.argv[1:]),
    }
    for profile in [p for p in args.profiles.split(",") if p]:
        if profile not in PROFILES:
            raise SystemExit(f"unknown profile {profile}")
        b = run_worker(profile, "batched", args.epochs, args.warmup, args.device)
        flops = epoch_flops(b["lengths"], b["distinct_picks"])
        entry = {
            "train_videos": len(b["lengths"]),
            "train_steps": sum(b["lengths"]),
            "batched_s_per_epoch": b["s_per_epoch"],
            "batched_epochs_timed": b["epochs_timed"],
            "peak_memory_gib": b["peak_rss_gib"],
            "epoch_tflop": flops / 1e12,
            "achieved_gflops": flops / b["s_per_epoch"] / 1e9,
            "fraction_of_matmul_peak": flops / b["s_per_epoch"] / 1e9 / peak,
            "eval_s": b["eval_s"],
            "checkpoint_load_s": b["load_s"],
            "distinct_picks_per_video": b["distinct_picks"],
        }
        if "peak_cuda_gib" in b:
            entry["peak_cuda_memory_gib"] = b["peak_cuda_gib"]
        print(
            f"[{profile}] batched {entry['batched_s_per_epoch']:.2f} s/epoch, peak {entry['peak_memory_gib']:.2f} "
            f"GiB, {entry['epoch_tflop']:.2f} TFLOP -> {entry['achieved_gflops']:.0f} GFLOP/s "
            f"({100 * entry['fraction_of_matmul_peak']:.0f} % of peak); eval {entry['eval_s']:.2f} s, "
            f"load {entry['checkpoint_load_s']:.2f} s",
            flush=True,
        )
        if not args.skip_reference:
            r = run_worker(profile, "per-video", args.ref_epochs, 0, args.device)
            entry["per_video_s_per_epoch"] = r["s_per_epoch"]
            entry["per_video_epochs_timed"] = r["epochs_timed"]
            entry["speedup"] = r["s_per_epoch"] / b["s_per_epoch"]
            print(
                f"[{profile}] per-video {r['s_per_epoch']:.1f} s/epoch -> speedup {entry['speedup']:.1f}x", flush=True
            )
        result[profile] = entry
    print(f"wrote {write_json(args.out, result)}")


if __name__ == "__main__":
    main()
