"""What a catalogue costs: CPU-seconds per hour of video, stage by stage.

The figures behind the cluster tutorial's sizing (docs/tutorials/cluster.md): one task of
``--executor ray`` runs exactly these stages, so a cluster's throughput is its cores
divided by these numbers (plus what a node spends waiting for its disk or network).

* **summary of one video** (``summarize_video`` with a model, what a Ray task of
  ``summarize`` runs; ``dataset build``'s task is the first two stages): a generated
  720p H.264 video at 30 fps (``video_speed.py``'s 60-second clip of moving, textured
  scenes, looped to ``--minutes``), in a fresh process with ``--threads`` threads. Per
  stage: wall seconds and CPU seconds (user + system of this process and of the part
  decoder processes it waits for), scaled to one hour of video.
* **training** (on the driver): one epoch of ``acsumgan train`` on a synthetic SumMe-like
  collection (its 25 videos, about an hour: the real step counts at 2 steps a second,
  1280-d features: the size of EfficientNet-Lite0's; one update of all of them), CPU
  seconds per epoch per hour of video trained on; a summarize run trains 20 epochs by default.

Usage::

    .venv/bin/python benchmarks/catalogue_cost.py [--minutes 10] [--threads 2]
        [--out benchmarks/results/catalogue_cost.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from video_speed import _model_checkpoint, loop_clip, write_clip  # noqa: E402  (the same video and model)


def _cpu() -> float:
    """CPU seconds so far of this process and of its children that ended."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def summary_stages(video: str, threads: int) -> dict:
    """Run in a fresh process: ``summarize_video`` with a model of default sizes, each stage timed."""
    from contextlib import contextmanager

    import torch

    from acsumgan.config import set_threads
    from acsumgan.inference import Scorer
    from acsumgan.summarize.backbones import get_backbone
    from acsumgan.summarize.options import SummarizeOptions
    from acsumgan.summarize.pipeline import summarize_video

    set_threads(threads)
    stages: dict[str, dict] = {}

    @contextmanager
    def observe(stage: str):
        c0, t0 = _cpu(), time.perf_counter()
        yield
        stages[stage] = {"wall_s": time.perf_counter() - t0, "cpu_s": _cpu() - c0}

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _model_checkpoint(tmp / "model.pt")
        c0, t0 = _cpu(), time.perf_counter()
        scorer = Scorer.load(tmp / "model.pt")
        backbone = get_backbone("efficientnet-lite0")
        stages["load model and backbone"] = {"wall_s": time.perf_counter() - t0, "cpu_s": _cpu() - c0}
        res = summarize_video(video, scorer, tmp / "summary", SummarizeOptions(backbone=backbone), observe=observe)
    return {"video_seconds": res.n_frames / res.fps, "stages": stages, "torch_threads": torch.get_num_threads()}


