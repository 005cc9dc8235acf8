"""An experiment's plan: the (sigma, split) runs of a request, checked against its folder.

``plan`` reads the dataset and splits, writes (or checks) ``experiment.yaml`` and lists
one :class:`RunSpec` per run; the executors (:mod:`.local`, :mod:`.ray_executor`) run
them and :mod:`.runner` drives an executor with progress.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..config import RUN_THREADS, TrainConfig, available_cores, check_threads, default_threads, dump_yaml
from ..data.dataset import load_dataset
from ..data.splits import check_split_index, read_splits
from ..errors import ConfigError, FeatureSizeError
from ..fileio import ensure_dir, write_text
from ..runs import ExperimentFolder, sigma_name

DEFAULT_SIGMAS = tuple(round(0.1 * i, 1) for i in range(1, 11))


@dataclass
class RunSpec:
    """One (sigma, split) run of an experiment."""

    sigma: float
    split: int
    run_dir: Path
    dataset: str
    splits: str
    config: dict
    experiment: Path  # the experiment folder the run belongs to

    @property
    def name(self) -> str:
        return f"{sigma_name(self.sigma)}/split{self.split}"


@dataclass
class Experiment:
    out: Path
    dataset: str
    splits: str
    sigmas: list[float]
    split_indices: list[int]
    base: TrainConfig
    specs: list[RunSpec] = field(default_factory=list)


def plan(
    out: str | os.PathLike, dataset: str, splits: str, sigmas, split_indices, base: TrainConfig, force: bool = False
) -> Experiment:
    """Check the request against an existing experiment folder and list its runs."""

    folder = ExperimentFolder(out)
    out = folder.path
    videos = load_dataset(dataset, purpose="train")
    dim = int(next(iter(videos.values())).features.shape[1])
    if base.input_size is None:  # the dataset's feature size, recorded in the request
        base = dataclasses.replace(base, input_size=dim)
    elif base.input_size != dim:
        raise FeatureSizeError(
            dataset, f"features have {dim} dimensions but input_size is {base.input_size} (pass --input_size {dim})"
        )
    all_splits = read_splits(splits, videos)
    split_indices = list(range(len(all_splits))) if split_indices is None else list(split_indices)
    twice = sorted({k for k in split_indices if split_indices.count(k) > 1})
    if twice:  # refused, as repeated --sigmas are: the user meant something else
        raise ConfigError(None, f"--split-indices lists split {twice[0]} more than once; give each split once")
    for k in split_indices:
        check_split_index(splits, k, len(all_splits), ConfigError)
    sigmas = [float(s) for s in (DEFAULT_SIGMAS if sigmas is None else sigmas)]
    if not sigmas or len(set(sigmas)) != len(sigmas):
        raise ConfigError(None, "--sigmas must list distinct values")
    request = {
        "dataset": str(Path(dataset).resolve()),
        "splits": str(Path(splits).resolve()),
        "sigmas": sigmas,
        "split_indices": split_indices,
        "config": {
            k: v
            for k, v in base.to_dict().items()
            if k
            not in (
                "regularization_factor",
                "split_index",
                "device",
                "threads",
                "checkpoint_interval_s",
                "reward_chunk_steps",
            )
        },
    }
    ensure_dir(out)
    if folder.request_file.exists() and not force:
        _check_same_request(out, folder.read_request(), request)
    if force:
        for d in folder.run_dirs():
            shutil.rmtree(d, ignore_errors=True)
    write_text(folder.request_file, dump_yaml({"request": request}))
    exp = Experiment(out, dataset, splits, sigmas, split_indices, base)
    for s in sigmas:
        for k in split_indices:
            cfg = base.to_dict() | {"regularization_factor": s, "split_index": k}
            exp.specs.append(RunSpec(s, k, folder.run(s, k).path, dataset, splits, cfg, out))
    return exp


def _check_same_request(out: Path, old: dict, new: dict) -> None:
    """The folder's request against this one: equal, or only more epochs (the finished runs
    are extended); any other difference is a ConfigError naming each key and both values."""
    oc, nc = old.get("config") or {}, new["config"]
    diffs = [(k, oc.get(k), nc.get(k)) for k in list(nc) + [k for k in oc if k not in nc] if oc.get(k) != nc.get(k)]
    diffs += [(k, old.get(k), new[k]) for k in ("dataset", "splits") if old.get(k) != new[k]]
    if not diffs:
        return
    if [k for k, _, _ in diffs] == ["n_epochs"] and isinstance(diffs[0][1], int) and diffs[0][2] > diffs[0][1]:
        return  # more epochs: every run is extended (acsumgan.train.trainer)
    what = "; ".join(f"{k}: {'none' if a is None else a} there, {'none' if b is None else b} here" for k, a, b in diffs)
    extra = " (--n_epochs can grow, never shrink)" if [k for k, _, _ in diffs] == ["n_epochs"] else ""
    raise ConfigError(
        out,
        f"holds an experiment with another config, dataset or splits file ({what}){extra}; use another "
        "--out or --force to start over",
    )


def run_threads(threads: int | None) -> int:
    """Threads of each run of an experiment: ``threads`` (--threads), else
    :data:`~acsumgan.config.RUN_THREADS` (2; fewer when OMP_NUM_THREADS or the available
    cores say so). Decided once, on the driver, and given to every run whatever the
    executor and the number of workers: the thread count changes the last bits of the
    losses, so both executors give the same numbers only with the same count."""

    return check_threads(threads) if threads is not None else default_threads(cap=RUN_THREADS)


def default_workers(device: str, threads: int | None = None) -> int:
    """Runs at a time: one per GPU on CUDA; on CPU, the available cores / threads per run
    (:func:`run_threads`), capped by memory (about 4 GiB per run)."""

    if device.startswith("cuda"):
        import torch  # loaded when needed (CUDA only)

        return max(1, torch.cuda.device_count())
    cores = available_cores()
    per = threads or run_threads(None)
    by_cpu = max(1, cores // per)
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        by_mem = max(1, int(avail // (4 << 30)))
    except (ValueError, OSError, AttributeError):
        by_mem = by_cpu
    return max(1, min(by_cpu, by_mem))
