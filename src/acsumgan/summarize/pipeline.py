"""From videos to summaries a person can review, in one call (``acsumgan summarize``):
:func:`summarize_videos` (and :func:`summarize_video`, one video into a folder).

With a model (``model=``) every video is summarized with it. Without one, AC-SUM-GAN
needs no labels, so the videos (or a larger collection, ``train_on=``) train a model
first. Everything is kept in the output folder and reused by the next call:

    DIR/features.h5      features, picks and KTS shots of every video (eccv16 schema), with
                         each source file's size and modification time and what the summary
                         needs to map steps to frames
    DIR/model/           the run folder of the model trained on them (``acsumgan train``)
    DIR/model.json       what the model was trained on (a digest of the features) and how
    DIR/summarize.log    what each call computed and what it reused
    DIR/<video>/         summary.mp4, segments.json, scores.png, analysis.h5, summary.html, thumbs/
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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .. import __version__
from ..config import TrainConfig
from ..data.dataset import load_dataset
from ..errors import ConfigError, FeatureSizeError, OutputError, TasksFailed
from ..fileio import LogFile, ensure_dir, write_json
from ..inference import Scorer
from ..locks import LOCK_NAME
from ..media.decode import folder_videos, probe, skipped_note
from ..progress import Progress, for_item, report
from ..runs import RunFolder
from ..train.trainer import train
from .backbones import DEFAULT_BACKBONE, as_backbone, backbone_for_model, get_backbone
from .distributed import summary_of_cached
from .features import (
    FEATURES_FILE,
    ExtractedFeatures,
    Features,
    driver_threads,
    extract_features,
    features_digest,
    source_identity,
    video_features,
)
from .options import DEFAULT_EPOCHS, SummarizeOptions
from .outputs import INDEX_FILE, SummaryFiles, write_index, write_review_page, write_summary
from .ownership import FOLDER, LOG, MANIFEST, MARKER, Manifest, made_of, occupied, owned_folder, sha256_of
from .rows import SummaryRow, row_of_record, row_record, summary_row
from .summary import (
    Observe,
    compute_summary,
    timed,
)
from .unit import MEMBERS, summary_unit

__all__ = ["DEFAULT_EPOCHS", "SummarizeOptions", "summarize_video", "summarize_videos"]

MODEL_DIR = "model"
MODEL_INFO = "model.json"
LOG_FILE = "summarize.log"
SPLIT_FILE = "training_split.json"
#: What summarize may write into DIR itself: no video's folder takes these names.
TOP_LEVEL = (FEATURES_FILE, MODEL_DIR, MODEL_INFO, LOG_FILE, SPLIT_FILE, INDEX_FILE, MANIFEST, MARKER, LOCK_NAME)
#: The longest folder name of a video (bytes): staging names add about 30 to it.
MAX_NAME_BYTES = 200

log = logging.getLogger("acsumgan.summarize")

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
    options: SummarizeOptions,
    progress: Progress | None = None,
    digest: str | None = None,
) -> Model:
    """The model of ``out/model``, trained on ``dataset`` (its ``keys``, default all) for
    ``options.epochs`` (default :data:`DEFAULT_EPOCHS`) with ``options.seed``, ``device``
    and ``threads``, unless an equal model is there already (same feature digest, epochs,
    seed and ``options.train_options``: other :class:`~acsumgan.config.TrainConfig`
    fields, e.g. ``hidden_size``). ``digest``: the features' digest when the caller read
    them already. "training" events (epochs) go to ``progress``."""
    run = RunFolder(out / MODEL_DIR)
    info_path = out / MODEL_INFO
    epochs, seed = options.epochs or DEFAULT_EPOCHS, options.seed
    train_options = dict(options.train_options or {})  # checked by SummarizeOptions
    cfg = TrainConfig.from_dict(
        {
            **train_options,
            "n_epochs": int(epochs),
            "seed": int(seed),
            "device": options.device,
            "threads": options.threads,
            "checkpoint_interval_s": train_options.get("checkpoint_interval_s", 60.0),
        }
    )
    cfg.validate()
    want = {
        "features_digest": digest or features_digest(dataset, keys),
        "epochs": int(epochs),
        "seed": int(seed),
        "train_keys": None if keys is None else list(keys),
        "options": train_options,
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
        report(progress, "training", int(row["epoch"]) + 1, int(epochs), f"reward {row['reward']:.4f}", "epochs")

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
    summaries: list[SummaryFiles]  # per video, in the order given
    pages: list[Path]  # summary.html per video (empty with page=False)
    index: Path | None  # index.html (several videos)
    features: Features | None  # None with a given model
    model: Model | None
    model_path: Path  # the checkpoint used
    seconds: float
    rows: list[SummaryRow] = field(default_factory=list)  # per video summarized (computed or reused), in order


def check_videos(videos: Sequence[str | os.PathLike], train_on: str | os.PathLike | None = None) -> list[str]:
    """Probe every video, and those of a ``train_on`` folder: a one-line error for the first
    bad one, before any work. Returns the notes to show (the folder's other files, skipped)."""
    for p in videos:
        probe(p)
    notes = []
    if train_on is not None and Path(train_on).is_dir():
        found, skipped = folder_videos(train_on)
        for p in found:
            probe(p)
        if skipped:
            notes.append(f"--train-on {skipped_note(train_on, skipped)}")
    return notes


def summarize_videos(
    paths: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    options: SummarizeOptions | None = None,
    model: str | os.PathLike | None = None,
    train_on: str | os.PathLike | None = None,
    progress: Progress | None = None,
    *,
    plan: OutputPlan | None = None,
    pool=None,
) -> PipelineResult:
    """Summarize the videos ``paths`` into ``out`` (see the module docstring), as
    ``options`` says (default :class:`SummarizeOptions`).

    ``model`` (a checkpoint, run or experiment folder) is used as it is; without it a
    model is trained on the videos (or on ``train_on``: a folder of videos or an eccv16
    HDF5 file with features) for ``options.epochs`` (default :data:`DEFAULT_EPOCHS`), with
    the release's options unless ``options.train_options`` (TrainConfig fields) says
    otherwise. ``progress`` gets :class:`~acsumgan.progress.Event` s: "features",
    "shots" and "encoding" of each video (``item``: its name), "training" (epochs) and
    "summaries" (videos done; ``note``: the last one's name).
    ``plan`` (:func:`plan_outputs`, made by a caller that holds ``out``'s lock and has
    checked the inputs with :func:`check_videos`) says where each output goes; without
    it the inputs are checked and the outputs planned here.
    ``pool`` (a :class:`~acsumgan.cluster.pool.RayPool`, ``--executor ray``): one task per
    video for its features and shots, and one per summary, with this process's thread
    count (bitwise a local run's results); the model is trained here. Each result is
    kept as it arrives, and a summary folder that is up to date (made by such a call from
    the same video, features, model and options, and unchanged since: its marker says so)
    is reused, so a call run again after a crash does only what is missing. Videos whose
    task failed for good are named in a :class:`~acsumgan.errors.TasksFailed` raised when
    the others are done.
    """
    options = options or SummarizeOptions()
    t_start = time.perf_counter()
    paths = [Path(v) for v in paths]
    if not paths:
        raise ConfigError(None, "no videos given")
    if plan is None:  # a missing or unreadable video fails now, not after the others are done
        check_videos(paths, train_on)
    if model is not None and (train_on is not None or options.trains):
        raise ConfigError(
            None, "--train-on, --epochs and --train-config train a model; they cannot be used with --model"
        )
    if plan is None:
        plan = plan_outputs(paths, out, model=model, train_on=train_on, page=options.page, force=options.force)
    train_paths, train_h5, train_digest = [], None, None
    if model is None:  # --train-on is read completely before anything is written
        train_paths, train_h5 = _training_set(train_on)
        if train_h5 is not None:
            train_digest = features_digest(train_h5)
    scorer = bb = None
    if model is not None:  # check the model before anything is written
        scorer = _scorer(model, options)
        bb = get_backbone(
            options.backbone or backbone_for_model(scorer.input_size, scorer.backbone, scorer.path),
            device=options.device,
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
            bb_name = options.backbone or DEFAULT_BACKBONE
            all_paths = list(dict.fromkeys([*paths, *train_paths]))  # the targets first, no repeats
            feats = video_features(all_paths, out, bb_name, options.device, options.rate, progress, pool=pool)
            if feats.failed:  # the model trains on every video: nothing more until they all have features
                raise TasksFailed(out / FEATURES_FILE, feats.failed, len(all_paths))
            if train_h5 is not None:
                dataset, keys = train_h5, None
                _check_dims(train_h5, feats)
            else:
                dataset = feats.path
                keys = None if not train_paths else [feats.keys[all_paths.index(p)] for p in train_paths]
            digest = train_digest if train_h5 is not None else feats.digest(keys)  # nothing read again
            trained = ensure_model(out, dataset, keys, options, progress, digest=digest)
            scorer = _scorer(trained.run_dir, options, trained=True)
        multi = len(paths) > 1
        index_dir = out if multi and options.page else None
        rows: list[SummaryRow | None] = [None] * len(paths)
        summaries: list[SummaryFiles] = []
        if pool is None:
            for i, (p, target) in enumerate(zip(paths, plan.targets)):
                item = for_item(progress, p.name)
                # one unit: written to a staging folder, swapped in whole (summarize/unit.py)
                with summary_unit(target, whole=multi, source=p) as stage:
                    if feats is not None:  # the cached features and KTS shots
                        summary = summary_of_cached(
                            p, feats.extracted[i], feats.change_points[i], scorer, options, item
                        )
                    else:
                        ex = extract_features(p, bb, rate=options.rate, progress=item)
                        summary = compute_summary(ex, scorer, options, video=p, progress=item)
                    files = write_summary(summary, stage, options, final=target, progress=item, analysis=True)
                    page = write_review_page(files, stage) if options.page else None
                summaries.append(files)
                rows[i] = summary_row(files, page, index_dir)
                _log_summary(rows[i], files.summary_path)
                report(progress, "summaries", i + 1, len(paths), p.name, "videos")
            failed = []
        else:
            backbone = bb_name if feats is not None else bb.name
            failed = _summaries_on(
                pool, paths, plan.targets, feats, scorer, backbone, options, index_dir, rows, progress
            )
        done = [r for r in rows if r is not None]
        pages = [r.page_path for r in done if r.page]
        index = write_index(out, [r.index for r in done if r.index is not None]) if index_dir and done else None
        if failed:
            raise TasksFailed(out, failed, len(paths))
    finally:
        log.removeHandler(handler)
        handler.close()
        with contextlib.suppress(OutputError):  # what was written is recorded; else it stays pending (owned)
            manifest.settle([n for n in plan.writes if n not in (LOG_FILE, MODEL_DIR)])
    return PipelineResult(
        out, summaries, pages, index, feats, trained, Path(scorer.path), time.perf_counter() - t_start, done
    )


def _log_summary(row: SummaryRow, summary_path: Path) -> None:
    log.info(
        "summary: %s -> %s (%d of %d shots, %.1f s)",
        row.video,
        summary_path,
        row.kept,
        row.shots,
        row.summary_seconds,
    )


def _made(path: Path, model_digest: str, backbone: str, options: SummarizeOptions, threads: int) -> dict:
    """What a summary is made from: the video (path, size, time), the model's weights, the
    backbone, the options and threads; a summary folder whose marker has the same digest
    and whose files are unchanged is the one this call would write."""
    opts = {k: v for k, v in asdict(options).items() if k != "force"}
    what = {
        "source": source_identity(path),
        "model": model_digest,
        "backbone": backbone,
        "options": opts,
        "threads": threads,
        "version": __version__,
    }
    return {"digest": hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()}


def _summaries_on(pool, paths, targets, feats, scorer, backbone, options, index_dir, rows, progress) -> list[str]:
    """The summaries as Ray tasks (the ones not up to date), each unpacked into its unit as it
    arrives; returns the failures (one line each)."""
    from ..cluster.pool import Failed
    from .distributed import summary_task, unpack

    threads = driver_threads()
    model_digest = sha256_of(scorer.path)
    multi = len(paths) > 1
    n = len(paths)
    made, todo = [], []
    for i, (p, target) in enumerate(zip(paths, targets)):
        made.append(_made(p, model_digest, backbone, options, threads))
        record = made_of(target) if multi else None
        row = None
        if record is not None and record.get("digest") == made[i]["digest"]:
            row = row_of_record(record.get("row") or {}, target)
        if row is not None:
            rows[i] = row
            log.info("summary: %s up to date in %s (reused)", p.name, target)
        else:
            todo.append(i)
    done = n - len(todo)
    if done:
        report(progress, "summaries", done, n, "reused", "videos")
    args = []
    for i in todo:
        ex = cps = None
        if feats is not None:
            ex, cps = feats.extracted[i], feats.change_points[i]
        args.append(
            (
                str(paths[i]),
                ex,
                cps,
                str(scorer.path),
                backbone,
                options,
                str(targets[i]),
                None if index_dir is None else str(index_dir),
                threads,
            )
        )
    failed = []
    for j, res in pool.map(summary_task, args):
        i = todo[j]
        p, target = paths[i], targets[i]
        if isinstance(res, Failed):
            failed.append(f"{p}: {res.error}")
            log.info("summary: %s failed: %s", p.name, res.error)
            continue
        row = res.row
        with summary_unit(target, whole=multi, source=p, made={**made[i], "row": row_record(row)}) as stage:
            unpack(res.archive, stage)
        rows[i] = row
        _log_summary(row, row.summary_path)
        done += 1
        report(progress, "summaries", done, n, p.name, "videos")
    return failed


def _scorer(model, options: SummarizeOptions, trained: bool = False) -> Scorer:
    """The scorer of a given model (``rule``, ``split`` choose in an experiment folder) or of
    the model trained here."""
    if trained:
        return Scorer.load(
            model, policy=options.policy, seed=options.seed, device=options.device, samples=options.eval_samples
        )
    return Scorer.load(
        model,
        policy=options.policy,
        seed=options.seed,
        device=options.device,
        rule=options.rule,
        split=options.split,
        samples=options.eval_samples,
    )


def summarize_video(
    path: str | os.PathLike,
    scorer: Callable[[np.ndarray], np.ndarray],
    out_dir: str | os.PathLike,
    options: SummarizeOptions | None = None,
    extracted: ExtractedFeatures | None = None,
    change_points: np.ndarray | None = None,
    progress: Progress | None = None,
    observe: Observe | None = None,
) -> SummaryFiles:
    """Summarise the video at ``path`` into ``out_dir`` (summary.mp4, segments.json,
    scores.png): :func:`~acsumgan.summarize.summary.compute_summary`, then
    :func:`~acsumgan.summarize.outputs.write_summary`.

    ``scorer(features (T, D) float32) -> (T,)`` gives step importance; ``options``: the
    budget, backbone, rate, device, crf ... (default :class:`SummarizeOptions`).
    ``extracted`` / ``change_points`` (e.g. from an earlier result) skip those stages.
    ``progress`` gets the events "features" (frames decoded), "shots" (KTS windows, see
    :func:`acsumgan.summarize.kts.kts`) and "encoding" (frames written), ``item`` the
    video's name. ``observe(stage)``, a context manager, wraps each stage (``timings``'
    names; the benchmarks measure each stage's peak memory with it).
    """
    t_start = time.perf_counter()
    options = options or SummarizeOptions()
    video_path = Path(path)
    out_dir = ensure_dir(out_dir)
    progress = for_item(progress, video_path.name)
    timings: dict[str, float] = {}
    with timed(timings, "decode_features", observe):
        if extracted is None:
            extracted = extract_features(
                video_path,
                as_backbone(options.backbone or DEFAULT_BACKBONE, options.device),
                rate=options.rate,
                progress=progress,
            )
    summary = compute_summary(
        extracted, scorer, options, change_points, video=video_path, progress=progress, observe=observe
    )
    files = write_summary(summary, out_dir, options, progress=progress, observe=observe, analysis=True)
    files.timings = {**timings, **files.timings, "total": time.perf_counter() - t_start}
    return files


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
    """The videos of a ``--train-on`` folder (probed by :func:`check_videos`)."""
    found, skipped = folder_videos(folder)
    if not found:
        raise ConfigError(folder, "--train-on: the folder holds no video files")
    if skipped:
        log.info("--train-on %s", skipped_note(folder, skipped))
    return found


def _check_dims(train_h5: Path, feats: Features) -> None:
    videos = load_dataset(train_h5, purpose="train")
    dim = int(next(iter(videos.values())).features.shape[1])
    have = int(feats.extracted[0].features.shape[1])
    if dim != have:
        raise FeatureSizeError(
            train_h5,
            f"--train-on: features have {dim} dimensions but the videos' "
            f"{feats.extracted[0].backbone} features have {have}",
        )