def training_epoch(work: Path, threads: int) -> dict:
    """CPU seconds of one epoch of ``acsumgan train`` on a synthetic SumMe-like collection."""
    import h5py

    data = work / "summe_like.h5"
    py = [sys.executable, "-m", "acsumgan"]
    subprocess.run(
        [*py, "dataset", "synth", "--profile", "summe", "--dim", "1280", "--out", str(data)],
        check=True,
        capture_output=True,
    )
    with h5py.File(data, "r") as h5:
        steps = sum(int(h5[k]["features"].shape[0]) for k in h5)
        n_videos = len(h5)
    hours = steps / 2.0 / 3600.0  # 2 steps a second
    runs = {}
    for epochs in (1, 2):  # the difference: one epoch without the start-up (imports, loading, the first scoring)
        c0, t0 = _cpu(), time.perf_counter()
        subprocess.run(
            [*py, "train", "--dataset", str(data), "--out", str(work / f"run{epochs}"), "--n_epochs", str(epochs)]
            + ["--threads", str(threads)],
            check=True,
            capture_output=True,
        )
        runs[epochs] = {"wall_s": time.perf_counter() - t0, "cpu_s": _cpu() - c0}
    epoch = {k: runs[2][k] - runs[1][k] for k in ("wall_s", "cpu_s")}
    return {
        "videos": n_videos,
        "video_hours": hours,
        "one_epoch": epoch,
        "start_up": {k: runs[1][k] - epoch[k] for k in ("wall_s", "cpu_s")},
        "cpu_s_per_video_hour_per_epoch": epoch["cpu_s"] / hours,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the generated 720p video")
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--out", default=str(HERE / "results" / "catalogue_cost.json"))
    ap.add_argument("--parts", default="summary,training", help="summary, training or both (the other kept from --out)")
    ap.add_argument("--stages-of", default=None, help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args()
    if args.stages_of:
        print(json.dumps(summary_stages(args.stages_of, args.threads)))
        return
    import torch

    parts = {p.strip() for p in args.parts.split(",")}
    earlier = json.loads(Path(args.out).read_text()) if Path(args.out).is_file() else {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        training = training_epoch(work, args.threads) if "training" in parts else earlier["training"]
        if "summary" in parts:
            clip = write_clip(work / "clip.mp4", (1280, 720), 60.0)
            video = work / "video.mp4"
            loop_clip(clip, video, args.minutes * 60)
            proc = subprocess.run(
                [sys.executable, __file__, "--stages-of", str(video), "--threads", str(args.threads)],
                capture_output=True,
                text=True,
                check=True,
            )
            summary = json.loads(proc.stdout.strip().splitlines()[-1])
        else:
            summary = {
                "video_seconds": earlier["video_seconds"],
                "stages": {k: {"wall_s": v["wall_s"], "cpu_s": v["cpu_s"]} for k, v in earlier["stages"].items()},
            }
    per_hour = 3600.0 / summary["video_seconds"]
    stages = {
        name: {
            "wall_s": s["wall_s"],
            "cpu_s": s["cpu_s"],
            "cpu_s_per_video_hour": s["cpu_s"] * per_hour,
            "wall_s_per_video_hour": s["wall_s"] * per_hour,
        }
        for name, s in summary["stages"].items()
        if name != "total"
    }
    build = ("decode_features", "kts")
    summary_cpu = sum(s["cpu_s_per_video_hour"] for n, s in stages.items() if n != "load model and backbone")
    result = {
        "benchmark": "catalogue_cost",
        "command": "python benchmarks/catalogue_cost.py " + " ".join(sys.argv[1:]),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "threads": args.threads,
            "torch": torch.__version__,
            "device": "cpu",
            "load_average_1min": os.getloadavg()[0],
        },
        "video": f"1280x720, 30 fps, {summary['video_seconds']:.0f} s (generated)",
        "video_seconds": summary["video_seconds"],
        "stages": stages,
        "per_video_hour": {
            "dataset_build_cpu_s": sum(stages[n]["cpu_s_per_video_hour"] for n in build if n in stages),
            "summary_cpu_s": summary_cpu,
            "summary_wall_s_at_threads": sum(
                s["wall_s_per_video_hour"] for n, s in stages.items() if n != "load model and backbone"
            ),
            "training_cpu_s_per_epoch": training["cpu_s_per_video_hour_per_epoch"],
        },
        "training": training,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"{'stage':<26}{'wall s':>9}{'CPU s':>9}{'CPU s / video-hour':>22}")
    for name, s in stages.items():
        print(f"{name:<26}{s['wall_s']:>9.2f}{s['cpu_s']:>9.2f}{s['cpu_s_per_video_hour']:>22.0f}")
    p = result["per_video_hour"]
    print(
        f"per video-hour: dataset build {p['dataset_build_cpu_s']:.0f} CPU-s, summary {p['summary_cpu_s']:.0f} CPU-s, "
        f"training {p['training_cpu_s_per_epoch']:.1f} CPU-s per epoch"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
