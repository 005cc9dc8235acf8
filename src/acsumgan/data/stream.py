"""Read a dataset file one video at a time, for collections larger than memory.

:func:`~acsumgan.data.dataset.load_dataset` reads every video of a file at once; a
:class:`VideoReader` keeps the file open and reads a video's group only when asked, so
that what is in memory is what the caller holds (a batch), never the collection.

:meth:`VideoReader.check` is ``load_dataset``'s validation without keeping anything:
every video is read, checked (:func:`~acsumgan.data.dataset.validate_video`) and
dropped, in file order, so a bad file fails with the same one-line message, before any
work starts. It returns each video's step count and the feature size, from which a
trainer plans its batches.

The file is open (read-only) for the reader's life, and reopened after every
:data:`REOPEN_EVERY` videos read: HDF5 keeps memory for every object a file handle has
opened until the handle is closed (about 50 KB a video measured with h5py 3, HDF5 1.14),
which would grow with the collection. A file that changed on disk since it was checked
(another size, time or inode) is refused when it is reopened. Reads may come from several
threads (one at a time).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import h5py
import numpy as np

from ..errors import DatasetError
from .dataset import (
    REQUIRED,
    Video,
    _fail,
    _read_array,
    _read_video,
    _video_names,
    load_dataset,
    open_h5,
    validate_video,
)

#: Videos read through one file handle before it is closed and the file reopened.
REOPEN_EVERY = 200


def _identity(path) -> tuple:
    st = os.stat(path)
    return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class Collection:
    """What a pass over a file found: the video keys in file order, the steps T of each
    (the rows of its features; 0 without features) and the feature size D (None without)."""

    keys: list[str]
    steps: dict[str, int]
    dim: int | None


class VideoReader:
    """An open dataset file whose videos are read one group at a time."""

    def __init__(self, path: str | os.PathLike):
        self.path = path
        self._lock = threading.RLock()
        self._h5: h5py.File | None = open_h5(path)
        self._file = _identity(path)
        self._reads = 0
        try:
            self.keys = _video_names(path, self._h5)
        except DatasetError:
            self.close()
            raise
        except (OSError, RuntimeError, KeyError) as exc:
            self.close()
            raise DatasetError(path, f"unreadable HDF5 structure ({exc})") from None

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._h5 is not None:
                self._h5.close()
                self._h5 = None

    def _group(self, key: str) -> h5py.Group:
        """The video's group (the caller holds the lock); reopens the file every REOPEN_EVERY reads."""
        if self._h5 is None:
            raise ValueError(f"{self.path}: the reader is closed")
        self._reads += 1
        if self._reads > REOPEN_EVERY:
            self._h5.close()
            self._h5 = None
            try:
                same = _identity(self.path) == self._file
            except OSError:
                same = False
            if not same:
                raise DatasetError(self.path, "changed on disk while in use (replaced or rewritten); run again")
            self._h5 = open_h5(self.path)
            self._reads = 1
        try:
            grp = self._h5[key]
        except (OSError, RuntimeError, KeyError, ValueError) as exc:
            raise _fail(self.path, key, None, f"unreadable ({exc})") from None
        if not isinstance(grp, h5py.Group):
            raise _fail(self.path, key, None, "is not a video group")
        return grp

    def video(self, key: str) -> Video:
        """Every field of one video, as :func:`~acsumgan.data.dataset.load_dataset` reads it
        (not validated: :meth:`check` did that)."""
        with self._lock:
            return self._video(key)

    def _video(self, key: str) -> Video:
        grp = self._group(key)
        try:
            return _read_video(self.path, key, grp)
        except DatasetError:
            raise
        except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
            raise _fail(
                self.path, key, None, f"unreadable ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
            ) from None

    def features(self, key: str) -> np.ndarray:
        """One video's (T, D) features, and nothing else of it."""
        with self._lock:
            return self._features(key)

    def _features(self, key: str) -> np.ndarray:
        grp = self._group(key)
        if "features" not in grp:
            raise _fail(self.path, key, "features", "missing (needed to train)")
        try:
            return _read_array(self.path, key, grp, "features")
        except DatasetError:
            raise
        except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
            raise _fail(self.path, key, "features", f"unreadable ({type(exc).__name__})") from None

    def has_fields(self, key: str, names) -> bool:
        """True when the video's group holds every one of ``names`` (nothing is read)."""
        with self._lock:
            grp = self._group(key)
            return all(name in grp for name in names)

    def check(self, purpose: str = "any") -> Collection:
        """Read, validate and drop every video in file order (the first problem: a one-line
        DatasetError naming the file, the video and the field, as ``load_dataset`` says it).
        With ``purpose="train"`` every video must have features of one size."""
        if purpose not in REQUIRED:
            raise ValueError(f"unknown purpose {purpose!r}")
        if not self.keys:
            raise DatasetError(self.path, "contains no videos")
        steps: dict[str, int] = {}
        dims: set[int] = set()
        for key in self.keys:
            v = self.video(key)
            validate_video(v, self.path, purpose)
            steps[key] = 0 if v.features is None else int(v.features.shape[0])
            if v.features is not None:
                dims.add(int(v.features.shape[1]))
        if purpose == "train" and len(dims) > 1:
            raise DatasetError(self.path, f"videos have different feature sizes {sorted(dims)}")
        return Collection(list(self.keys), steps, None if not dims else min(dims))


class LoadedVideos:
    """:class:`VideoReader`'s interface over a file read all at once
    (:func:`~acsumgan.data.dataset.load_dataset`): memory grows with the collection. The
    streamed reader's reference in tests; :meth:`check` reads the file."""

    def __init__(self, path: str | os.PathLike):
        self.path = path
        self.videos: dict[str, Video] = {}

    def __enter__(self) -> "LoadedVideos":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.videos = {}

    def video(self, key: str) -> Video:
        return self.videos[key]

    def features(self, key: str) -> np.ndarray:
        return self.videos[key].features

    def has_fields(self, key: str, names) -> bool:
        return all(getattr(self.videos[key], name) is not None for name in names)

    def check(self, purpose: str = "any") -> Collection:
        self.videos = load_dataset(self.path, purpose)
        steps = {k: 0 if v.features is None else int(v.features.shape[0]) for k, v in self.videos.items()}
        dims = {int(v.features.shape[1]) for v in self.videos.values() if v.features is not None}
        return Collection(list(self.videos), steps, None if not dims else min(dims))
