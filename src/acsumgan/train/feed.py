"""The batches of a run, read from the dataset file as they are needed.

The trainer holds one update's videos at a time, never the collection: each batch is
read (:class:`~acsumgan.data.stream.VideoReader`, one video's group at a time) and
padded (:func:`~acsumgan.model.episode.make_batch`) just before its update, the next
one by a background thread while the current one trains (:func:`prefetched`: at most
one batch ahead). Reading changes no number: the same videos give the same padded
batch, in the same order, whether read at once or one by one.

Before training starts, :func:`check_update_fits` estimates the memory of the largest
update (:func:`update_bytes`) and refuses, with a recommended ``--batch_size``, one
that cannot fit, instead of letting the system kill the process mid-run. The memory it
plans with is :func:`~acsumgan.memory.available_memory` (on a GPU, its free memory),
or the bytes in the environment variable :data:`MEMORY_ENV` (``ACSUMGAN_TRAIN_MEMORY=8G``:
for a machine shared with other work, where less than what is free should be taken).
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

import torch

from ..errors import ConfigError
from ..memory import available_memory

T = TypeVar("T")
R = TypeVar("R")

#: Environment variable: the bytes of memory a run may plan to use (suffix K, M, G or T:
#: binary units), instead of the memory available.
MEMORY_ENV = "ACSUMGAN_TRAIN_MEMORY"

#: Bytes an update keeps per padded step (a step of one video of the batch) and per
#: hidden unit and LSTM layer: the activations of the four phases' passes kept for their
#: gradients. Measured on the CPU from the growth of the peak resident size with the batch:
#: 92-96 bytes at hidden size 64 and 256 (10 to 40 videos of 300 steps), about 125 at 512
#: (20 videos of 300 steps); whole runs of train_speed.py give about 165 KB per padded step
#: for SumMe (20 videos) and 67 KB for TVSum (40 videos, long and short: padding costs less),
#: against this estimate's 110 KB at the defaults. An estimate, for the order of magnitude.
ACTIVATION_BYTES = 100
#: Bytes of a padded step's features (float32), held twice: the batch that trains and
#: the next one, read meanwhile.
FEATURE_BYTES = 4
#: Bytes per padded step, hidden unit and layer of a test-time pass (no gradients kept):
#: an estimate, well above the LSTMs' outputs it keeps.
SCORE_BYTES = 40
#: The test videos are scored in groups of up to this many bytes (or of the batch size,
#: when more): a fixed amount, so that the groups, and the scores, do not depend on the
#: machine. One group holds every test set of the benchmarks (up to 50 TVSum videos of
#: up to 1,294 steps: about 2.4 GB), scored as one batch as before groups existed; a
#: group more changes the scores only in float rounding (other matrix shapes).
EVAL_GROUP_BYTES = 4 * 2**30


def prefetched(items: Iterable[T], load: Callable[[T], R]) -> Iterator[R]:
    """``load(item)`` of each item in order; the next item is loaded by a background
    thread while the caller works on the current one (one ahead, never more). An error
    of ``load`` is raised where its result would have been yielded."""
    items = list(items)
    if len(items) <= 1:
        yield from (load(item) for item in items)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="acsumgan-read") as pool:
        ahead = pool.submit(load, items[0])
        try:
            for item in items[1:]:
                current = ahead.result()
                ahead = pool.submit(load, item)
                yield current
                del current  # the caller's batch is freed before the one after the next is read
            yield ahead.result()
        finally:
            ahead.cancel()


def update_bytes(videos: int, steps: int, input_size: int, hidden_size: int, num_layers: int) -> int:
    """Estimated peak bytes of one update of ``videos`` videos padded to ``steps`` steps
    (besides the model: :func:`~acsumgan.model.networks.check_model_fits`)."""
    per_step = 2 * FEATURE_BYTES * input_size + ACTIVATION_BYTES * hidden_size * num_layers
    return int(videos) * int(steps) * per_step


def test_group_size(
    n_test: int, batch_size: int, longest: int, input_size: int, hidden_size: int, num_layers: int
) -> int:
    """Test videos per scoring pass: as many as :data:`EVAL_GROUP_BYTES` holds when each is
    ``longest`` steps long, at least ``batch_size`` (an update of that many fits) and 1,
    at most ``n_test``."""
    per_video = longest * (FEATURE_BYTES * input_size + SCORE_BYTES * hidden_size * num_layers)
    return max(1, min(n_test, max(batch_size, EVAL_GROUP_BYTES // max(per_video, 1))))


def parse_bytes(text: str) -> int | None:
    """``"8G"`` -> 8 GiB in bytes (K, M, G, T: binary units; none: bytes); None when not a size."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if not m:
        return None
    scale = 1024 ** "_KMGT".index(m.group(2).upper() or "_")
    return int(float(m.group(1)) * scale)


