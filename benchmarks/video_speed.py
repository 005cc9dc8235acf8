"""Speed and memory of `acsumgan summarize` on long videos, stage by stage.

Three generated H.264 videos at 30 fps (a 60-second clip of moving, textured scenes
of 2-12 s with sensor-like noise, encoded with libx264, then looped by copying its
packets, so a long file costs seconds to make and nothing is committed):

=========  =============  ==========  =============================================
case       size           length      target (2 CPU cores)
=========  =============  ==========  =============================================
720p-10m   1280 x 720     10 minutes  >= 10x faster than real time end to end
120p-60m   160 x 120      60 minutes  >= 30x faster than real time, peak < 2 GiB
720p-2h    1280 x 720     2 hours     < 12 minutes end to end, peak < 4 GiB
=========  =============  ==========  =============================================

For each case the benchmark records

* a **profile** on the 60-second clip: decoding alone (FFmpeg on one thread, on its
  threads, skipping non-reference frames, and two one-thread decoders in two processes
  at once, as the parts of a long video are decoded), the colour conversion and resize of a
  sampled frame, the network per frame at forward batches of 1 to 16 (frames/s and
  GFLOP/s, the arithmetic counted from the layers' shapes, as a fraction of this
  machine's measured float32 matmul peak), and feature extraction with decoding on
  the calling thread vs on a thread beside the network (the features must be equal);
* the **end-to-end run** of ``summarize_video`` on the long file in a fresh process,
  with a real AC-SUM-GAN (default sizes, 1280-d inputs, saved and loaded as a
  checkpoint; scoring costs the same whatever the weights): seconds and peak RSS of
  every stage (the peak is reset before each stage through ``/proc/self/clear_refs``;
  the features stage adds the peaks of the part decoder processes, see
  ``acsumgan.media.decode_parts``), the whole run as a multiple of real time and the peak RSS.

With ``--against SRC`` (another checkout's ``src`` folder, e.g. the code before a
refactor) the benchmark instead times the whole command, ``python -m acsumgan summarize
VIDEO --model MODEL.pt`` (review page included), of each case with that code and with this
checkout's, alternating (``--reps`` times each, a fresh process every time), and records
the median wall-clock seconds of each and their ratio (this / against: below 1 is faster).
The summaries of both must be the same (``segments.json`` equal, ``summary.mp4`` of the same
size). Usage::

    .venv/bin/python benchmarks/video_speed.py [--cases 720p-10m,120p-60m,720p-2h]
        [--out benchmarks/results/video_speed.json] [--device cpu] [--keep DIR]
    .venv/bin/python benchmarks/video_speed.py --cases 720p-10m --against ../before/src \
        --out benchmarks/results/video_speed_refactor.json
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
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FPS = 30
CASES = {
    "720p-10m": {"size": (1280, 720), "seconds": 600, "target_x_real_time": 10.0},
    "120p-60m": {"size": (160, 120), "seconds": 3600, "target_x_real_time": 30.0, "target_peak_gib": 2.0},
    "720p-2h": {"size": (1280, 720), "seconds": 7200, "target_total_s": 720.0, "target_peak_gib": 4.0},
}


# ----------------------------------------------------------------------------- videos


def write_clip(path: Path, size: tuple[int, int], seconds: float = 60.0, seed: int = 0) -> Path:
    """Scenes of 2-12 s: a striped colour field with noise panning, an inverted square moving."""
    w, h = size
    rng = np.random.default_rng(seed)
    n_frames = int(seconds * FPS)
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=FPS, options={"preset": "veryfast", "crf": "20"})
        st.width, st.height, st.pix_fmt = w, h, "yuv420p"
        i = scene = 0
        while i < n_frames:
            r = np.random.default_rng([seed, scene])
            yy, xx = np.mgrid[0:h, 0 : 2 * w]
            colour = r.integers(30, 226, 3)
            field = np.empty((h, 2 * w, 3), np.uint8)
            field[:] = colour
            field[((xx + yy * (scene % 3)) // (8 + 4 * (scene % 4))) % 2 == 0] = (255 - colour) // 2
            field += r.integers(0, 40, (h, 2 * w, 1), dtype=np.uint8)
            for j in range(int(rng.integers(2 * FPS, 12 * FPS))):
                if i >= n_frames:
                    break
                img = np.ascontiguousarray(field[:, (3 * j) % w : (3 * j) % w + w])
                s = h // 4
                x0 = (4 * j) % (w - s)
                img[h // 3 : h // 3 + s, x0 : x0 + s] = 255 - img[h // 3 : h // 3 + s, x0 : x0 + s]
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts = i
                for p in st.encode(frame):
                    out.mux(p)
                i += 1
            scene += 1
        for p in st.encode(None):
            out.mux(p)
    return path


def loop_clip(src: Path, dst: Path, seconds: float) -> float:
    """``src``'s packets again and again (timestamps shifted) until ``seconds``; returns the duration."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        ist = inp.streams.video[0]
        ost = out.add_stream_from_template(ist)
        packets = [p for p in inp.demux(ist) if p.size > 0]
        pts = sorted(p.pts for p in packets)
        period = pts[-1] - pts[0] + (pts[1] - pts[0])
        k = 0
        while k * period * ist.time_base < seconds:
            for p in packets:
                q = av.Packet(bytes(p))
                q.pts, q.dts, q.time_base = p.pts + k * period, p.dts + k * period, ist.time_base
                q.is_keyframe = p.is_keyframe
                q.stream = ost
                out.mux(q)
            k += 1
        return float(k * period * ist.time_base)


