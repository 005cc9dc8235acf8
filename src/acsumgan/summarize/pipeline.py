"""From videos to summaries a person can review, in one call (``acsumgan summarize``).

With a model (``model=``) every video is summarized with it. Without one, AC-SUM-GAN
needs no labels, so the videos (or a larger collection, ``train_on=``) train a model
first. Everything is kept in the output folder and reused by the next call:

    DIR/features.h5      features, picks and KTS shots of every video (eccv16 schema), with
                         each source file's size and modification time and what the summary
                         needs to map steps to frames
    DIR/model/           the run folder of the model trained on them (``acsumgan train``)
    DIR/model.json       what the model was trained on (a digest of the features) and how
    DIR/summarize.log    what each call computed and what it reused
    DIR/<video>/         summary.mp4, segments.json, scores.png, summary.html, thumbs/
                         (DIR itself when there is one video); DIR/index.html with several;
                         one unit: written to a staging folder, then swapped in
                         (:mod:`acsumgan.summarize.unit`), so it is the old summary or the new one

    DIR/.acsumgan.json   what summarize wrote into DIR itself (:mod:`acsumgan.summarize.ownership`)

Nothing else is replaced or removed (:func:`plan_outputs`, before any work): an output
folder or file that acsumgan did not write is a refusal (one line), or, for one video's
folder, another name (``<video>-2``); no output may be, contain or lie inside an input
(the videos, ``--model``, ``--train-on``); names that cannot be a folder's (``.``, ``..``,
the outputs' own names, too long) get one that can.

A video whose size or modification time changed, or a new one, gets its features
recomputed; the others are read back. Each video's features are kept (``features.h5``
rewritten atomically) as soon as they are computed, so an interrupted call keeps them.
The model is trained again only when the training features changed (a digest of their values, so touching a file without
changing it recomputes its features but keeps the model).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..config import TrainConfig
from ..data.dataset import load_dataset
from ..errors import ConfigError, OutputError
from ..fileio import LogFile, ensure_dir, write_json
from ..locks import LOCK_NAME
from ..media.decode import DEFAULT_RATE
from .backbones import DEFAULT_BACKBONE
from .features import FEATURES_FILE, Features, features_digest, video_features
from .ownership import FOLDER, LOG, MANIFEST, MARKER, Manifest, occupied, owned_folder
from .unit import MEMBERS, summary_unit

MODEL_DIR = "model"
MODEL_INFO = "model.json"
LOG_FILE = "summarize.log"
SPLIT_FILE = "training_split.json"
INDEX_FILE = "index.html"
#: What summarize may write into DIR itself: no video's folder takes these names.
TOP_LEVEL = (FEATURES_FILE, MODEL_DIR, MODEL_INFO, LOG_FILE, SPLIT_FILE, INDEX_FILE, MANIFEST, MARKER, LOCK_NAME)
#: The longest folder name of a video (bytes): staging names add about 30 to it.
MAX_NAME_BYTES = 200
#: Training epochs of a model trained by ``summarize`` (chosen with benchmarks/self_train.py;
#: see the README's "Training on your own videos").
DEFAULT_EPOCHS = 20

log = logging.getLogger("acsumgan.summarize")

#: ``progress(stage, label, done, total, info)``: stage is "features" (frames of one
#: video decoded), "shots" (KTS windows of one video), "training" (epochs),
#: "encoding" (frames of one summary written), "summaries" (videos); ``label`` names
#: the video; ``info`` a short status text (the unit, or what was reused).
Progress = Callable[[str, str, int, int, str], None]
#: The unit each stage of :func:`acsumgan.summarize.summary.summarize_video` counts.
STAGE_UNITS = {"features": "frames", "shots": "KTS windows", "encoding": "frames"}


def _events(progress: Progress | None):
    """``progress`` as an :data:`acsumgan.progress.Progress` (until this module reports events itself)."""
    if progress is None:
        return None
    return lambda e: progress(e.stage, e.item, e.done, e.total or 0, e.note or STAGE_UNITS.get(e.stage, ""))


# --- the model ---------------------------------------------------------------------------------


@dataclass
class Model:
    run_dir: Path
    trained: bool  # trained (or resumed) by this call
    epochs: int
    seconds: float


def ensure_model(
    out: Path,
    dataset: Path,
    keys: Sequence[str] | None,
    epochs: int,
    seed: int,
    device: str,
    threads: int | None,
    progress: Progress | None = None,
    options: dict | None = None,
    digest: str | None = None,
) -> Model:
    """The model of ``out/model``, trained on ``dataset`` (its ``keys``, default all) unless
    an equal model is there already (same feature digest, epochs, seed and ``options``:
    other :class:`~acsumgan.config.TrainConfig` fields, e.g. ``hidden_size``). ``digest``:
    the features' digest when the caller read them already."""
    from ..runs import RunFolder
    from ..train.trainer import train

    run = RunFolder(out / MODEL_DIR)
    info_path = out / MODEL_INFO
    options = dict(options or {})
    for k in ("n_epochs", "seed", "device", "threads", "split_index"):
        if k in options:
            raise ConfigError(
                None, f"training option {k!r} is set by summarize itself (use --epochs, --seed, --device, --threads)"
            )
    cfg = TrainConfig.from_dict(
        {
            **options,
            "n_epochs": int(epochs),
            "seed": int(seed),
            "device": device,
            "threads": threads,
            "checkpoint_interval_s": options.get("checkpoint_interval_s", 60.0),
        }
    )
    cfg.validate()
    want = {
        "features_digest": digest or features_digest(dataset, keys),
        "epochs": int(epochs),
        "seed": int(seed),
        "train_keys": None if keys is None else list(keys),
        "options": options,
    }
    have = {}
    if info_path.is_file():
        try:
            have = json.loads(info_path.read_text())
        except (OSError, ValueError):
            have = {}
    same = {k: have.get(k) for k in want} == want
    if same and run.is_complete():
        log.info("model: %s reused (the same training features)", run.path)
        return Model(run.path, False, epochs, 0.0)
    splits = None
    if keys is not None:
        splits = write_json(out / SPLIT_FILE, [{"train_keys": list(keys), "test_keys": []}])

    def on_epoch(row: dict) -> None:
        if progress is not None:
            progress("training", "epochs", int(row["epoch"]) + 1, int(epochs), f"reward {row['reward']:.4f}")

    t0 = time.perf_counter()
    write_json(info_path, {**want, "state": "training"})
    train(cfg, dataset, splits, run.path, force=not same, on_epoch=on_epoch)
    seconds = time.perf_counter() - t0
    write_json(info_path, {**want, "state": "complete", "seconds": round(seconds, 3)})
    log.info("model: trained %d epochs into %s (%.1f s)", epochs, run.path, seconds)
    return Model(run.path, True, epochs, seconds)


