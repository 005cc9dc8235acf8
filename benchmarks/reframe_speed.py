"""What reframing costs: `acsumgan summarize` of the 10-minute 720p video with and without
`--aspect 9:16` (issue 25: at most +30 %).

The video is benchmarks/video_speed.py's 720p-10m case (a generated 60-second clip of moving,
textured scenes, looped by copying its packets to 10 minutes; nothing is committed). The
whole command, ``python -m acsumgan summarize VIDEO --model MODEL.pt --out OUT`` (review page
included; the model: a real AC-SUM-GAN of the default sizes, as video_speed.py makes it), is
timed in a fresh process each time, the two variants alternating in the same run (``--reps``
times each): ``keep`` (no ``--aspect``) and ``9:16`` (``--aspect 9:16``: follow). Both make
the saliency maps in the extraction pass (about 2 ms a step); the ``9:16`` run adds the
planning of the windows and the crop of every written frame. With ``--against SRC``
(another checkout's ``src``, e.g. main's before reframing) a third variant times that code
without ``--aspect``. Records the median seconds of each, the ratio 9:16 / keep and the
stage "reframe" of the summary (from summarize.log). Usage::

    .venv/bin/python benchmarks/reframe_speed.py [--reps 2] [--keep DIR] [--against SRC]
        [--out benchmarks/results/reframe_speed.json]
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from video_speed import CASES, _model_checkpoint, loop_clip, write_clip  # noqa: E402

TARGET_RATIO = 1.30


def make_video(work: Path) -> tuple[Path, float]:
    case = CASES["720p-10m"]
    video = work / "720p-10m.mp4"
    if not video.exists():
        clip = write_clip(work / "clip-720p.mp4", case["size"])
        loop_clip(clip, video, case["seconds"])
    import av

    with av.open(str(video)) as c:
        duration = float(c.duration / 1_000_000)
    return video, duration


def run(video: Path, model: Path, out: Path, src: Path, aspect: str | None, device: str) -> float:
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-m", "acsumgan", "summarize", str(video), "--model", str(model), "--out", str(out)]
    cmd += ["--device", device] + (["--aspect", aspect] if aspect else [])
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=2, help="runs of each variant (alternating)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "reframe_speed.json"))
    ap.add_argument("--keep", type=Path, default=None, help="keep the generated video in this folder")
    ap.add_argument("--against", type=Path, default=None, help="another checkout's src: a third variant")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="reframe-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    video, duration = make_video(work)
    model = _model_checkpoint(work / "model.pt")
    variants = {"keep": (ROOT / "src", None), "9:16": (ROOT / "src", "9:16")}
    if args.against is not None:
        variants["against-keep"] = (args.against.resolve(), None)
    seconds: dict[str, list[float]] = {k: [] for k in variants}
    shapes = {}
    for rep in range(args.reps):
        for name, (src, aspect) in variants.items():
            out = work / f"out-{name.replace(':', 'x')}"
            seconds[name].append(run(video, model, out, src, aspect, args.device))
            seg = json.loads((out / "segments.json").read_text())
            shapes[name] = [seg["summary_width"], seg["summary_height"], seg.get("aspect", "keep")]
            print(f"  {name:12s} run {rep + 1}: {seconds[name][-1]:.1f} s", flush=True)
    med = {k: float(np.median(v)) for k, v in seconds.items()}
    result = {
        "video": {"case": "720p-10m", "size": list(CASES["720p-10m"]["size"]), "seconds": duration},
        "reps": args.reps,
        "seconds": seconds,
        "median_s": med,
        "ratio_9x16_over_keep": med["9:16"] / med["keep"],
        "target_ratio": TARGET_RATIO,
        "meets_target": med["9:16"] / med["keep"] <= TARGET_RATIO,
        "summary_size": shapes,
        "x_real_time": {k: duration / v for k, v in med.items()},
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(), "system": platform.system()},
    }
    if args.against is not None:
        result["against"] = os.path.relpath(args.against.resolve(), ROOT)
        result["ratio_keep_over_against"] = med["keep"] / med["against-keep"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("median_s", "ratio_9x16_over_keep", "meets_target")}, indent=2))
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
