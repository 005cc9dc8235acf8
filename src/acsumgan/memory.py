"""How glibc's allocator keeps or returns freed memory (CPU only; a no-op elsewhere).

Two opposite needs, one module:

* **Training** allocates and frees gigabytes of small and mid-sized blocks per phase;
  glibc keeps them in its heaps, so without :func:`release_freed_memory` between the
  phases the resident size creeps up from epoch to epoch (TVSum profile: by about
  0.4 GiB an epoch over the first epochs; flat with it). It costs a few milliseconds.
* **Feature extraction** runs the backbone on a few frames at a time; each forward
  pass allocates and frees activations of up to ~20 MB. With glibc's defaults the
  big blocks are mapped and unmapped, and the top of the heap is handed back whenever
  more than twice the last such block is free, so the next pass touches fresh pages:
  on the 60-second 720p clip of ``benchmarks/video_speed.py``, timing the network inside
  :func:`~acsumgan.summarize.features.extract_features`, there were 2,600-3,300 page faults
  per frame (10-13 MB of fresh pages), and it ran at 72-76 frames/s instead of the
  105-128 it reaches on frames decoded beforehand. :func:`keep_freed_memory` (called
  when a CPU backbone is built) raises glibc's thresholds so that freed blocks stay in
  the heap for the next pass: 0-50 faults per frame, 118-122 frames/s; the extraction
  of the clip took 3.9 instead of 4.9-5.0 s (160x120: 1.6 instead of 1.8-2.1 s). The
  process keeps up to :data:`TRIM_THRESHOLD` of freed memory; :func:`release_freed_memory`
  still returns it on demand.

Neither changes a number: they decide where memory comes from, not what is computed.

:func:`available_memory` says how much memory this process may still take (the system's
and its cgroup's limit), so that a model too large to build is refused before it is tried.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from pathlib import Path

#: glibc ``mallopt`` parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Blocks up to this size come from the heap, not from their own mapping (glibc's
#: largest allowed value on 64-bit systems, 32 MiB; its dynamic threshold grows to it).
MMAP_THRESHOLD = 32 * 2**20
#: Free memory at the top of the heap is handed back only beyond this.
TRIM_THRESHOLD = 512 * 2**20


@functools.cache
def _libc():
    """glibc, or None (other C libraries, other systems)."""
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return lib if hasattr(lib, "malloc_trim") and hasattr(lib, "mallopt") else None


def release_freed_memory() -> None:
    """Return the heap memory freed so far to the operating system, where the C library can."""
    lib = _libc()
    if lib is not None:
        lib.malloc_trim(0)


@functools.cache
def keep_freed_memory() -> bool:
    """Keep freed blocks (up to :data:`TRIM_THRESHOLD`) for reuse instead of returning
    them to the system at once; process-wide, once. True where glibc took the setting."""
    lib = _libc()
    if lib is None:
        return False
    return bool(lib.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(lib.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def available_memory() -> int | None:
    """Bytes of memory this process may still take: the system's ``MemAvailable``
    (``/proc/meminfo``), capped by its cgroup's limit less what the cgroup uses (v2
    ``memory.max``, v1 ``memory.limit_in_bytes``); None where neither is known (not Linux)."""
    free = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    root = Path("/sys/fs/cgroup")
    for limit, usage in (
        ("memory.max", "memory.current"),
        ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"),
    ):
        try:
            text = (root / limit).read_text().strip()
            if text == "max":
                break
            left = max(0, int(text) - int((root / usage).read_text()))
        except (OSError, ValueError):
            continue
        if left < (1 << 60):  # cgroup v1 says "no limit" with a huge number
            free = left if free is None else min(free, left)
        break
    return free