# --- the whole call ------------------------------------------------------------------------------


def output_names(
    paths: Sequence[Path], reserved: Sequence[str] = (MODEL_DIR,), usable: Callable[[str], bool] | None = None
) -> list[str]:
    """A distinct folder name per video: its stem made safe (:func:`safe_name`), then
    ``-2``, ``-3`` ... for repeats, ``reserved`` names (compared without case) and names
    ``usable`` refuses."""
    used = {r.casefold() for r in reserved}
    names = []
    for p in paths:
        base = safe_name(p.stem)
        n = 1
        while True:
            name = base if n == 1 else _fit(base, f"-{n}")
            if name.casefold() not in used and (usable is None or usable(name)):
                break
            n += 1
        used.add(name.casefold())
        names.append(name)
    return names


def safe_name(stem: str) -> str:
    """A video's stem as a folder name: ``video`` for an empty one, ``.`` or ``..``; a
    leading ``_`` before a leading dot (no hidden folder, never a staging folder's name);
    at most :data:`MAX_NAME_BYTES` bytes (cut, with a digest of the whole stem)."""
    if stem.strip(" .") == "":
        return "video"
    if stem.startswith("."):
        stem = "_" + stem
    if len(os.fsencode(stem)) <= MAX_NAME_BYTES:
        return stem
    digest = hashlib.sha1(os.fsencode(stem)).hexdigest()[:8]
    return _fit(stem, "-" + digest)


