"""Train AC-SUM-GAN on a dataset file and split, evaluating after every epoch (method.md 6-7).

A run is: start (or resume an unfinished run), then for every epoch train on the
training videos (:func:`acsumgan.train.update.train_step` per batch), score the test
videos, and commit the epoch's files together; finally mark the run complete. The
files are those of a run folder (:mod:`acsumgan.runs`). The same seed on the same
machine gives the same files (timings aside).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

import numpy as np
import torch

from ..config import TrainConfig, dump_yaml, resolve_device, set_threads, versions
from ..data.dataset import REQUIRED, dataset_attrs
from ..data.splits import get_split
from ..data.stream import Collection, LoadedVideos, VideoReader
from ..errors import (
    SHOWN_CHARS,
    ConfigError,
    FeatureSizeError,
    InterruptedByUser,
    TrainingDivergedError,
    interruption,
)
from ..evaluation.metrics import FScoreResult, evaluate_scores, resolve_metric
from ..evaluation.scores import write_scores
from ..fileio import LogFile, ensure_dir, write_text
from ..locks import hold_lock, signals_held
from ..memory import release_freed_memory
from ..model.episode import Batch, draw_seed, make_batch, score_videos, test_time_uniforms
from ..model.fragments import termination_point
from ..model.networks import ACSumGAN, build_model
from ..progress import Progress, report
from ..runs import COLUMNS, LOSSES, STD_COLUMN, RunFolder, read_metrics  # noqa: F401  (re-exported for callers)
from ..selection import chosen_epoch, kept_epochs
from .checkpoint import read_checkpoint, save_checkpoint
from .feed import check_update_fits, memory_limit, prefetched, test_group_size
from .update import Optimizers, make_draws, train_step

log = logging.getLogger("acsumgan.train")

_DIVERGED = "(training diverged; results up to the previous epoch are kept)"


@dataclass
class RunResult:
    run_dir: Path
    rows: list[dict] = field(default_factory=list)
    chosen_epoch: int | None = None
    metric: str | None = None
    notes: list[str] = field(default_factory=list)  # e.g. "extending the run from 3 to 5 epochs"

    def row(self, epoch: int) -> dict:
        return next(r for r in self.rows if r["epoch"] == epoch)


def run_identity(cfg: TrainConfig, dataset: str, splits: str | None, train_keys, test_keys) -> dict:
    """What makes two runs the same run (compared when resuming into a folder)."""
    ident = cfg.to_dict()
    for k in ("device", "threads", "checkpoint_interval_s", "reward_chunk_steps"):
        ident.pop(k)  # how, not what: may change between a run and its resumption
    if ident.get("eval_samples") == 1:
        ident.pop("eval_samples")  # the default: the same identity as runs made before the option
    return {
        "config": ident,
        "dataset": str(Path(dataset).resolve()),
        "splits": None if splits is None else str(Path(splits).resolve()),
        "train_keys": list(train_keys),
        "test_keys": list(test_keys),
    }


def identity_differences(old: dict, new: dict) -> list[tuple[str, object, object]]:
    """``(key, old value, new value)`` of every difference between two run identities
    (config keys by name; ``dataset``, ``splits``, ``train_keys``, ``test_keys``)."""
    diffs = []
    oc, nc = old.get("config") or {}, new.get("config") or {}
    for k in list(nc) + [k for k in oc if k not in nc]:
        if oc.get(k) != nc.get(k):
            diffs.append((k, oc.get(k), nc.get(k)))
    for k in ("dataset", "splits", "train_keys", "test_keys"):
        if old.get(k) != new.get(k):
            diffs.append((k, old.get(k), new.get(k)))
    return diffs


def _show(value) -> str:
    """A value of a differing key, short enough for a one-line message."""
    if isinstance(value, list):
        return f"{len(value)} videos"
    if value is None:
        return "none"
    text = str(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


class _Shape(NamedTuple):
    """The two sizes :func:`~acsumgan.model.episode.test_time_uniforms` reads of a batch:
    the actor steps N of its longest episode and its number of videos."""

    N: int
    size: int


@dataclass
class _State:
    """What a run carries from epoch to epoch (and what resume.pt saves)."""

    model: ACSumGAN
    opts: Optimizers
    gen: torch.Generator
    rows: list[dict]
    scores: dict[int, dict[str, np.ndarray]]
    next_epoch: int
    draws: dict[int, list[dict[str, np.ndarray]]] = field(default_factory=dict)  # policy samples 1..K-1


class Trainer:
    """Owns one run: data, model, optimizers, generators and the run folder."""

    def __init__(
        self,
        cfg: TrainConfig,
        dataset: str | os.PathLike,
        splits: str | os.PathLike | None,
        out: str | os.PathLike,
        force: bool = False,
        identity_paths: tuple | None = None,
        notify: Callable[[str], None] | None = None,
        stream: bool = True,
    ):
        self.cfg = cfg.validate()
        self.stream = stream
        self.notify = notify
        self.dataset_path = str(dataset)
        self.splits_path = None if splits is None else str(splits)
        # the paths recorded in config.yaml (a Ray task trains on a copy of the files)
        self.identity_paths = identity_paths or (self.dataset_path, self.splits_path)
        self.folder = RunFolder(out)
        self.run_dir = self.folder.path
        self.force = force
        self.device = resolve_device(cfg.device)
        # --threads, else OMP_NUM_THREADS, else every available core: resolved, set and recorded
        self.cfg = dataclasses.replace(self.cfg, threads=set_threads(self.cfg.threads))
        self.notes: list[str] = []  # lines for the person who started the run (the CLI prints them)
        self._load_data()

    # --- data -----------------------------------------------------------------------
    def _load_data(self) -> None:
        """Check every video (one at a time, as :func:`~acsumgan.data.dataset.load_dataset`
        would, with its messages), pick the split and plan the batches. The file stays open:
        the batches are read from it as they are needed (:mod:`acsumgan.train.feed`). With
        ``stream=False`` every video is read into memory first instead (the same numbers)."""
        self.reader = VideoReader(self.dataset_path) if self.stream else LoadedVideos(self.dataset_path)
        try:
            self._plan(self.reader.check("train"))
        except BaseException:
            self.close()
            raise

    def _plan(self, found: Collection) -> None:
        cfg = self.cfg
        if self.splits_path is None:
            self.train_keys, self.test_keys = list(found.keys), []
        else:
            split = get_split(self.splits_path, cfg.split_index, found.keys, need_train=True)
            self.train_keys, self.test_keys = split["train_keys"], split["test_keys"]
        dim = found.dim
        if cfg.input_size is None:  # the dataset's feature size
            self.cfg = cfg = dataclasses.replace(cfg, input_size=int(dim))
        if dim != cfg.input_size:
            raise FeatureSizeError(
                self.dataset_path,
                f"features have {dim} dimensions but input_size is {cfg.input_size} (pass --input_size {dim})",
            )
        self.steps = found.steps
        # the check above validated every field present; "evaluate" needs these four present
        self.annotated = bool(self.test_keys) and all(
            self.reader.has_fields(k, REQUIRED["evaluate"]) for k in self.test_keys
        )
        self.attrs = dataset_attrs(self.dataset_path)
        self.metric = resolve_metric(
            self.dataset_path,
            cfg.eval_metric,
            video_type=cfg.video_type,
            attrs=self.attrs,
            required=self.annotated,
            flag="--eval-metric",
            keys=self.test_keys or None,
        )
        n = len(self.train_keys)
        self.batch_size = n if cfg.batch_size is None else min(cfg.batch_size, n)
        check_update_fits(
            self.batch_size,
            n,
            max(self.steps[k] for k in self.train_keys),
            cfg.input_size,
            cfg.hidden_size,
            cfg.num_layers,
            default=cfg.batch_size is None,
            limit=memory_limit(self.device),
        )
        self._whole_batch: Batch | None = None  # the one batch of an epoch of all training videos
        # the test videos, longest first (the order of one padded batch of them), scored in
        # groups of a bounded size (one group, as one batch, unless the test set is large)
        order = sorted(self.test_keys, key=lambda k: -self.steps[k])
        G = (
            test_group_size(
                len(order), self.batch_size, self.steps[order[0]], cfg.input_size, cfg.hidden_size, cfg.num_layers
            )
            if order
            else 1
        )
        self.test_groups = [order[i : i + G] for i in range(0, len(order), G)]
        self._test_batch: Batch | None = None  # kept when the test videos are one group

    def close(self) -> None:
        """Close the dataset file (:meth:`run` does, once the run ends)."""
        reader = getattr(self, "reader", None)
        if reader is not None:
            reader.close()

    def batches(self, epoch: int) -> list[list[str]]:
        """The release's batching: shuffled each epoch, int(n / B) full batches (the
        remainder sits the epoch out). With B = n, one batch of all training videos."""
        n = len(self.train_keys)
        if self.batch_size >= n:
            return [list(self.train_keys)]
        perm = np.random.default_rng([self.cfg.seed, epoch, 17]).permutation(n)
        B = self.batch_size
        return [[self.train_keys[i] for i in perm[j * B : (j + 1) * B]] for j in range(n // B)]

    def _read_batch(self, keys: list[str]) -> Batch:
        """The padded batch of ``keys``, read from the file one video at a time."""
        feats = [self.reader.features(k) for k in keys]
        return make_batch(feats, keys, self.cfg.action_state_size, self.device)

    def _batch(self, keys: list[str]) -> Batch:
        """The padded batch of ``keys``; the batch of all training videos (the default: the
        same batch every epoch) is read once and kept."""
        if len(keys) < len(self.train_keys):
            return self._read_batch(keys)
        if self._whole_batch is None:
            self._whole_batch = self._read_batch(keys)
        return self._whole_batch

    def _test_batches(self) -> Iterator[Batch]:
        """The padded batches of the test videos (:attr:`test_groups`), read as needed;
        one group is read once and kept."""
        if len(self.test_groups) == 1:
            if self._test_batch is None:
                self._test_batch = self._read_batch(self.test_groups[0])
            yield self._test_batch
            return
        yield from prefetched(self.test_groups, self._read_batch)

    # --- run folder -------------------------------------------------------------------
    def _identity(self) -> dict:
        return run_identity(self.cfg, *self.identity_paths, self.train_keys, self.test_keys)

    def _prepare_folder(self) -> dict | None:
        """Create the folder, or check an existing one; returns the resume state if any."""
        folder = self.folder
        ensure_dir(folder.path)
        extend = None
        if folder.config.exists() and not self.force:
            old, new = folder.read_config().get("identity"), self._identity()
            if old != new:
                extend = self._extension(old, new)
            if folder.is_complete() and extend is None:
                return {"complete": True}
            if folder.resume.exists():
                try:
                    return read_checkpoint(folder.resume)
                except Exception as exc:  # a broken resume file: start over, say so
                    log.warning("resume state unreadable (%s); starting the run over", exc)
        if self.force:
            for p in (folder.path / "COMPLETE", folder.resume, folder.metrics, folder.scores):
                p.unlink(missing_ok=True)
            for p in folder.checkpoints.glob("*.pt"):
                p.unlink()
        if extend is not None:
            (folder.path / "COMPLETE").unlink(missing_ok=True)  # no longer finished: it has epochs to go
        write_text(
            folder.config,
            dump_yaml(
                {
                    "identity": self._identity(),
                    "resolved": self.cfg.to_dict(),
                    "seed": self.cfg.seed,
                    "device": self.device,
                    "threads": self.cfg.threads,
                    "eval_metric": self.metric,
                    "batch_size": self.batch_size,
                    "versions": versions(),
                }
            ),
        )
        return extend

    def _extension(self, old: dict | None, new: dict) -> dict | None:
        """An existing run of fewer epochs and otherwise the same identity: what to resume
        from to train the extra epochs (its resume state when it has one, else a fresh
        start: a finished run keeps no optimizer state, so its epochs are trained again,
        with the same results). Any other difference: a ConfigError naming each key."""
        old = old if isinstance(old, dict) else {}
        diffs = identity_differences(old, new)
        if not diffs:
            return None
        if [k for k, _, _ in diffs] == ["n_epochs"]:
            before, after = diffs[0][1], diffs[0][2]
            if isinstance(before, int) and isinstance(after, int) and after > before:
                saved = None
                if self.folder.resume.exists():
                    try:
                        saved = read_checkpoint(self.folder.resume)
                    except Exception as exc:  # a broken resume file: train from the start, say so
                        log.warning("resume state unreadable (%s); starting the run over", exc)
                if saved is not None and int(saved["epoch"]) < before:
                    how = f"resuming after epoch {saved['epoch']}"
                else:
                    saved = {"extend_from_start": True}
                    how = (
                        f"a finished run keeps no optimizer state, so epochs 0-{before - 1} are trained "
                        "again (same seed: the same results) before the new ones"
                    )
                self._note(f"{self.run_dir}: extending the run from {before} to {after} epochs; {how}")
                return saved
        what = "; ".join(f"{k}: {_show(a)} there, {_show(b)} here" for k, a, b in diffs)
        extra = ""
        if [k for k, _, _ in diffs] == ["n_epochs"]:
            extra = " (--n_epochs can grow, never shrink, in a folder that holds a run)"
        raise ConfigError(
            self.run_dir,
            f"holds a run with another config, dataset or split ({what}){extra}; use another --out or --force "
            "to start over",
        )

    def _note(self, line: str) -> None:
        self.notes.append(line)  # train.log gets it once its handler is set up (run)
        if self.notify:
            self.notify(line)

    # --- the run ----------------------------------------------------------------------
    def run(self, progress: Progress | None = None, on_epoch: Callable[[dict], None] | None = None) -> RunResult:
        """Train (see the module docstring); ``progress`` gets a stage "training" event per
        epoch (epochs done of all, the note "reward R" and "F f" when evaluated), ``on_epoch``
        each epoch's metrics row."""
        try:
            model = self._new_model()  # before the folder is made: a model that cannot fit leaves nothing behind
            with hold_lock(self.run_dir):  # one writer per run folder (a second one: BusyError at once)
                return self._run_locked(model, progress, on_epoch)
        finally:
            self.close()

    def _new_model(self) -> ACSumGAN:
        """The run's model, initialised from the seed (a ConfigError when it cannot fit in memory:
        ``build_model``)."""
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        if self.device.startswith("cuda"):
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        return build_model(**cfg.model_kwargs(), training=True, device=self.device)

    def _run_locked(
        self, model: ACSumGAN, progress: Progress | None, on_epoch: Callable[[dict], None] | None
    ) -> RunResult:
        saved = self._prepare_folder()
        if saved and saved.get("complete"):
            rows = self.folder.read_metrics()
            return RunResult(self.run_dir, rows, chosen_epoch(rows), self.metric, notes=list(self.notes))
        if saved and saved.get("extend_from_start"):
            saved = None
        handler = _setup_logging(self.folder.log)
        for line in self.notes:
            log.warning("%s", line)
        self.last_epoch_kept: int | None = None
        try:
            return self._run(model, saved, progress, on_epoch)
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM or SIGHUP
            how, code = interruption(exc)
            done = self.last_epoch_kept
            kept = (
                "before any result was written"
                if done is None
                else "before epoch 0 finished"
                if done < 0
                else f"after epoch {done} (metrics.csv, scores.h5 and checkpoints up to it are kept)"
            )
            log.warning("%s %s", how, kept)
            raise InterruptedByUser(
                self.run_dir,
                f"{how} {kept}; run the same command again to resume; the run has no COMPLETE marker until then",
                exit_code=code,
            ) from None
        finally:
            log.removeHandler(handler)
            handler.close()

    def _run(self, model: ACSumGAN, saved: dict | None, progress: Progress | None, on_epoch) -> RunResult:
        """Method.md sections 6-7: evaluate before training, then train and evaluate every epoch."""
        st = self._start(model, saved)
        writer = _tensorboard(self.folder.tensorboard)
        if self.cfg.n_epochs > st.next_epoch:
            report(progress, "training", st.next_epoch, self.cfg.n_epochs)
        last_save = time.time()
        try:
            if st.next_epoch == 0:
                row = self._evaluate(st.model, -1, st.scores, st.draws)
                st.rows.append(row)
                self._commit(st, row, writer)
            self.last_epoch_kept = st.next_epoch - 1
            for epoch in range(st.next_epoch, self.cfg.n_epochs):
                t0 = time.time()
                row = self._train_epoch(st, epoch)
                row.update(self._evaluate(st.model, epoch, st.scores, st.draws))
                row["seconds"] = round(time.time() - t0, 3)
                st.rows.append(row)
                save_resume = (
                    epoch + 1 < self.cfg.n_epochs and time.time() - last_save >= self.cfg.checkpoint_interval_s
                )
                self._commit(st, row, writer, save_resume=save_resume)
                if save_resume:
                    last_save = time.time()
                log.info(
                    "epoch %d: reward %.4f actor_loss %.4f f_score %s (%.1f s)",
                    epoch,
                    row["reward"],
                    row["actor_loss"],
                    "-" if row.get("f_score") is None else f"{row['f_score']:.2f}",
                    row["seconds"],
                )
                if on_epoch:
                    on_epoch(row)
                report(progress, "training", epoch + 1, self.cfg.n_epochs, epoch_note(row))
        finally:
            if writer is not None:
                writer.close()
        return self._finish(st.rows)

    def _start(self, model: ACSumGAN, saved: dict | None) -> _State:
        """Optimizers and generator from the seed for the fresh ``model`` (:meth:`_new_model`),
        or the state of resume.pt loaded into them."""
        cfg = self.cfg
        st = _State(
            model,
            Optimizers(model, cfg.lr, cfg.discriminator_lr),
            torch.Generator().manual_seed(cfg.seed),
            rows=[],
            scores={},
            next_epoch=0,
        )
        if saved is None:
            log.info(
                "run %s: %d training videos, %d test videos, device %s, seed %d",
                self.run_dir,
                len(self.train_keys),
                len(self.test_keys),
                self.device,
                cfg.seed,
            )
            return st
        model.load_state_dict(saved["state_dict"])
        st.opts.load_state_dict(saved["optimizers"])
        st.gen.set_state(saved["generator"])
        st.rows = saved["rows"]
        st.scores = {int(e): {k: v.numpy() for k, v in s.items()} for e, s in saved["scores"].items()}
        st.draws = {
            int(e): [{k: v.numpy() for k, v in s.items()} for s in d] for e, d in saved.get("draws", {}).items()
        }
        st.next_epoch = int(saved["epoch"]) + 1
        log.info("resuming after epoch %d", st.next_epoch - 1)
        return st

    def _train_epoch(self, st: _State, epoch: int) -> dict:
        """One epoch of updates; the mean of every per-video statistic over the epoch.
        Each batch is read while the one before it trains (:func:`~acsumgan.train.feed.prefetched`)."""
        cfg = self.cfg
        after_phase = release_freed_memory if self.device == "cpu" else None
        per_video: dict[str, list[torch.Tensor]] = {}
        for batch in prefetched(self.batches(epoch), self._batch):
            draws = make_draws(st.gen, batch, cfg.num_layers, cfg.hidden_size, self.device)
            try:
                stats = train_step(st.model, st.opts, batch, draws, cfg, epoch=epoch, after_phase=after_phase)
            except TrainingDivergedError as exc:
                log.error("%s", exc.problem)
                raise TrainingDivergedError(self.run_dir, exc.problem) from None
            for k, v in stats.items():
                per_video.setdefault(k, []).append(v.float().cpu())
            del batch, draws, stats  # before the next batch is read: two batches in memory, never three
        row = {k: float(torch.cat(v).mean()) for k, v in per_video.items()}
        bad = [k for k, v in row.items() if not math.isfinite(v)]
        if bad:  # a statistic outside the losses (e.g. recon_loss_init): never written as NaN
            raise self._diverged(f"epoch {epoch}: {bad[0]} became {row[bad[0]]} {_DIVERGED}")
        return row

    def _evaluate(self, model: ACSumGAN, epoch: int, scores: dict, draws: dict) -> dict:
        """Score every test video; F-score when the test videos are annotated."""
        row: dict = {"epoch": epoch, "f_score": None}
        if not self.test_keys:
            return row
        seed = int(np.random.SeedSequence([self.cfg.seed, 7, epoch + 1]).generate_state(1)[0])
        samples = [self._score_test_videos(model, epoch, draw_seed(seed, j)) for j in range(self.cfg.eval_samples)]
        scores[epoch] = samples[0]
        if len(samples) > 1:  # K policy samples: draw 0 is the K = 1 draw, the others are kept beside it
            draws[epoch] = samples[1:]
        if self.annotated:
            f = [r.mean for r in self._f_scores(samples)]
            row["f_score"] = f[0] if len(f) == 1 else float(np.mean(f))
            if len(f) > 1:
                row[STD_COLUMN] = float(np.std(f))
        return row

    def _f_scores(self, samples: list[dict[str, np.ndarray]]) -> list[FScoreResult]:
        """The F-scores of each sample of test scores; the annotations are read one group of
        test videos at a time (the videos of each result in the order of the scores)."""
        per: list[dict[str, float]] = [{} for _ in samples]
        for keys in self.test_groups:
            videos = {k: self.reader.video(k) for k in keys}
            for out, s in zip(per, samples):
                out.update(evaluate_scores(videos, {k: s[k] for k in keys}, self.metric, self.cfg.budget).videos)
            del videos
        return [FScoreResult(self.metric, {k: out[k] for k in s}) for out, s in zip(per, samples)]

    def _score_test_videos(self, model: ACSumGAN, epoch: int, seed: int) -> dict[str, np.ndarray]:
        """One test-time pass over the test videos (draws from ``seed`` with the sampled
        policy): the uniforms of one batch of all of them, each group of videos taking its
        columns, so that the scores do not depend on how the videos are grouped."""
        u = None
        if self.cfg.eval_policy == "sample":
            longest = self.test_groups[0]  # the longest videos: their episodes are the longest
            n_picks = termination_point(min(self.cfg.action_state_size, self.steps[longest[0]]))
            u = test_time_uniforms(seed, _Shape(n_picks, len(self.test_keys)), self.device)
        why = "(before training: are the features of a sane magnitude?)" if epoch < 0 else _DIVERGED
        new: dict[str, np.ndarray] = {}
        start = 0
        for batch in self._test_batches():
            cols = None if u is None else u[: max(batch.N, 1), start : start + batch.size]
            start += batch.size
            try:
                ws = score_videos(model, batch, self.cfg.eval_policy, cols)
            except TrainingDivergedError as exc:
                raise self._diverged(f"epoch {epoch}, evaluation: {exc.problem} {why}") from None
            new.update({k: w.float().cpu().numpy() for k, w in zip(batch.keys, ws)})
            del batch, ws
        bad = [k for k, v in new.items() if not np.all(np.isfinite(v))]
        if bad:  # never write NaN scores
            raise self._diverged(f"epoch {epoch}: the model's scores of {bad[0]} became NaN or infinite {why}")
        return new

    def _diverged(self, problem: str) -> TrainingDivergedError:
        log.error("%s", problem)
        return TrainingDivergedError(self.run_dir, problem)

    def _commit(self, st: _State, row: dict, writer, save_resume: bool = False) -> None:
        """Write the epoch's files as one state: a Ctrl-C waits until all are written."""
        epoch = row["epoch"]
        with _ctrl_c_after_block():
            if epoch >= 0:
                self._keep_checkpoints(st.model, st.rows)
            self.folder.write_metrics(st.rows)
            if st.scores:
                write_scores(self.folder.scores, dict(sorted(st.scores.items())), dict(sorted(st.draws.items())))
            if writer is not None:
                for k, v in row.items():
                    if k not in ("epoch", "seconds") and v is not None:
                        writer.add_scalar(f"{k}_epoch", v, epoch)
                writer.flush()
            if save_resume:
                self._save_resume(st, epoch)
            self.last_epoch_kept = epoch

    def _keep_checkpoints(self, model: ACSumGAN, rows: list[dict]) -> None:
        """Save the newest epoch's checkpoint; keep only those the criterion can still choose."""
        keep = kept_epochs(rows)
        epoch = rows[-1]["epoch"]
        if epoch in keep:
            save_checkpoint(
                self.folder.checkpoint(epoch),
                model,
                self.cfg,
                epoch,
                metrics=rows[-1],
                extra={
                    "feature_dim": self.cfg.input_size,
                    "feature_backbone": None if self.attrs.get("backbone") is None else str(self.attrs["backbone"]),
                },
            )
        for e in self.folder.checkpoint_epochs():
            if e not in keep:
                self.folder.checkpoint(e).unlink()

    def _save_resume(self, st: _State, epoch: int) -> None:
        save_checkpoint(
            self.folder.resume,
            st.model,
            self.cfg,
            epoch,
            full=True,
            extra={
                "optimizers": st.opts.state_dict(),
                "generator": st.gen.get_state(),
                "rows": st.rows,
                "scores": {str(e): {k: torch.from_numpy(v) for k, v in s.items()} for e, s in st.scores.items()},
                "draws": {
                    str(e): [{k: torch.from_numpy(v) for k, v in s.items()} for s in d] for e, d in st.draws.items()
                },
            },
        )

    def _finish(self, rows: list[dict]) -> RunResult:
        """Drop the resume state and mark the run complete (never one without the other)."""
        result = RunResult(self.run_dir, rows, chosen_epoch(rows), self.metric, notes=list(self.notes))
        with _ctrl_c_after_block():
            self.folder.resume.unlink(missing_ok=True)
            self.folder.mark_complete(
                {
                    "chosen_epoch": result.chosen_epoch,
                    "epochs": self.cfg.n_epochs,
                    "f_score_chosen": None
                    if result.chosen_epoch is None
                    else result.row(result.chosen_epoch).get("f_score"),
                }
            )
        log.info("complete; criterion chose epoch %s", result.chosen_epoch)
        return result