# ----------------------------------------------------------------------------- profile


def matmul_peak(reps: int = 5, n: int = 2048) -> float:
    """Measured float32 GFLOP/s of torch.mm (median), as in train_speed.py."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t)
    return 2 * n**3 / float(np.median(times)) / 1e9


def network_macs(bb) -> int:
    """Multiply-adds of one 224x224 frame, counted from every convolution's shapes."""
    import torch

    macs = 0

    def hook(m, _inp, out):
        nonlocal macs
        macs += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    hooks = [m.register_forward_hook(hook) for m in bb.net.modules() if isinstance(m, torch.nn.Conv2d)]
    bb(np.zeros((1, 224, 224, 3), np.uint8))
    for h in hooks:
        h.remove()
    return macs


def decode_fps(path: Path, threads: str, skip: str | None = None) -> dict:
    t = time.perf_counter()
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        if threads == "one":
            s.thread_type = "NONE"
        else:
            s.thread_type = "AUTO"
        if skip:
            s.codec_context.skip_frame = skip
        n = sum(1 for _ in c.decode(s))
    dt = time.perf_counter() - t
    return {"frames_out": n, "seconds": dt, "frames_per_s": n / dt}


def decode_in_two_processes(path: Path) -> dict:
    """Two processes decoding ``path`` at once on one FFmpeg thread each (what parts do)."""
    code = (
        "import sys, time, json, av\n"
        "t = time.perf_counter()\n"
        "with av.open(sys.argv[1]) as c:\n"
        "    s = c.streams.video[0]; s.thread_type = 'NONE'; n = sum(1 for _ in c.decode(s))\n"
        "print(json.dumps([n, time.perf_counter() - t]))\n"
    )
    t = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True) for _ in "ab"]
    runs = [json.loads(p.communicate()[0]) for p in procs]
    wall = time.perf_counter() - t
    return {
        "frames_per_s_each": [n / dt for n, dt in runs],
        "frames_per_s_together": sum(n for n, _ in runs) / wall,
    }


