"""Train AC-SUM-GAN on a dataset file and split, evaluating after every epoch.

A run folder holds everything a person or a script needs::

    config.yaml          resolved options, seed, dataset, split keys, library versions
    metrics.csv          one row per epoch (-1 = before training): F-score, reward and every loss
    scores.h5            test-video scores of every epoch (epoch_-1, epoch_0, ...)
    tensorboard/         the same scalars under the release's names (reward_epoch, ...)
    checkpoints/         epoch-NNN.pt for the last epoch and every epoch the selection
                         criterion could still choose
    train.log            what happened, with timings
    resume.pt            resumable state while the run is unfinished
    COMPLETE             written last: the run finished (readers ignore folders without it)

The same seed on the same machine gives the same files (timings aside).
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import math
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..config import TrainConfig, dump_yaml, resolve_device, versions
from ..data.dataset import Video, dataset_attrs, load_dataset, validate_video
from ..data.splits import get_split
from ..errors import ConfigError, FeatureSizeError, InterruptedByUser, TrainingDivergedError
from ..evaluation.metrics import evaluate_scores, infer_metric
from ..evaluation.scores import write_scores
from ..selection import epoch_criterion, pareto_epochs
from ..fileio import ensure_dir, is_complete, mark_complete, write_text
from ..model.episode import Batch, make_batch
from ..model.networks import ACSumGAN
from .checkpoint import read_checkpoint, save_checkpoint
from .update import Optimizers, make_draws, score_batch, train_step

#: Per-epoch columns, in the order of metrics.csv (the release's TensorBoard names + _epoch).
LOSSES = ("reward", "actor_loss", "critic_loss", "recon_loss", "prior_loss", "g_loss", "e_loss", "d_loss",
          "c_original_loss", "c_summary_loss", "sparsity_loss", "recon_loss_init")
COLUMNS = ("epoch", "f_score") + LOSSES + ("seconds",)

log = logging.getLogger("acsumgan.train")


@dataclass
class RunResult:
    run_dir: Path
    rows: list[dict] = field(default_factory=list)
    chosen_epoch: int | None = None
    metric: str | None = None

    def row(self, epoch: int) -> dict:
        return next(r for r in self.rows if r["epoch"] == epoch)


def run_identity(cfg: TrainConfig, dataset: str, splits: str | None, train_keys, test_keys) -> dict:
    """What makes two runs the same run (compared when resuming into a folder)."""
    ident = cfg.to_dict()
    for k in ("device", "threads", "checkpoint_interval_s", "reward_chunk_steps"):
        ident.pop(k)  # how, not what: may change between a run and its resumption
    return {"config": ident, "dataset": str(Path(dataset).resolve()), "splits": None if splits is None else
            str(Path(splits).resolve()), "train_keys": list(train_keys), "test_keys": list(test_keys)}


def _setup_logging(run_dir: Path) -> logging.Handler:
    handler = logging.FileHandler(run_dir / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def _csv_text(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in COLUMNS})
    return buf.getvalue()


def read_metrics(run_dir: str | os.PathLike) -> list[dict]:
    """metrics.csv of a run folder as a list of dicts (numbers as float, epoch as int)."""
    path = Path(run_dir) / "metrics.csv"
    rows = []
    try:
        with open(path) as f:
            for r in csv.DictReader(f):
                rows.append({k: (int(v) if k == "epoch" else (float(v) if v != "" else None)) for k, v in r.items()})
    except (OSError, ValueError, TypeError, csv.Error) as exc:
        raise ConfigError(path, f"run folder is damaged: metrics.csv unreadable ({type(exc).__name__})") from None
    if not rows or set(rows[0]) != set(COLUMNS):
        raise ConfigError(path, "run folder is damaged: metrics.csv lacks its columns or rows")
    return rows


class Trainer:
    """Owns one run: data, model, optimizers, generators and the run folder."""

    def __init__(self, cfg: TrainConfig, dataset: str | os.PathLike, splits: str | os.PathLike | None,
                 out: str | os.PathLike, force: bool = False, identity_paths: tuple | None = None):
        self.cfg = cfg.validate()
        self.dataset_path = str(dataset)
        self.splits_path = None if splits is None else str(splits)
        # the paths recorded in config.yaml (a Ray task trains on a copy of the files)
        self.identity_paths = identity_paths or (self.dataset_path, self.splits_path)
        self.run_dir = Path(out)
        self.force = force
        self.device = resolve_device(cfg.device)
        if cfg.threads:
            torch.set_num_threads(int(cfg.threads))
        self._load_data()

    # --- data -----------------------------------------------------------------------
    def _load_data(self) -> None:
        cfg = self.cfg
        videos = load_dataset(self.dataset_path, purpose="train")
        if self.splits_path is None:
            self.train_keys, self.test_keys = list(videos), []
        else:
            split = get_split(self.splits_path, cfg.split_index, videos, need_train=True)
            self.train_keys, self.test_keys = split["train_keys"], split["test_keys"]
        dim = next(iter(videos.values())).features.shape[1]
        if dim != cfg.input_size:
            raise FeatureSizeError(self.dataset_path, f"features have {dim} dimensions but input_size is "
                                                      f"{cfg.input_size} (pass --input_size {dim})")
        self.videos: dict[str, Video] = videos
        self.annotated = bool(self.test_keys) and all(
            all(getattr(videos[k], f) is not None for f in ("user_summary", "change_points", "n_frames", "picks"))
            for k in self.test_keys)
        if self.annotated:
            for k in self.test_keys:
                validate_video(videos[k], self.dataset_path, "evaluate")
        self.attrs = dataset_attrs(self.dataset_path)
        metric = cfg.eval_metric or infer_metric(self.dataset_path, self.attrs)
        if metric is None and cfg.video_type:
            metric = {"summe": "max", "tvsum": "avg"}.get(cfg.video_type.lower())
        if metric is None and self.annotated:
            raise ConfigError(self.dataset_path, "cannot tell SumMe (max) from TVSum (avg); pass --eval-metric "
                                                 "max|avg or --video_type SumMe|TVSum")
        self.metric = metric
        n = len(self.train_keys)
        self.batch_size = n if cfg.batch_size is None else min(cfg.batch_size, n)
        self._train_batch_cache: dict[tuple, Batch] = {}
        self.test_batch = (make_batch([videos[k].features for k in self.test_keys], self.test_keys,
                                      cfg.action_state_size, self.device) if self.test_keys else None)

    def batches(self, epoch: int) -> list[list[str]]:
        """The release's batching: shuffled each epoch, int(n / B) full batches (the
        remainder sits the epoch out). With B = n, one batch of all training videos."""
        n = len(self.train_keys)
        if self.batch_size >= n:
            return [list(self.train_keys)]
        perm = np.random.default_rng([self.cfg.seed, epoch, 17]).permutation(n)
        B = self.batch_size
        return [[self.train_keys[i] for i in perm[j * B:(j + 1) * B]] for j in range(n // B)]

    def _batch(self, keys: list[str]) -> Batch:
        sig = tuple(sorted(keys))
        if sig not in self._train_batch_cache:
            if len(self._train_batch_cache) > 64:
                self._train_batch_cache.clear()
            self._train_batch_cache[sig] = make_batch([self.videos[k].features for k in keys], keys,
                                                      self.cfg.action_state_size, self.device)
        return self._train_batch_cache[sig]

    # --- run folder -------------------------------------------------------------------
    def _identity(self) -> dict:
        return run_identity(self.cfg, *self.identity_paths, self.train_keys, self.test_keys)

    def _prepare_folder(self) -> dict | None:
        """Create the folder, or check an existing one; returns the resume state if any."""
        import yaml

        ensure_dir(self.run_dir)
        cfg_file = self.run_dir / "config.yaml"
        if cfg_file.exists() and not self.force:
            try:
                old = yaml.safe_load(cfg_file.read_text()) or {}
            except yaml.YAMLError:
                old = {}
            if old.get("identity") != self._identity():
                raise ConfigError(self.run_dir, "holds a run with another config, dataset or split; use another "
                                                "--out or --force to start over")
            if is_complete(self.run_dir):
                return {"complete": True}
            resume = self.run_dir / "resume.pt"
            if resume.exists():
                try:
                    return read_checkpoint(resume)
                except Exception as exc:  # a broken resume file: start over, say so
                    log.warning("resume state unreadable (%s); starting the run over", exc)
        if self.force:
            for name in ("COMPLETE", "resume.pt", "metrics.csv", "scores.h5"):
                (self.run_dir / name).unlink(missing_ok=True)
            for p in (self.run_dir / "checkpoints").glob("*.pt"):
                p.unlink()
        write_text(cfg_file, dump_yaml({
            "identity": self._identity(), "resolved": self.cfg.to_dict(), "seed": self.cfg.seed,
            "device": self.device, "eval_metric": self.metric, "batch_size": self.batch_size,
            "versions": versions(),
        }))
        return None

    # --- the loop ---------------------------------------------------------------------
    def run(self, progress: bool = True, on_epoch: Callable[[dict], None] | None = None) -> RunResult:
        state = self._prepare_folder()
        result = RunResult(self.run_dir, metric=self.metric)
        if state and state.get("complete"):
            result.rows = read_metrics(self.run_dir)
            result.chosen_epoch = _chosen(result.rows)
            return result
        handler = _setup_logging(self.run_dir)
        self.last_epoch_kept: int | None = None
        try:
            return self._run(state, result, progress, on_epoch)
        except KeyboardInterrupt:
            done = self.last_epoch_kept
            kept = ("before any result was written" if done is None else
                    "before epoch 0 finished" if done < 0 else
                    f"after epoch {done} (metrics.csv, scores.h5 and checkpoints up to it are kept)")
            log.warning("interrupted (Ctrl-C) %s", kept)
            raise InterruptedByUser(self.run_dir, f"interrupted (Ctrl-C) {kept}; run the same command again to "
                                                  "resume; the run has no COMPLETE marker until then") from None
        finally:
            log.removeHandler(handler)
            handler.close()

    def _run(self, state, result: RunResult, progress: bool, on_epoch) -> RunResult:
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        if self.device.startswith("cuda"):
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        model = ACSumGAN(**cfg.model_kwargs()).to(self.device)
        opts = Optimizers(model, cfg.lr, cfg.discriminator_lr)
        gen = torch.Generator().manual_seed(cfg.seed)
        rows: list[dict] = []
        scores: dict[int, dict[str, np.ndarray]] = {}
        start = 0
        if state is not None:
            model.load_state_dict(state["state_dict"])
            opts.load_state_dict(state["optimizers"])
            gen.set_state(state["generator"])
            rows = state["rows"]
            scores = {int(e): {k: v.numpy() for k, v in s.items()} for e, s in state["scores"].items()}
            start = int(state["epoch"]) + 1
            log.info("resuming after epoch %d", start - 1)
        else:
            log.info("run %s: %d training videos, %d test videos, device %s, seed %d", self.run_dir,
                     len(self.train_keys), len(self.test_keys), self.device, cfg.seed)
        ckpt_dir = self.run_dir / "checkpoints"
        writer = _tensorboard(self.run_dir / "tensorboard")
        last_save = time.time()
        bar = _progress(progress, cfg.n_epochs, start)
        try:
            if start == 0:
                row = self._evaluate(model, -1, scores)
                rows.append(row)
                with _ctrl_c_after_block():
                    self._write_epoch_files(rows, scores, writer, row)
                    self.last_epoch_kept = -1
            else:
                self.last_epoch_kept = start - 1
            for epoch in range(start, cfg.n_epochs):
                t0 = time.time()
                per_video: dict[str, list[torch.Tensor]] = {}
                for keys in self.batches(epoch):
                    batch = self._batch(keys)
                    draws = make_draws(gen, batch, cfg.num_layers, cfg.hidden_size, self.device)
                    try:
                        stats = train_step(model, opts, batch, draws, cfg, epoch=epoch)
                    except TrainingDivergedError as exc:
                        log.error("%s", exc.problem)
                        raise TrainingDivergedError(self.run_dir, exc.problem) from None
                    for k, v in stats.items():
                        per_video.setdefault(k, []).append(v.float().cpu())
                row = {k: float(torch.cat(v).mean()) for k, v in per_video.items()}
                bad = [k for k, v in row.items() if not math.isfinite(v)]
                if bad:  # a statistic outside the losses (e.g. recon_loss_init): never written as NaN
                    raise self._diverged(f"epoch {epoch}: {bad[0]} became {row[bad[0]]} (training diverged; "
                                         "results up to the previous epoch are kept)")
                row.update(self._evaluate(model, epoch, scores))
                row["seconds"] = round(time.time() - t0, 3)
                rows.append(row)
                # The epoch's files form one state: Ctrl-C waits until all are written.
                with _ctrl_c_after_block():
                    self._keep_checkpoints(model, rows, ckpt_dir, epoch)
                    self._write_epoch_files(rows, scores, writer, row)
                    if epoch + 1 < cfg.n_epochs and time.time() - last_save >= cfg.checkpoint_interval_s:
                        self._save_resume(model, opts, gen, rows, scores, epoch)
                        last_save = time.time()
                    self.last_epoch_kept = epoch
                log.info("epoch %d: reward %.4f actor_loss %.4f f_score %s (%.1f s)", epoch, row["reward"],
                         row["actor_loss"], "-" if row.get("f_score") is None else f"{row['f_score']:.2f}",
                         row["seconds"])
                if on_epoch:
                    on_epoch(row)
                if bar:
                    bar.update(row)
        finally:
            if bar:
                bar.close()
            if writer is not None:
                writer.close()
        result.rows = rows
        result.chosen_epoch = _chosen(rows)
        with _ctrl_c_after_block():  # not between removing the resume state and marking the run complete
            (self.run_dir / "resume.pt").unlink(missing_ok=True)
            mark_complete(self.run_dir, {"chosen_epoch": result.chosen_epoch, "epochs": cfg.n_epochs,
                                         "f_score_chosen": None if result.chosen_epoch is None else
                                         result.row(result.chosen_epoch).get("f_score")})
        log.info("complete; criterion chose epoch %s", result.chosen_epoch)
        return result

    def _evaluate(self, model: ACSumGAN, epoch: int, scores: dict) -> dict:
        """Score every test video (one batch); F-score when the test videos are annotated."""
        row: dict = {"epoch": epoch, "f_score": None}
        if self.test_batch is None:
            return row
        u = None
        if self.cfg.eval_policy == "sample":
            g = torch.Generator().manual_seed(int(np.random.SeedSequence([self.cfg.seed, 7, epoch + 1])
                                                  .generate_state(1)[0]))
            u = torch.rand(max(self.test_batch.N, 1), self.test_batch.size, generator=g,
                           dtype=torch.float64).to(self.device)
        why = ("(before training: are the features of a sane magnitude?)" if epoch < 0 else
               "(training diverged; results up to the previous epoch are kept)")
        try:
            ws = score_batch(model, self.test_batch, self.cfg.eval_policy, u)
        except TrainingDivergedError as exc:
            raise self._diverged(f"epoch {epoch}, evaluation: {exc.problem} {why}") from None
        new = {k: w.float().cpu().numpy() for k, w in zip(self.test_batch.keys, ws)}
        bad = [k for k, v in new.items() if not np.all(np.isfinite(v))]
        if bad:  # never write NaN scores
            raise self._diverged(f"epoch {epoch}: the model's scores of {bad[0]} became NaN or infinite {why}")
        scores[epoch] = new
        if self.annotated:
            row["f_score"] = evaluate_scores(self.videos, scores[epoch], self.metric, self.cfg.budget).mean
        return row

    def _diverged(self, problem: str) -> TrainingDivergedError:
        log.error("%s", problem)
        return TrainingDivergedError(self.run_dir, problem)

    def _write_epoch_files(self, rows, scores, writer, row) -> None:
        write_text(self.run_dir / "metrics.csv", _csv_text(rows))
        if scores:
            write_scores(self.run_dir / "scores.h5", dict(sorted(scores.items())))
        if writer is not None:
            for k, v in row.items():
                if k not in ("epoch", "seconds") and v is not None:
                    writer.add_scalar(f"{k}_epoch", v, row["epoch"])
            writer.flush()

    def _keep_checkpoints(self, model, rows, ckpt_dir: Path, epoch: int) -> None:
        trained = [r for r in rows if r["epoch"] >= 0]
        keep = {trained[i]["epoch"] for i in pareto_epochs([r["actor_loss"] for r in trained],
                                                           [r["reward"] for r in trained])}
        keep.add(epoch)  # the newest epoch is the run's last so far
        if epoch in keep:
            save_checkpoint(ckpt_dir / f"epoch-{epoch:03d}.pt", model, self.cfg, epoch,
                            metrics=rows[-1], extra={"feature_dim": self.cfg.input_size,
                                                     "feature_backbone": None if self.attrs.get("backbone") is None
                                                     else str(self.attrs["backbone"])})
        for p in ckpt_dir.glob("epoch-*.pt"):
            e = int(p.stem.split("-")[1])
            if e not in keep:
                p.unlink()

    def _save_resume(self, model, opts, gen, rows, scores, epoch) -> None:
        save_checkpoint(self.run_dir / "resume.pt", model, self.cfg, epoch, full=True, extra={
            "optimizers": opts.state_dict(), "generator": gen.get_state(), "rows": rows,
            "scores": {str(e): {k: torch.from_numpy(v) for k, v in s.items()} for e, s in scores.items()},
        })


@contextlib.contextmanager
def _ctrl_c_after_block():
    """Hold a Ctrl-C (SIGINT) that arrives inside the block until the block is done (a
    second Ctrl-C interrupts at once; the block's atomic writes leave nothing half-done).

    Only where Python's own handler is installed, in the main thread (the ``acsumgan``
    command); elsewhere (Ray workers, other handlers) the block runs unchanged."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    caught: list[int] = []

    def hold(signum, frame):
        if caught:
            raise KeyboardInterrupt
        caught.append(signum)

    signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt


