"""End-to-end speed of `acsumgan summarize` on a 10-minute video, stage by stage.

The input is ../shared/data/videos/vtest.avi (768x576, 10 fps, 79.5 s) looped to
--minutes minutes by copying its packets (no re-encoding). The model is a real
AC-SUM-GAN with the default sizes and 1280-d inputs (the default backbone's
features), saved and loaded as a checkpoint like a trained one; scoring costs the
same whatever the weights. Stages: decode + features (EfficientNet-Lite0), KTS
shots, scoring, selection, encoding the summary, writing segments.json and
scores.png. Prints and saves (JSON) each stage's seconds and the whole run as a
multiple of real time (target: >= 10x on 2 CPU cores).

Usage::

    .venv/bin/python benchmarks/video_speed.py [--minutes 10] [--out benchmarks/results/video_speed.json]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import av
import torch

ROOT = Path(__file__).resolve().parents[1]
VTEST = ROOT.parent / "shared" / "data" / "videos" / "vtest.avi"


def loop_video(src: Path, dst: Path, seconds: float) -> float:
    """Copy ``src``'s video packets again and again until ``seconds``; returns the duration."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="avi") as out:
        ist = inp.streams.video[0]
        ost = out.add_stream_from_template(ist)
        packets = [p for p in inp.demux(ist) if p.size > 0 and p.pts is not None]
        step = packets[1].pts - packets[0].pts
        period = packets[-1].pts - packets[0].pts + step
        n_loops = 0
        end = 0
        while end * ist.time_base < seconds:
            for p in packets:
                p.pts = p.pts + (period if n_loops else 0)
                p.dts = p.pts
                if p.pts * ist.time_base >= seconds:
                    break
                p.stream = ost
                out.mux(p)
                end = p.pts + step
            n_loops += 1
        return float(end * ist.time_base)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--video", type=Path, default=VTEST)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "video_speed.json"))
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    from acsumgan.config import TrainConfig
    from acsumgan.fileio import write_json
    from acsumgan.inference import Scorer
    from acsumgan.model.networks import ACSumGAN
    from acsumgan.train.checkpoint import save_checkpoint
    from acsumgan.video.backbones import get_backbone
    from acsumgan.video.summarize import summarize_video

    if not args.video.exists():
        raise SystemExit(f"{args.video}: not found (the sample videos live in ../shared/data/videos)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        long_video = tmp / "long.avi"
        duration = loop_video(args.video, long_video, args.minutes * 60)
        torch.manual_seed(0)
        cfg = TrainConfig(input_size=1280)
        save_checkpoint(
            tmp / "model.pt", ACSumGAN(**cfg.model_kwargs()), cfg, 0, extra={"feature_backbone": "efficientnet-lite0"}
        )
        t0 = time.perf_counter()
        scorer = Scorer.load(tmp / "model.pt", device=args.device)
        backbone = get_backbone("efficientnet-lite0", device=args.device)
        load_s = time.perf_counter() - t0
        res = summarize_video(long_video, scorer, tmp / "summary", backbone=backbone, device=args.device)
        total = load_s + res.timings["total"]
        stages = {"load model and backbone": load_s, **{k: v for k, v in res.timings.items() if k != "total"}}
        out = {
            "video": f"{args.video.name} looped to {duration:.1f} s ({res.n_frames} frames, "
            f"{res.extracted.width}x{res.extracted.height}, {res.fps:g} fps)",
            "steps": int(res.features.shape[0]),
            "shots": int(len(res.change_points)),
            "selected_shots": len(res.selected),
            "summary_seconds": res.summary_seconds,
            "stages_s": stages,
            "total_s": total,
            "times_real_time": duration / total,
            "machine": {
                "platform": platform.platform(),
                "cpu_count": os.cpu_count(),
                "torch_threads": torch.get_num_threads(),
                "device": args.device,
            },
            "command": "python benchmarks/video_speed.py " + " ".join(sys.argv[1:]),
        }
    print(out["video"])
    for k, v in stages.items():
        print(f"  {k:26s} {v:7.2f} s")
    print(f"  {'total':26s} {total:7.2f} s  ->  {out['times_real_time']:.1f}x faster than real time")
    print(f"wrote {write_json(args.out, out)}")


if __name__ == "__main__":
    main()
