"""Same bits: a refactor or a speed-up must not change a number or a frame.

Runs the real command line (``python -m acsumgan``, in subprocesses of this Python, so
``PYTHONPATH`` picks the code under test) on fixed inputs with fixed seeds and thread
counts, and records SHA-256 digests of what it wrote. Run it before and after a change
and compare the two files: any differing digest is a changed number or frame.

Cases (``--cases``, all by default; outputs in ``WORK/<case>/``):

==================  ===========================================================================
summarize-t1, -t2   ``summarize`` of the three sample videos (``../shared/data/videos``) without
                    ``--model``: features, a 2-epoch training (seed 0, hidden size 16), summaries;
                    ``--threads`` 1 and 2
model-t1, -t2       ``summarize`` of the same videos ``--model WORK/summarize-t1/model`` (the run
                    folder trained by summarize-t1, made first when missing), threads 1 and 2
clip720-t1, -t2     ``summarize --model`` (the same model) of a 2-minute 720p H.264 clip: the
                    60-second clip of ``benchmarks/video_speed.py`` (``write_clip``), looped once
                    (``loop_clip``) so that at 2 threads the video is decoded in 2 parts, one
                    process each (``acsumgan.media.decode_parts`` needs 2 parts of at least 60 s)
dataset-build       ``dataset build`` of the three sample videos (``--threads 1``) -> own.h5
train               ``dataset synth`` (8 videos, 32-d), ``splits make`` (1 split), a seeded
                    ``train`` of 3 epochs (hidden size 16, ``--threads 1``)
==================  ===========================================================================

Digests (what is dropped is listed in the output's ``dropped`` and ``not_digested``):

* HDF5 files: per dataset, the array's bytes, dtype and shape (not the file's bytes,
  whose metadata may differ), and per group or dataset its attributes; datasets that hold
  a wall-clock time or a path (``extract_seconds``, ``source_path``, ``source_mtime_ns``)
  are dropped;
* JSON files: the parsed content with sorted keys, less the wall-clock or path fields
  (segments.json ``video``, model.json ``seconds``); hidden files (acsumgan's ownership
  records ``.acsumgan.json`` and ``.acsumgan-summary.json``: sizes, mtimes) are skipped;
* videos (.mp4): the decoded frames (PyAV: each frame's ``to_ndarray()`` bytes, format,
  size and pts, in order), and separately the decoded audio samples (with their pts);
* images (.jpg, .png): the decoded pixels;
* CSV files (metrics.csv): the rows without the wall-clock column ``seconds``;
* checkpoints (.pt): every tensor (bytes, dtype, shape, by key) as ``weights``, every
  other field as ``fields`` (less ``seconds``).

The input files are digested too (``inputs``): when they differ, so may the outputs.
Prints a table (one line per output file) and saves every digest as JSON. Usage::

    .venv/bin/python benchmarks/same_bits.py --work /tmp/sb --out before.json [--cases a,b]
    # ... change the code, then the same command again:
    .venv/bin/python benchmarks/same_bits.py --work /tmp/sb --out after.json
    .venv/bin/python benchmarks/same_bits.py --compare before.json after.json   # exit 1 if any differs

``WORK`` is a scratch folder: each case's folder in it is replaced on every run (a
non-empty folder that this script did not make is refused).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import av
import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = ROOT.parent / "shared" / "data" / "videos"
SAMPLE_VIDEOS = ("bigbuckbunny.mp4", "bikes.mp4", "vtest.avi")
CASES = (
    "summarize-t1",
    "summarize-t2",
    "model-t1",
    "model-t2",
    "clip720-t1",
    "clip720-t2",
    "dataset-build",
    "train",
)
#: The work folder's marker: this script made it, its case folders may be replaced.
MARKER = ".same_bits"
#: HDF5 datasets that hold a wall-clock time or a path (by their last name).
H5_DROP = {
    "extract_seconds": "wall-clock seconds of the feature extraction",
    "source_path": "the video's absolute path",
    "source_mtime_ns": "the video file's modification time",
}
#: JSON fields dropped, by file name.
JSON_DROP = {
    "segments.json": {"video": "the video's absolute path"},
    "model.json": {"seconds": "wall-clock seconds of the training"},
}
#: CSV columns and checkpoint fields that are wall-clock times.
WALL_CLOCK = {"seconds": "wall-clock seconds of the epoch"}
NOT_DIGESTED = {
    ".acsumgan.json, .acsumgan-summary.json (hidden files)": "ownership records: sizes, mtimes and paths",
    "*.html": "review pages: paths and the same numbers as segments.json",
    "*.log": "logs: times of day",
    "*.yaml": "config.yaml: paths and versions (the options are in the checkpoints' fields)",
    "tensorboard/": "event files: wall-clock times (the same numbers as metrics.csv)",
    "COMPLETE": "a marker",
}
SKIP_SUFFIXES = {".html", ".log", ".yaml", ".tmp"}


# ----------------------------------------------------------------------------- digests


def _sha(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.hexdigest()


def _array_bytes(a: np.ndarray) -> tuple[bytes, str]:
    a = np.asarray(a)
    if a.dtype.kind == "O":  # variable-length strings: their text, not the pointers
        items = [x.decode("utf-8", "surrogateescape") if isinstance(x, bytes) else str(x) for x in a.ravel()]
        return json.dumps(items).encode(), "object"
    return np.ascontiguousarray(a).tobytes(), a.dtype.str


def array_sha(a) -> str:
    data, dtype = _array_bytes(np.asarray(a))
    return _sha(dtype.encode(), repr(np.shape(a)).encode(), data)


def h5_digests(path: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}

    def attrs(name: str, obj) -> None:
        keys = sorted(obj.attrs)
        if keys:
            h = hashlib.sha256()
            for k in keys:
                h.update(f"{k}={array_sha(obj.attrs[k])};".encode())
            out[f"{name}@attrs"] = {"sha256": h.hexdigest(), "what": f"{len(keys)} attributes"}

    with h5py.File(path, "r") as f:
        attrs("/", f)
        names: list[str] = []
        f.visit(names.append)
        for name in sorted(names):
            obj = f[name]
            if isinstance(obj, h5py.Dataset):
                if name.rsplit("/", 1)[-1] in H5_DROP:
                    continue
                out[name] = {"sha256": array_sha(obj[()]), "what": f"{obj.dtype} {obj.shape}"}
            attrs(name, obj)
    return out


def json_digest(path: Path) -> dict[str, dict]:
    obj = json.loads(path.read_text())
    drop = JSON_DROP.get(path.name, {})
    if isinstance(obj, dict):
        obj = {k: v for k, v in obj.items() if k not in drop}
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return {"": {"sha256": _sha(text.encode()), "what": "parsed JSON, sorted keys"}}


def csv_digest(path: Path) -> dict[str, dict]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0] if rows else []
    keep = [i for i, c in enumerate(header) if c not in WALL_CLOCK]
    kept = [[r[i] if i < len(r) else None for i in keep] for r in rows]
    return {"": {"sha256": _sha(json.dumps(kept).encode()), "what": f"{len(rows) - 1} rows x {len(keep)} columns"}}


def media_digests(path: Path) -> dict[str, dict]:
    """Decoded video frames (bytes, format, size, pts) and audio samples, stream by stream."""
    hashes: dict = {}
    counts: dict[int, int] = {}
    names: dict[int, str] = {}
    with av.open(str(path)) as c:
        streams = [s for s in c.streams if s.type in ("video", "audio")]
        for s in streams:
            same_kind = [t for t in streams if t.type == s.type]
            names[s.index] = s.type if len(same_kind) == 1 else f"{s.type}{same_kind.index(s)}"
            hashes[s.index], counts[s.index] = hashlib.sha256(), 0
        for packet in c.demux(streams):
            for frame in packet.decode():
                i = packet.stream.index
                h = hashes[i]
                if packet.stream.type == "video":
                    h.update(f"{frame.pts}|{frame.format.name}|{frame.width}x{frame.height}|".encode())
                    h.update(np.ascontiguousarray(frame.to_ndarray()).tobytes())
                    counts[i] += 1
                else:
                    a = np.ascontiguousarray(frame.to_ndarray())
                    h.update(f"{frame.pts}|{frame.format.name}|{frame.sample_rate}|{a.shape}|".encode())
                    h.update(a.tobytes())
                    counts[i] += frame.samples
    unit = {"video": "frames", "audio": "samples"}
    return {
        names[i]: {"sha256": hashes[i].hexdigest(), "what": f"{counts[i]} decoded {unit[names[i][:5]]}"}
        for i in sorted(hashes)
    }


def checkpoint_digests(path: Path) -> dict[str, dict]:
    import torch

    obj = torch.load(path, map_location="cpu", weights_only=True)
    weights, fields = hashlib.sha256(), []
    n = 0

    def walk(x, key: str) -> None:
        nonlocal n
        if isinstance(x, dict):
            for k in sorted(x, key=str):
                if str(k) not in WALL_CLOCK:
                    walk(x[k], f"{key}/{k}")
        elif isinstance(x, (list, tuple)):
            for i, v in enumerate(x):
                walk(v, f"{key}/{i}")
        elif isinstance(x, torch.Tensor):
            t = x.detach().cpu().contiguous()
            weights.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
            weights.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
            n += 1
        else:
            fields.append(f"{key}={x!r}")

    walk(obj, "")
    return {
        "weights": {"sha256": weights.hexdigest(), "what": f"{n} tensors"},
        "fields": {"sha256": _sha("\n".join(fields).encode()), "what": f"{len(fields)} other fields"},
    }


def file_digests(path: Path) -> dict[str, dict] | None:
    """Digests of one output file (None: not digested, see NOT_DIGESTED)."""
    suffix = path.suffix.lower()
    if path.name.startswith(".") or suffix in SKIP_SUFFIXES or path.name == "COMPLETE":
        return None
    if suffix == ".h5":
        return h5_digests(path)
    if suffix == ".json":
        return json_digest(path)
    if suffix == ".csv":
        return csv_digest(path)
    if suffix in (".mp4", ".jpg", ".png"):
        return media_digests(path)
    if suffix == ".pt":
        return checkpoint_digests(path)
    return None


def folder_digests(folder: Path, prefix: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if not p.is_file() or "tensorboard" in rel.parts:
            continue
        got = file_digests(p)
        for sub, d in (got or {}).items():
            out[f"{prefix}/{rel.as_posix()}" + (f":{sub}" if sub else "")] = d
    return out


def file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ----------------------------------------------------------------------------- the runs


class Runner:
    def __init__(self, work: Path):
        self.work = work
        self.cases: dict[str, dict] = {}
        self.inputs: dict[str, str] = {}

    def shown(self, arg) -> str:
        """An argument as recorded: WORK/... and VIDEOS/... instead of this machine's paths."""
        s = str(arg)
        for base, name in ((self.work, "WORK"), (VIDEOS, "VIDEOS")):
            if s == str(base) or s.startswith(str(base) + os.sep):
                return name + s[len(str(base)) :]
        return s

    def acsumgan(self, case: str, *args) -> None:
        cmd = [sys.executable, "-m", "acsumgan", *map(str, args)]
        entry = self.cases[case]
        entry["commands"].append("acsumgan " + " ".join(self.shown(a) for a in args))
        log = self.work / f"{case}.log"
        with open(log, "a") as f:
            f.write("$ " + " ".join(cmd) + "\n")
            f.flush()
            proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=3600)
        if proc.returncode != 0:
            raise SystemExit(f"{case}: `acsumgan {args[0]}` failed (exit {proc.returncode}), see {log}")

    def start(self, case: str, threads: int | None) -> Path:
        out = self.work / case
        if out.exists():
            shutil.rmtree(out)
        (self.work / f"{case}.log").unlink(missing_ok=True)
        self.cases[case] = {"threads": threads, "commands": [], "t0": time.perf_counter()}
        return out

    def finish(self, case: str, **extra) -> None:
        entry = self.cases[case]
        entry["seconds"] = round(time.perf_counter() - entry.pop("t0"), 1)
        entry.update(extra)
        print(f"{case}: {entry['seconds']:.1f} s", flush=True)