def _fit(base: str, suffix: str) -> str:
    """``base + suffix`` within :data:`MAX_NAME_BYTES` bytes (``base`` cut by characters)."""
    while base and len(os.fsencode(base + suffix)) > MAX_NAME_BYTES:
        base = base[:-1]
    return base + suffix


@dataclass
class OutputPlan:
    """Where one call writes, decided before any work (:func:`plan_outputs`)."""

    out: Path
    targets: list[Path]  # each video's summary folder (``out`` itself for one video)
    writes: list[str]  # the names the call writes into ``out`` itself
    notes: list[str] = field(default_factory=list)  # a video's folder that took another name, and why


def _inputs(paths: Sequence[Path], model=None, train_on=None) -> list[tuple[str, str]]:
    """(what, real path) of every input of a call."""
    out = [(f"the video {p}", os.path.realpath(p)) for p in paths]
    if model is not None:
        out.append((f"--model {model}", os.path.realpath(model)))
    if train_on is not None:
        out.append((f"--train-on {train_on}", os.path.realpath(train_on)))
    return out


def _overlap(path: str | os.PathLike, inputs: list[tuple[str, str]]) -> str | None:
    """How the output ``path`` meets an input: it is one, holds one or lies inside one."""
    real = Path(os.path.realpath(path))
    for what, inp in inputs:
        i = Path(inp)
        if real == i:
            return f"is {what}"
        if real in i.parents:
            return f"holds {what}"
        if i in real.parents:
            return f"lies inside {what}"
    return None


def check_inputs_apart(videos, out, model=None, train_on=None) -> None:
    """A one-line OutputError when the output folder is an input or lies inside one
    (``--model``'s run folder, the ``--train-on`` folder): checked before anything is
    written, the lock included."""
    inputs = _inputs([Path(v) for v in videos], model, train_on)
    real = Path(os.path.realpath(out))
    for what, inp in inputs:
        i = Path(inp)
        if real == i or i in real.parents:
            raise OutputError(out, f"{'is' if real == i else 'lies inside'} {what}, an input; use another --out")


def plan_outputs(
    videos,
    out,
    model=None,
    train_on=None,
    page: bool = True,
    force: bool = False,
) -> OutputPlan:
    """Where each output goes, or a one-line OutputError, before any work: the names the
    call writes into ``out`` must not meet an input and must be acsumgan's own (or free);
    ``features.h5`` of someone else's is replaced with ``force`` only. A video's folder
    that is not acsumgan's, or meets an input, is left alone: the summary takes the next
    name (``<video>-2``), with a note."""
    paths = [Path(v) for v in videos]
    out = Path(out)
    check_inputs_apart(paths, out, model, train_on)
    inputs = _inputs(paths, model, train_on)
    manifest = Manifest(out)
    single = len(paths) == 1
    writes = [LOG_FILE]
    if model is None:
        writes += [FEATURES_FILE, MODEL_DIR, MODEL_INFO]
        if train_on is not None and Path(train_on).is_dir():
            writes.append(SPLIT_FILE)
    if not single and page:
        writes.append(INDEX_FILE)
    for name in writes + (list(MEMBERS) if single else []):
        where = out / name
        how = _overlap(where, inputs)
        if how is not None:
            raise OutputError(where, f"{how}, an input; use another --out")
        if not manifest.owns(name) and not (name == FEATURES_FILE and force):
            hint = "move it or use another --out"
            if name == FEATURES_FILE:
                hint = "pass --force to replace it, or use another --out"
            raise OutputError(where, f"exists and was not written by acsumgan; {hint}")
    refused: dict[str, str] = {}

    def usable(name: str) -> bool:
        if name not in refused:
            where = out / name
            how = _overlap(where, inputs)
            if how is None and occupied(where) and not owned_folder(where):
                how = "was not written by acsumgan (or was changed since)"
            refused[name] = how or ""
        return not refused[name]

    notes: list[str] = []
    if single:
        targets = [out]
    else:
        names = output_names(paths, reserved=TOP_LEVEL + MEMBERS, usable=usable)
        targets = [out / n for n in names]
        for p, t in zip(paths, targets):
            first = safe_name(p.stem)
            if refused.get(first):
                notes.append(
                    f"{out / first} {refused[first]}: it is left as it is; the summary of {p.name} goes to {t}"
                )
    return OutputPlan(out, targets, writes, notes)