def memory_limit(device: str = "cpu") -> int | None:
    """The bytes a run may plan to use: :data:`MEMORY_ENV` when set, else the memory
    available (on a CUDA device the smaller of it and the device's free memory); None
    when unknown."""
    text = os.environ.get(MEMORY_ENV, "").strip()
    if text:
        value = parse_bytes(text)
        if value is None or value <= 0:
            raise ConfigError(None, f"{MEMORY_ENV}={text!r} is not a size (bytes, or a number with K, M, G or T)")
        return value
    free = available_memory()
    if str(device).startswith("cuda") and torch.cuda.is_available():
        gpu = torch.cuda.mem_get_info(torch.device(device))[0]
        free = gpu if free is None else min(free, gpu)
    return free


def _gib(n: float) -> str:
    """``38.2 GiB``, ``0.3 GiB``; below 0.1 GiB ``3.4 MiB``."""
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 / 10 else f"{n / 2**20:.1f} MiB"


def check_update_fits(
    batch_size: int,
    n_videos: int,
    longest: int,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    default: bool,
    limit: int | None,
) -> None:
    """A one-line ConfigError when an update of ``batch_size`` videos as long as the
    ``longest`` (any batch may hold it) would need more than ``limit`` bytes; it names
    the largest batch size that fits in half of the limit (the rest: the model, the
    process, the allocator's slack). ``default``: the batch size is the default, all
    ``n_videos`` training videos in one update."""
    if limit is None:
        return
    need = update_bytes(batch_size, longest, input_size, hidden_size, num_layers)
    if need <= limit:
        return
    per_video = update_bytes(1, longest, input_size, hidden_size, num_layers)
    fit = _round_down(max(1, (limit // 2) // per_video))
    what = (
        f"{n_videos:,} videos in one update (the default --batch_size: all training videos)"
        if default
        else f"--batch_size {batch_size:,}"
    )
    limited = f"set by {MEMORY_ENV}" if os.environ.get(MEMORY_ENV, "").strip() else "available"
    advice = update_bytes(fit, longest, input_size, hidden_size, num_layers)
    if advice > limit // 2:  # not even one video: the model's sizes are the problem
        raise ConfigError(
            None,
            f"one video of {longest:,} steps needs about {_gib(per_video)} of memory to train (hidden_size "
            f"{hidden_size}, num_layers {num_layers}), more than half of the {_gib(limit)} {limited}; lower "
            "hidden_size or num_layers",
        )
    raise ConfigError(
        None,
        f"{what} need about {_gib(need)} of memory with videos of up to {longest:,} steps, more than the "
        f"{_gib(limit)} {limited}; pass --batch_size {fit:,} (about {_gib(advice)})",
    )


def _round_down(n: int) -> int:
    """``n`` to two significant digits, rounded down (1234 -> 1200)."""
    digits = len(str(n))
    step = 10 ** max(0, digits - 2)
    return max(1, n // step * step)