def sample_videos(runner: Runner) -> list[Path]:
    paths = [VIDEOS / n for n in SAMPLE_VIDEOS]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"sample video not found: {missing[0]} (see ../shared/data/SOURCES.md)")
    for p in paths:
        runner.inputs[runner.shown(p)] = file_sha(p)
    return paths


def make_clip(runner: Runner) -> Path:
    """The 60-second 720p clip of video_speed.py, looped once to 2 minutes (kept in WORK/clip/)."""
    spec = importlib.util.spec_from_file_location("video_speed", Path(__file__).resolve().parent / "video_speed.py")
    video_speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(video_speed)
    folder = runner.work / "clip"
    folder.mkdir(exist_ok=True)
    clip60, clip = folder / "clip720p-60s.mp4", folder / "clip720p-120s.mp4"
    if not clip.is_file():
        t = time.perf_counter()
        video_speed.write_clip(clip60, (1280, 720), seconds=60.0, seed=0)
        video_speed.loop_clip(clip60, clip, 120.0)
        print(f"clip: made in {time.perf_counter() - t:.1f} s", flush=True)
    runner.inputs[runner.shown(clip)] = file_sha(clip)
    return clip


def planned_parts(video: Path, threads: int) -> int | None:
    """How many parts the code under test decodes ``video`` in at ``threads`` (None: unknown)."""
    code = (
        "import sys\n"
        "from acsumgan.media.decode import probe\n"
        "from acsumgan.media.decode_parts import plan_parts\n"
        "n = int(sys.argv[2])\n"
        "plan = plan_parts(sys.argv[1], n, probe(sys.argv[1]).duration) if n > 1 else None\n"
        "print(plan.parts if plan else 1)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(video), str(threads)], capture_output=True, text=True)
    return int(proc.stdout) if proc.returncode == 0 and proc.stdout.strip().isdigit() else None


def run_cases(runner: Runner, cases: list[str]) -> None:
    work = runner.work
    model = work / "summarize-t1" / "model"
    config = work / "train-config.yaml"
    config.write_text("hidden_size: 16\n")
    needs_model = any(c.startswith(("model-", "clip720-")) for c in cases)
    if needs_model and "summarize-t1" not in cases and not (model / "COMPLETE").is_file():
        cases = ["summarize-t1", *cases]  # the model of the other summarize cases
    for case in [c for c in CASES if c in cases]:
        threads = int(case[-1]) if case[-3:-1] == "-t" else 1
        if case.startswith("summarize-"):
            out = runner.start(case, threads)
            runner.acsumgan(
                case,
                "summarize",
                *sample_videos(runner),
                "--out",
                out,
                "--epochs",
                2,
                "--seed",
                0,
                "--train-config",
                config,
                "--threads",
                threads,
                "--device",
                "cpu",
            )
            runner.finish(case)
        elif case.startswith("model-"):
            out = runner.start(case, threads)
            runner.acsumgan(
                case,
                "summarize",
                *sample_videos(runner),
                "--out",
                out,
                "--model",
                model,
                "--seed",
                0,
                "--threads",
                threads,
                "--device",
                "cpu",
            )
            runner.finish(case)
        elif case.startswith("clip720-"):
            clip = make_clip(runner)
            out = runner.start(case, threads)
            runner.acsumgan(
                case,
                "summarize",
                clip,
                "--out",
                out,
                "--model",
                model,
                "--seed",
                0,
                "--threads",
                threads,
                "--device",
                "cpu",
            )
            runner.finish(case, decoder_parts_planned=planned_parts(clip, threads))
        elif case == "dataset-build":
            out = runner.start(case, threads)
            out.mkdir()
            runner.acsumgan(
                case,
                "dataset",
                "build",
                *sample_videos(runner),
                "--out",
                out / "own.h5",
                "--threads",
                1,
                "--device",
                "cpu",
            )
            runner.finish(case)
        elif case == "train":
            out = runner.start(case, threads)
            out.mkdir()
            runner.acsumgan(
                case, "dataset", "synth", "--out", out / "synth.h5", "--videos", 8, "--dim", 32, "--seed", 0
            )
            runner.acsumgan(
                case,
                "splits",
                "make",
                "--dataset",
                out / "synth.h5",
                "--out",
                out / "splits.json",
                "--n-splits",
                1,
                "--test-fraction",
                0.25,
                "--seed",
                0,
            )
            runner.acsumgan(
                case,
                "train",
                "--dataset",
                out / "synth.h5",
                "--splits",
                out / "splits.json",
                "--out",
                out / "run",
                "--n_epochs",
                3,
                "--seed",
                0,
                "--threads",
                1,
                "--input_size",
                32,
                "--hidden_size",
                16,
                "--checkpoint-interval",
                0,
                "--no-progress",
                "--device",
                "cpu",
            )
            runner.finish(case)


def code_under_test() -> dict:
    """The acsumgan that ``python -m acsumgan`` runs here: version, git commit, modified or not."""
    import acsumgan

    pkg = Path(acsumgan.__file__).resolve().parent
    print(f"code under test: {pkg}", flush=True)

    def git(*args) -> str | None:
        proc = subprocess.run(["git", "-C", str(pkg), *args], capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no", ".")
    return {
        "acsumgan": acsumgan.__version__,
        "commit": git("rev-parse", "HEAD"),
        "modified": None if status is None else bool(status),
    }


def versions() -> dict:
    try:
        from acsumgan.config import versions as project_versions

        out = dict(project_versions())
    except ImportError:
        out = {}
    out["av"] = av.__version__
    out["ffmpeg"] = {k: ".".join(map(str, v)) for k, v in sorted(av.library_versions.items())}
    return out


def run(args) -> None:
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        raise SystemExit(f"unknown case {unknown[0]!r} (choose from {', '.join(CASES)})")
    work = Path(args.work).resolve()
    if work.exists() and any(work.iterdir()) and not (work / MARKER).is_file():
        raise SystemExit(f"{work}: not empty and not a same_bits work folder (give an empty or new folder)")
    work.mkdir(parents=True, exist_ok=True)
    (work / MARKER).write_text("made by benchmarks/same_bits.py: its case folders are replaced on every run\n")

    code = code_under_test()
    runner = Runner(work)
    t0 = time.perf_counter()
    run_cases(runner, cases)
    total = time.perf_counter() - t0

    digests: dict[str, dict] = {}
    for case in runner.cases:
        digests.update(folder_digests(work / case, case))
    results = {
        "benchmark": "same_bits",
        "code": code,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "cpus_available": len(os.sched_getaffinity(0)),
        },
        "versions": versions(),
        "command": "python benchmarks/same_bits.py --work WORK --out "
        + Path(args.out).name
        + f" --cases {','.join(cases)}",
        "seconds": round(total, 1),
        "cases": runner.cases,
        "inputs": runner.inputs,
        "dropped": {
            "hdf5 datasets": H5_DROP,
            "json fields": JSON_DROP,
            "csv columns and checkpoint fields": WALL_CLOCK,
        },
        "not_digested": NOT_DIGESTED,
        "digests": digests,
    }
    print_table(digests)
    print(f"{len(digests)} digests of {len(runner.cases)} cases in {total:.0f} s")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


def print_table(digests: dict[str, dict]) -> None:
    """One line per output file: how many digests, and one SHA-256 over them all."""
    files: dict[str, list[str]] = {}
    for key, d in digests.items():
        files.setdefault(key.split(":", 1)[0], []).append(f"{key}={d['sha256']}")
    width = max((len(f) for f in files), default=4)
    print(f"{'file':<{width}}  {'digests':>7}  sha256 of its digests")
    for f, items in files.items():
        print(f"{f:<{width}}  {len(items):>7}  {hashlib.sha256(chr(10).join(items).encode()).hexdigest()[:32]}")


# ----------------------------------------------------------------------------- compare


def compare(a_path: str, b_path: str) -> int:
    a, b = (json.loads(Path(p).read_text()) for p in (a_path, b_path))
    common = set(a["cases"]) & set(b["cases"])
    for name, x, y in (("A", a, b), ("B", b, a)):
        only = sorted(set(x["cases"]) - set(y["cases"]))
        if only:
            print(f"cases only in {name} (not compared): {', '.join(only)}")
    for key in sorted(set(a["inputs"]) | set(b["inputs"])):
        if a["inputs"].get(key) != b["inputs"].get(key):
            print(f"INPUT differs: {key}: A {a['inputs'].get(key)}  B {b['inputs'].get(key)}")

    def mine(d: dict) -> dict:
        return {k: v for k, v in d["digests"].items() if k.split("/", 1)[0] in common}

    da, db = mine(a), mine(b)
    differ = []
    for key in sorted(set(da) | set(db)):
        sa, sb = (d.get(key, {}).get("sha256") for d in (da, db))
        if sa != sb:
            differ.append((key, sa, sb))
    print(f"A: {a_path} (commit {a['code'].get('commit')})")
    print(f"B: {b_path} (commit {b['code'].get('commit')})")
    if not differ:
        print(f"identical: {len(da)} digests of {len(common)} cases")
        return 0
    print(f"{len(differ)} of {len(set(da) | set(db))} digests differ:")
    for key, sa, sb in differ:
        print(f"  {key}\n    A {sa or 'missing'}\n    B {sb or 'missing'}")
    return 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", help="scratch folder for the outputs (its case folders are replaced)")
    ap.add_argument("--out", help="JSON file of the digests to write")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated, from: " + ", ".join(CASES))
    ap.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"), help="compare two digest files")
    args = ap.parse_args()
    if args.compare:
        sys.exit(compare(*args.compare))
    if not args.work or not args.out:
        ap.error("--work and --out are required (or --compare A.json B.json)")
    run(args)


if __name__ == "__main__":
    main()