def _setup_log(out: Path) -> logging.Handler:
    handler = LogFile(out / LOG_FILE)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


@dataclass
class PipelineResult:
    out: Path
    summaries: list  # SummaryResult per video, in the order given
    pages: list[Path]  # summary.html per video (empty with page=False)
    index: Path | None  # index.html (several videos)
    features: Features | None  # None with a given model
    model: Model | None
    model_path: Path  # the checkpoint used
    seconds: float


def summarize_videos(
    videos: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    model: str | os.PathLike | None = None,
    train_on: str | os.PathLike | None = None,
    epochs: int | None = None,
    budget: float = 0.15,
    seconds: float | None = None,
    backbone: str | None = None,
    device: str = "cpu",
    policy: str = "sample",
    seed: int = 0,
    eval_samples: int = 1,
    rule: str = "label-free",
    split: int | None = None,
    rate: float = DEFAULT_RATE,
    max_shot_seconds: float | str | None = "auto",
    crf: int = 18,
    threads: int | None = None,
    train_options: dict | None = None,
    page: bool = True,
    progress: Progress | None = None,
    force: bool = False,
    plan: OutputPlan | None = None,
) -> PipelineResult:
    """Summarize ``videos`` into ``out`` (see the module docstring).

    ``model`` (a checkpoint, run or experiment folder) is used as it is; without it a
    model is trained on the videos (or on ``train_on``: a folder of videos or an eccv16
    HDF5 file with features) for ``epochs`` (default :data:`DEFAULT_EPOCHS`), with the
    release's options unless ``train_options`` (TrainConfig fields) says otherwise.
    ``plan`` (:func:`plan_outputs`, made by a caller that holds ``out``'s lock) says where
    each output goes; it is made here otherwise. ``force`` replaces a ``features.h5`` in
    ``out`` that acsumgan did not write.
    """
    from ..inference import Scorer
    from ..media.decode import probe
    from .backbones import backbone_for_model, get_backbone
    from .summary import summarize_video

    t_start = time.perf_counter()
    paths = [Path(v) for v in videos]
    if not paths:
        raise ConfigError(None, "no videos given")
    for p in paths:  # a missing or unreadable video fails now, not after the others are done
        probe(p)
    if model is not None and (train_on is not None or epochs is not None or train_options):
        raise ConfigError(
            None, "--train-on, --epochs and --train-config train a model; they cannot be used with --model"
        )
    if epochs is not None and int(epochs) < 1:
        raise ConfigError(None, f"--epochs must be >= 1, got {epochs}")
    if plan is None:
        plan = plan_outputs(paths, out, model=model, train_on=train_on, page=page, force=force)
    train_paths, train_h5, train_digest = [], None, None
    if model is None:  # --train-on is read completely before anything is written
        train_paths, train_h5 = _training_set(train_on)
        if train_h5 is not None:
            train_digest = features_digest(train_h5)
    scorer = bb = None
    if model is not None:  # check the model before anything is written
        scorer = Scorer.load(
            model, policy=policy, seed=seed, device=device, rule=rule, split=split, samples=eval_samples
        )
        bb = get_backbone(
            backbone or backbone_for_model(scorer.input_size, scorer.backbone, scorer.path), device=device
        )
        scorer.check_features(bb.dim, f"backbone {bb.name}")
    out = ensure_dir(out)
    manifest = Manifest(out)
    manifest.begin([LOG_FILE], kind=LOG)
    if model is None:
        manifest.begin([MODEL_DIR], kind=FOLDER)
    manifest.begin([n for n in plan.writes if n not in (LOG_FILE, MODEL_DIR)])
    handler = _setup_log(out)
    try:
        for note in plan.notes:
            log.info("note: %s", note)
        feats = trained = None
        if model is None:
            bb_name = backbone or DEFAULT_BACKBONE
            all_paths = list(dict.fromkeys([*paths, *train_paths]))  # the targets first, no repeats
            feats = video_features(all_paths, out, bb_name, device, rate, _events(progress))
            if train_h5 is not None:
                dataset, keys = train_h5, None
                _check_dims(train_h5, feats)
            else:
                dataset = feats.path
                keys = None if not train_paths else [feats.keys[all_paths.index(p)] for p in train_paths]
            trained = ensure_model(
                out,
                dataset,
                keys,
                epochs or DEFAULT_EPOCHS,
                seed,
                device,
                threads,
                progress,
                train_options,
                digest=train_digest if train_h5 is not None else None,
            )
            scorer = Scorer.load(trained.run_dir, policy=policy, seed=seed, device=device, samples=eval_samples)
        results, pages = [], []
        for i, (p, target) in enumerate(zip(paths, plan.targets)):

            def on_stage(kind, done, total, _p=p):
                if progress is not None:
                    progress(kind, _p.name, done, total, STAGE_UNITS.get(kind, ""))

            extracted = cps = None
            if feats is not None:
                extracted, cps = feats.extracted[i], None
            # one unit: written to a staging folder, swapped in whole (video/unit.py)
            with summary_unit(target, whole=len(paths) > 1, source=p) as stage:
                res = summarize_video(
                    p,
                    scorer,
                    stage,
                    budget=budget,
                    seconds=seconds,
                    backbone=bb or DEFAULT_BACKBONE,
                    device=device,
                    rate=rate,
                    progress=on_stage,
                    crf=crf,
                    max_shot_seconds=max_shot_seconds,
                    extracted=extracted,
                    change_points=cps,
                )
                page_path = write_review_page(res, final_dir=target) if page else None
            res = _moved(res, target)
            results.append(res)
            log.info(
                "summary: %s -> %s (%d of %d shots, %.1f s)",
                p.name,
                res.summary_path,
                len(res.selected),
                len(res.change_points),
                res.summary_seconds,
            )
            if page_path is not None:
                pages.append(target / page_path.name)
            if progress is not None:
                progress("summaries", "videos", i + 1, len(paths), p.name)
        index = write_index(out, results, pages) if page and len(paths) > 1 else None
    finally:
        log.removeHandler(handler)
        handler.close()
        with contextlib.suppress(OutputError):  # what was written is recorded; else it stays pending (owned)
            manifest.settle([n for n in plan.writes if n not in (LOG_FILE, MODEL_DIR)])
    return PipelineResult(out, results, pages, index, feats, trained, Path(scorer.path), time.perf_counter() - t_start)