def profile(clip: Path, peak: float) -> dict:
    from acsumgan.media.decode import FrameSampler
    from acsumgan.summarize import backbones as B
    from acsumgan.summarize.features import extract_features

    out: dict = {}
    out["decode"] = {
        "ffmpeg_one_thread": decode_fps(clip, "one"),
        "ffmpeg_threads": decode_fps(clip, "auto"),
        "skip_nonref_one_thread": decode_fps(clip, "one", "NONREF"),
        "two_processes_one_thread_each": decode_in_two_processes(clip),
    }
    # colour conversion + resize of the sampled frames (what FrameSampler does per step)
    conv = []
    with av.open(str(clip)) as c:
        s = c.streams.video[0]
        s.thread_type = "NONE"
        for i, f in enumerate(c.decode(s)):
            if i % 15 == 0:
                t = time.perf_counter()
                f.to_ndarray(width=224, height=224, format="rgb24")
                conv.append(time.perf_counter() - t)
    out["convert_resize_ms_per_step"] = 1000 * float(np.median(conv))
    bb = B.get_backbone("efficientnet-lite0")
    macs = network_macs(bb)
    frames = np.stack([f.image for f in FrameSampler(clip, size=(224, 224))])[:64]
    per_batch = {}
    saved = B.FORWARD_BATCH
    try:
        for fb in (1, 4, 8, 16):
            B.FORWARD_BATCH = fb
            bb(frames[:fb])
            t = time.perf_counter()
            bb(frames)
            dt = time.perf_counter() - t
            fps = len(frames) / dt
            per_batch[str(fb)] = {
                "frames_per_s": fps,
                "ms_per_frame": 1000 / fps,
                "gflop_per_s": fps * 2 * macs / 1e9,
                "fraction_of_matmul_peak": fps * 2 * macs / 1e9 / peak,
            }
    finally:
        B.FORWARD_BATCH = saved
    out["network"] = {"gflop_per_frame": 2 * macs / 1e9, "forward_batch": per_batch, "default_batch": saved}
    ext = {}
    feats = {}
    for name, bg in (("decode_then_network", False), ("decode_on_a_thread", True)):
        t = time.perf_counter()
        ex = extract_features(clip, bb, background_decode=bg)
        ext[name] = {"seconds": time.perf_counter() - t, "steps_per_s": len(ex.picks) / (time.perf_counter() - t)}
        feats[name] = ex.features
    ext["same_features"] = bool(np.array_equal(feats["decode_then_network"], feats["decode_on_a_thread"]))
    ext["speedup_of_the_thread"] = ext["decode_then_network"]["seconds"] / ext["decode_on_a_thread"]["seconds"]
    out["extraction_60s_clip"] = ext
    return out


# ----------------------------------------------------------------------------- end to end


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def run_case(video: Path, device: str) -> dict:
    """summarize_video on ``video`` (this process does nothing else): stage seconds and peaks."""
    import torch

    from acsumgan.config import TrainConfig
    from acsumgan.inference import Scorer
    from acsumgan.model.networks import ACSumGAN
    from acsumgan.summarize.backbones import get_backbone
    from acsumgan.summarize.options import SummarizeOptions
    from acsumgan.summarize.pipeline import summarize_video
    from acsumgan.train.checkpoint import save_checkpoint

    resettable = True
    peaks: dict[str, float] = {}

    @contextmanager
    def observe(stage: str):
        nonlocal resettable
        try:
            Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM)
        except OSError:
            resettable = False
        yield
        peaks[stage] = _status_kib("VmHWM") / 2**20

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        torch.manual_seed(0)
        cfg = TrainConfig(input_size=1280)
        save_checkpoint(
            tmp / "model.pt", ACSumGAN(**cfg.model_kwargs()), cfg, 0, extra={"feature_backbone": "efficientnet-lite0"}
        )
        t0 = time.perf_counter()
        scorer = Scorer.load(tmp / "model.pt", device=device)
        backbone = get_backbone("efficientnet-lite0", device=device)
        load_s = time.perf_counter() - t0
        options = SummarizeOptions(backbone=backbone, device=device)
        res = summarize_video(video, scorer, tmp / "summary", options, observe=observe)
    total = load_s + res.timings["total"]
    duration = res.n_frames / res.fps
    decoders = res.extracted.decoder_peak_rss / 2**30
    if resettable:
        # the part decoders' peaks on top of this process's peak during the features stage
        # (an upper bound: the peaks need not coincide)
        peaks["decode_features"] = peaks.get("decode_features", 0.0) + decoders
    return {
        "video": f"{res.n_frames} frames, {res.extracted.width}x{res.extracted.height}, {res.fps:g} fps, {duration:.0f} s",
        "steps": int(res.features.shape[0]),
        "shots": int(len(res.change_points)),
        "selected_shots": len(res.selected),
        "summary_seconds": res.summary_seconds,
        "stages_s": {"load model and backbone": load_s, **{k: v for k, v in res.timings.items() if k != "total"}},
        "stages_peak_rss_gib": peaks if resettable else None,
        "total_s": total,
        "times_real_time": duration / total,
        "peak_rss_gib": _status_kib("VmHWM") / 2**20 + decoders if not resettable else max(peaks.values()),
        "decoded_in_parts": res.extracted.parts,
        "decoder_processes_peak_rss_gib": decoders,
        "torch_threads": torch.get_num_threads(),
    }