def _chosen(rows: list[dict]) -> int | None:
    trained = [r for r in rows if r["epoch"] >= 0]
    if not trained:
        return None
    c = epoch_criterion([r["actor_loss"] for r in trained], [r["reward"] for r in trained])
    return trained[c.epoch]["epoch"]


def _tensorboard(path: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is a dependency; tolerate its absence in slim installs
        return None
    return SummaryWriter(str(path))


class _Bar:
    def __init__(self, total: int, start: int):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.p = Progress(TextColumn("[bold]train[/bold]"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          TextColumn("{task.fields[info]}"), transient=False)
        self.p.start()
        self.task = self.p.add_task("epochs", total=total, completed=start, info="")

    def update(self, row: dict) -> None:
        f = row.get("f_score")
        info = f"reward {row['reward']:.4f}" + ("" if f is None else f"  F {f:.2f}")
        self.p.update(self.task, advance=1, info=info)

    def close(self) -> None:
        self.p.stop()


def _progress(show: bool, total: int, start: int):
    return _Bar(total, start) if show and total > start else None


def train(cfg: TrainConfig, dataset: str | os.PathLike, splits: str | os.PathLike | None, out: str | os.PathLike,
          progress: bool = False, force: bool = False, on_epoch=None, identity_paths: tuple | None = None
          ) -> RunResult:
    """Train one run (resuming an unfinished one in ``out``); see the module docstring."""
    return Trainer(cfg, dataset, splits, out, force=force, identity_paths=identity_paths).run(
        progress=progress, on_epoch=on_epoch)