def _training_set(train_on) -> tuple[list[Path], Path | None]:
    """(videos to train on besides the targets, or an HDF5 file to train on)."""
    if train_on is None:
        return [], None
    p = Path(train_on)
    if p.is_dir():
        return _videos_in(p), None
    if not p.exists():
        raise ConfigError(p, "--train-on: not found (a folder of videos or an HDF5 dataset file)")
    load_dataset(p, purpose="train")  # a one-line error now if it cannot be trained on
    return [], p


def _videos_in(folder: Path) -> list[Path]:
    from ..media.decode import folder_videos, probe, skipped_note

    found, skipped = folder_videos(folder)
    if not found:
        raise ConfigError(folder, "--train-on: the folder holds no video files")
    for p in found:  # a bad one fails now, before the features of the others are computed
        probe(p)
    if skipped:
        log.info("--train-on %s", skipped_note(folder, skipped))
    return found


def _check_dims(train_h5: Path, feats: Features) -> None:
    from ..errors import FeatureSizeError

    videos = load_dataset(train_h5, purpose="train")
    dim = int(next(iter(videos.values())).features.shape[1])
    have = int(feats.extracted[0].features.shape[1])
    if dim != have:
        raise FeatureSizeError(
            train_h5,
            f"--train-on: features have {dim} dimensions but the videos' "
            f"{feats.extracted[0].backbone} features have {have}",
        )