def _model_checkpoint(path: Path) -> Path:
    """A real AC-SUM-GAN of the default sizes for 1280-d features (seed 0), saved at ``path``."""
    import torch

    from acsumgan.config import TrainConfig
    from acsumgan.model.networks import ACSumGAN
    from acsumgan.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    cfg = TrainConfig(input_size=1280)
    save_checkpoint(path, ACSumGAN(**cfg.model_kwargs()), cfg, 0, extra={"feature_backbone": "efficientnet-lite0"})
    return path


def compare_code(video: Path, work: Path, against: Path, reps: int, device: str) -> dict:
    """Seconds of the whole ``summarize`` command on ``video``, this code vs ``against``, alternating."""
    model = _model_checkpoint(work / "model.pt")
    codes = {"this": ROOT / "src", "against": against.resolve()}
    seconds: dict[str, list[float]] = {k: [] for k in codes}
    segments: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for rep in range(reps):
        for name, src in codes.items():
            out = work / f"out-{name}-{rep}"
            env = {**os.environ, "PYTHONPATH": str(src)}
            cmd = [sys.executable, "-m", "acsumgan", "summarize", str(video), "--model", str(model)]
            cmd += ["--out", str(out), "--device", device]
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
            seconds[name].append(time.perf_counter() - t)
            folder = out  # one video: its summary's files lie in OUT itself
            seg = json.loads((folder / "segments.json").read_text())
            seg.pop("video", None)
            segments[name] = json.dumps(seg, sort_keys=True)
            sizes[name] = (folder / "summary.mp4").stat().st_size
            print(f"  {name:8s} run {rep + 1}: {seconds[name][-1]:.1f} s", flush=True)
    med = {k: float(np.median(v)) for k, v in seconds.items()}
    return {
        "against": os.path.relpath(against, ROOT),  # as seen from this checkout, no machine's path
        "seconds": seconds,
        "median_s": med,
        "ratio_this_over_against": med["this"] / med["against"],
        "same_segments": segments["this"] == segments["against"],
        "same_summary_size": sizes["this"] == sizes["against"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated, from: " + ", ".join(CASES))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "video_speed.json"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--keep", type=Path, default=None, help="keep the generated videos in this folder")
    ap.add_argument("--no-profile", action="store_true", help="only the end-to-end runs")
    ap.add_argument("--against", type=Path, default=None, help="another checkout's src: time the command, both codes")
    ap.add_argument("--reps", type=int, default=2, help="with --against: runs of each code")
    ap.add_argument("--run-one", type=Path, default=None, help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args()
    if args.run_one is not None:
        print(json.dumps(run_case(args.run_one, args.device)))
        return

    import torch

    from acsumgan.fileio import write_json

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        raise SystemExit(f"unknown case {unknown[0]!r} (choose from {', '.join(CASES)})")
    peak = matmul_peak() if args.against is None else 0.0
    results: dict = {
        "benchmark": "video_speed",
        "matmul_peak_gflops": peak,
        "machine": {
            "platform": platform.platform(),
            "cpus": len(os.sched_getaffinity(0)),
            "torch_threads": torch.get_num_threads(),
            "device": args.device,
            "load_average_1min": os.getloadavg()[0],
        },
        "command": "python benchmarks/video_speed.py "
        + " ".join(os.path.relpath(x, ROOT) if os.path.isabs(x) else x for x in sys.argv[1:]),
        "cases": {},
    }
    if args.against is None:
        print(f"matmul peak {peak:.0f} GFLOP/s on {torch.get_num_threads()} threads", flush=True)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="video_speed_"))
    work.mkdir(parents=True, exist_ok=True)
    clips: dict[tuple[int, int], Path] = {}
    try:
        for name in cases:
            spec = CASES[name]
            size = spec["size"]
            if size not in clips:
                clips[size] = write_clip(work / f"clip_{size[0]}x{size[1]}.mp4", size)
            video = work / f"{name}.mp4"
            if not video.exists():
                loop_clip(clips[size], video, spec["seconds"])
            entry: dict = {"target": {k: v for k, v in spec.items() if k.startswith("target")}}
            if args.against is not None:
                print(f"{name}: this code vs {args.against}", flush=True)
                cmp = compare_code(video, work, args.against, args.reps, args.device)
                results["cases"][name] = {"against": cmp}
                print(
                    f"{name}: this {cmp['median_s']['this']:.1f} s, against {cmp['median_s']['against']:.1f} s "
                    f"(median of {args.reps}): ratio {cmp['ratio_this_over_against']:.3f}, "
                    f"same segments {cmp['same_segments']}, same summary size {cmp['same_summary_size']}",
                    flush=True,
                )
                continue
            if not args.no_profile:
                entry["profile_60s_clip"] = profile(clips[size], peak)
                p = entry["profile_60s_clip"]
                print(
                    f"{name} profile: decode {p['decode']['ffmpeg_one_thread']['frames_per_s']:.0f} fps (1 thread), "
                    f"{p['decode']['ffmpeg_threads']['frames_per_s']:.0f} (threads), "
                    f"{p['decode']['two_processes_one_thread_each']['frames_per_s_together']:.0f} (2 processes), "
                    f"convert {p['convert_resize_ms_per_step']:.2f} ms/step, network "
                    + ", ".join(
                        f"b{b} {v['frames_per_s']:.0f}/s ({100 * v['fraction_of_matmul_peak']:.0f} %)"
                        for b, v in p["network"]["forward_batch"].items()
                    )
                    + f", extraction thread speedup {p['extraction_60s_clip']['speedup_of_the_thread']:.2f}x",
                    flush=True,
                )
            child = subprocess.run(
                [sys.executable, __file__, "--run-one", str(video), "--device", args.device],
                check=True,
                capture_output=True,
                text=True,
            )
            run = json.loads(child.stdout.strip().splitlines()[-1])
            entry["end_to_end"] = run
            t = entry["target"]
            ok = []
            if "target_x_real_time" in t:
                ok.append(run["times_real_time"] >= t["target_x_real_time"])
            if "target_total_s" in t:
                ok.append(run["total_s"] < t["target_total_s"])
            if "target_peak_gib" in t:
                ok.append(run["peak_rss_gib"] < t["target_peak_gib"])
            entry["meets_target"] = all(ok)
            results["cases"][name] = entry
            print(
                f"{name}: {run['video']}, {run['steps']} steps, {run['shots']} shots, "
                f"decoded in {run['decoded_in_parts']} part(s)"
            )
            for k, v in run["stages_s"].items():
                mem = (run["stages_peak_rss_gib"] or {}).get(k)
                print(f"  {k:26s} {v:8.2f} s" + (f"   peak {mem:.2f} GiB" if mem is not None else ""))
            print(
                f"  {'total':26s} {run['total_s']:8.2f} s  ->  {run['times_real_time']:.1f}x real time, "
                f"peak {run['peak_rss_gib']:.2f} GiB, target {'met' if entry['meets_target'] else 'MISSED'}",
                flush=True,
            )
    finally:
        if not args.keep:
            shutil.rmtree(work)
    print(f"wrote {write_json(args.out, results)}")


if __name__ == "__main__":
    main()
