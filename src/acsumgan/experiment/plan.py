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

from ..config import TrainConfig, dump_yaml
from ..data.splits import check_split_index
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
    from ..data.dataset import load_dataset
    from ..data.splits import read_splits

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
        old = folder.read_request()
        if any(old.get(k) != request[k] for k in ("config", "dataset", "splits")):
            raise ConfigError(
                out,
                "holds an experiment with another config, dataset or splits file; use another "
                "--out or --force to start over",
            )
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


def default_workers(device: str, threads: int | None = None) -> int:
    """Runs at a time: one per GPU on CUDA; on CPU, cores / 2 (each run gets two
    threads), capped by memory (about 4 GiB per run)."""
    if device.startswith("cuda"):
        import torch

        return max(1, torch.cuda.device_count())
    cores = os.cpu_count() or 1
    per = threads or 2
    by_cpu = max(1, cores // per)
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        by_mem = max(1, int(avail // (4 << 30)))
    except (ValueError, OSError, AttributeError):
        by_mem = by_cpu
    return max(1, min(by_cpu, by_mem))