def _shot_scores(scores: np.ndarray, picks: np.ndarray, change_points: np.ndarray) -> list[float]:
    """Mean step score of each shot (a shot without a step: the score of the step before it)."""
    out = []
    for a, b in change_points:
        inside = (picks >= a) & (picks <= b)
        if np.any(inside):
            out.append(float(np.mean(scores[inside])))
        else:
            j = max(0, int(np.searchsorted(picks, a, side="right")) - 1)
            out.append(float(scores[j]))
    return out


def _moved(res, target: Path):
    """``res`` (a SummaryResult written to a staging folder) with its paths in ``target``."""
    from dataclasses import replace

    return replace(
        res,
        out_dir=target,
        summary_path=target / res.summary_path.name,
        segments_path=target / res.segments_path.name,
        plot_path=target / res.plot_path.name,
    )


def write_review_page(res, final_dir: Path | None = None) -> Path:
    """summary.html and thumbs/ beside a summary (a :class:`~acsumgan.summarize.summary.SummaryResult`);
    links to the source video are relative to ``final_dir`` (where the page will lie) when given."""
    from ..media.browser import playable_href, relative_href, write_thumbnails
    from ..media.times import FrameTimes
    from ..pages.summary import ShotView, SummaryView, write_summary_page

    ex = res.extracted
    out = res.out_dir
    cps = np.asarray(res.change_points, dtype=np.int64)

    times = FrameTimes(ex.n_frames, res.fps, ex.frame_times, ex.constant_rate)

    def at(frame: int) -> float:
        return times.at(int(frame))

    thumbs = write_thumbnails(res.video_path, [(int(a), int(b)) for a, b in cps], out / "thumbs")
    for old in set((out / "thumbs").glob("*.jpg")) - set(thumbs):  # an earlier call's, with other shots
        old.unlink()
    kept = set(int(i) for i in res.selected)
    scores = _shot_scores(np.asarray(res.scores), np.asarray(res.picks), cps)
    shots = [
        ShotView(
            index=i + 1,
            start_frame=int(a),
            end_frame=int(b),
            start_seconds=at(a),
            end_seconds=at(b + 1),
            score=scores[i],
            kept=i in kept,
            thumbnail=relative_href(thumbs[i], out),
        )
        for i, (a, b) in enumerate(cps)
    ]
    seg = res.segments
    view = SummaryView(
        title=res.video_path.name,
        video_href=playable_href(res.video_path, out, base_dir=final_dir),
        summary_href=relative_href(res.summary_path, out),
        fps=float(res.fps),
        n_frames=int(res.n_frames),
        duration_seconds=at(res.n_frames),
        curve_times=[float(t) for t in res.timestamps],
        curve_scores=[float(x) for x in res.scores],
        shots=shots,
        budget=None if seg.get("seconds_requested") is not None else float(res.budget),
        seconds_requested=seg.get("seconds_requested"),
        summary_seconds=float(res.summary_seconds),
        links={
            "summary.mp4": relative_href(res.summary_path, out),
            "segments.json": relative_href(res.segments_path, out),
            "scores.png": relative_href(res.plot_path, out),
        },
    )
    return write_summary_page(out / "summary.html", view)


def write_index(out: Path, results, pages: Sequence[Path]) -> Path:
    """index.html linking every video's review page."""
    from ..media.browser import relative_href
    from ..pages.summary import IndexEntry, write_index_page

    entries = []
    for res, page in zip(results, pages):
        thumbs = sorted((res.out_dir / "thumbs").glob("shot*.jpg"))  # this call's: others were removed
        first_kept = min(res.selected) if res.selected else 0
        thumb = thumbs[first_kept] if first_kept < len(thumbs) else None
        entries.append(
            IndexEntry(
                title=res.video_path.name,
                href=relative_href(page, out),
                duration_seconds=float(res.segments.get("duration_seconds", res.n_frames / res.fps)),
                summary_seconds=float(res.summary_seconds),
                thumbnail=None if thumb is None else relative_href(thumb, out),
                shots_kept=len(res.selected),
                shots_total=len(res.change_points),
            )
        )
    return write_index_page(out / "index.html", entries)