def _setup_logging(path: Path) -> logging.Handler:
    handler = LogFile(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def _ctrl_c_after_block():
    """Hold a Ctrl-C, SIGTERM or SIGHUP that arrives inside the block until the block is
    done (a second one interrupts at once; the block's atomic writes leave nothing
    half-done): :func:`acsumgan.locks.signals_held`.

    Only where the ``acsumgan`` command's handlers are installed, in the main thread;
    elsewhere (Ray workers, other handlers) the block runs unchanged."""
    return signals_held()


def _tensorboard(path: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter  # loaded when needed (it is slow to import)
    except ImportError:  # tensorboard is a dependency; tolerate its absence in slim installs
        return None
    return SummaryWriter(str(path))


def epoch_note(row: dict) -> str:
    """The progress note of an epoch's metrics row: "reward 0.1234" (and "  F 12.34" when evaluated)."""
    f = row.get("f_score")
    return f"reward {row['reward']:.4f}" + ("" if f is None else f"  F {f:.2f}")


#: oneDNN primitives kept by a training process (see :func:`train`).
ONEDNN_CACHE = 16


def train(
    cfg: TrainConfig,
    dataset: str | os.PathLike,
    splits: str | os.PathLike | None,
    out: str | os.PathLike,
    progress: Progress | None = None,
    force: bool = False,
    on_epoch=None,
    identity_paths: tuple | None = None,
    notify: Callable[[str], None] | None = None,
    stream: bool = True,
) -> RunResult:
    """Train one run (resuming an unfinished one in ``out``, or extending one of fewer
    epochs); see the module docstring. ``progress`` gets a stage "training" event per epoch
    (:meth:`Trainer.run`); ``notify`` gets each note for the user. The videos are read from
    the dataset file as each update needs them (memory grows with the batch, not the
    collection); ``stream=False`` reads them all first (the same files).

    oneDNN, PyTorch's CPU kernel library, keeps a compiled primitive for every tensor shape
    it meets (1,024 by default) and every update's padded length is a new shape: a run of
    many updates grew by about 230 MiB over 30 updates of 20 videos (hidden size 64). When
    nothing in the process has used oneDNN yet (a ``train`` or ``experiment`` process), its
    cache is set here to :data:`ONEDNN_CACHE` primitives (``ONEDNN_PRIMITIVE_CACHE_CAPACITY``
    unless already set): the memory stays flat, the numbers are the same (the cache only
    saves compiling a kernel again) and it runs no slower."""
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(ONEDNN_CACHE))
    trainer = Trainer(
        cfg, dataset, splits, out, force=force, identity_paths=identity_paths, notify=notify, stream=stream
    )
    return trainer.run(progress=progress, on_epoch=on_epoch)
