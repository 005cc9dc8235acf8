"""Merge eccv16 files into one, for the augmented and transfer settings.

Zhang et al. (ECCV 2016, "Video summarization with long short-term memory") train on
the videos of several datasets and test on one (augmented: the target's other videos
train too; transfer: none of the target's). DSNet and VASNet run these settings from
one file; :func:`merge_datasets` writes it in the eccv16 schema with a group per
dataset (:mod:`acsumgan.data.dataset`): ``ALL.h5/summe/video_1`` is the video
``summe/video_1``.

What is kept: every video as the reader reads it (array fields with their dtype and
bytes, scalars as integers, ``video_name``, small extra fields), and each input's root
attributes (``eval_metric``, ``backbone``, ...) on its dataset group, together with
``source_file`` (the input's file name). The root attribute ``merged_datasets`` lists
the datasets in the order given. Every video's features must have one size.

What is not a video is kept too, unchanged (h5py's copy: data, dtype, attributes):
an input's members that are not videos (a ``metadata`` group, a dataset at the root;
see :func:`acsumgan.data.dataset.is_video_group`) go into its dataset group, where
readers ignore them as they did in the input; the attributes of each video group and
the members of a video group the reader does not read (sub-groups, large extra fields)
stay on that video's group. Links are kept as links.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Sequence

import h5py
import numpy as np

from ..errors import ConfigError, DatasetError, OutputError
from .dataset import MERGED_ATTR, get_member, is_video_group, load_dataset, merged_datasets, open_h5, save_dataset

_PREFIX = "eccv16_dataset_"
_SUFFIX = "_google_pool5"


def default_name(path: str | os.PathLike) -> str:
    """A dataset's name from its file name: the stem, lower-cased, without the standard
    files' ``eccv16_dataset_`` prefix and ``_google_pool5`` suffix
    (``eccv16_dataset_summe_google_pool5.h5`` -> ``summe``)."""
    name = Path(path).stem.lower()
    if name.startswith(_PREFIX) and len(name) > len(_PREFIX):
        name = name[len(_PREFIX) :]
    if name.endswith(_SUFFIX) and len(name) > len(_SUFFIX):
        name = name[: -len(_SUFFIX)]
    return name


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a dataset group, or None."""
    if not name or name in (".", "..") or "/" in name or not name.isprintable() or name != name.strip():
        return f"dataset name {name!r} must be non-empty, printable, without '/' and without surrounding spaces"
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _root_attrs(path: Path) -> dict:
    """The root attributes of an input as stored (not decoded), checked to be a flat file."""
    with open_h5(path) as h5:
        inner = merged_datasets(h5, path)
        if inner is not None:
            raise DatasetError(
                path, f"is already a merged file (datasets {', '.join(inner)}); merge the files it was made from"
            )
        return {k: h5.attrs[k] for k in h5.attrs.keys()}


def merge_datasets(
    paths: Sequence[str | os.PathLike], out: str | os.PathLike, names: Sequence[str] | None = None
) -> Path:
    """Write the videos of ``paths`` (eccv16 files) into one merged file ``out``, each
    dataset under its name (``names``, else :func:`default_name` of each file), atomically.

    One-line errors: fewer than two files, a file given twice, names of the wrong number,
    repeated or unusable (ConfigError); ``out`` naming an input (OutputError); an
    input that is invalid, already merged, or whose features differ in size from
    another's (DatasetError)."""
    paths = [Path(p) for p in paths]
    out = Path(out)
    if len(paths) < 2:
        raise ConfigError(None, f"merging needs at least 2 dataset files, got {len(paths)}")
    for i, p in enumerate(paths):
        if _same_file(out, p):
            raise OutputError(out, "is also an input; write the merged file to another path")
        for q in paths[:i]:
            if _same_file(p, q):
                raise ConfigError(p, f"is given twice (also as {q})")
    if names is None:
        names = [default_name(p) for p in paths]
    else:
        names = list(names)
        if len(names) != len(paths):
            raise ConfigError(None, f"--names gives {len(names)} names for {len(paths)} files")
    for p, n in zip(paths, names):
        problem = name_problem(n)
        if problem:
            raise ConfigError(p, problem)
    for i, n in enumerate(names):
        if n in names[:i]:
            first = paths[names.index(n)]
            raise ConfigError(paths[i], f"dataset name {n!r} is also that of {first}; pass --names to tell them apart")

    videos = {}
    group_attrs = {}
    dim_of: tuple[Path, int] | None = None  # the first file with features and their size
    for p, n in zip(paths, names):
        attrs = _root_attrs(p)
        data = load_dataset(p)
        dims = sorted({int(v.features.shape[1]) for v in data.values() if v.features is not None})
        if len(dims) > 1:
            raise DatasetError(p, f"videos have different feature sizes {dims}")
        if dims:
            if dim_of is None:
                dim_of = (p, dims[0])
            elif dims[0] != dim_of[1]:
                raise DatasetError(
                    p,
                    f"features have {dims[0]} dimensions but those of {dim_of[0]} have "
                    f"{dim_of[1]}; merged datasets need one feature size",
                )
        for k, v in data.items():
            videos[f"{n}/{k}"] = dataclasses.replace(v, key=f"{n}/{k}")
        attrs.setdefault("source_file", np.bytes_(p.name.encode("utf-8")))
        attrs.pop(MERGED_ATTR, None)
        group_attrs[n] = attrs
        del data
    return save_dataset(
        out, videos, validate=False, group_attrs=group_attrs, extra=lambda h5: _copy_others(paths, names, h5)
    )


def video_counts(path: str | os.PathLike) -> dict[str, int]:
    """The videos of each dataset group of a merged file, in order: its video groups only
    (:func:`acsumgan.data.dataset.is_video_group`), not the other members kept there (a
    dataset at an input's root, a ``metadata`` group)."""
    with open_h5(path) as h5:
        names = merged_datasets(h5, path) or []
        return {n: sum(is_video_group(get_member(h5[n], k)) for k in h5[n].keys()) for n in names}


def _copy_node(src_group, name: str, dst_group) -> None:
    """``src_group[name]`` into ``dst_group`` under the same name: objects copied, links recreated."""
    link = src_group.get(name, getlink=True)
    if isinstance(link, h5py.SoftLink):
        dst_group[name] = h5py.SoftLink(link.path)
    elif isinstance(link, h5py.ExternalLink):
        dst_group[name] = h5py.ExternalLink(link.filename, link.path)
    else:
        src_group.copy(src_group[name], dst_group, name=name)


def _copy_others(paths: Sequence[Path], names: Sequence[str], h5: h5py.File) -> None:
    """What the reader does not take of each input, copied into the merged file ``h5``
    (see the module docstring)."""
    for p, n in zip(paths, names):
        dst = h5[n]
        with open_h5(p) as src:
            try:
                for name in src.keys():
                    obj = get_member(src, name)
                    if not is_video_group(obj):
                        _copy_node(src, name, dst)
                        continue
                    video = dst[name]
                    for k, val in obj.attrs.items():
                        video.attrs[k] = val
                    for member in obj.keys():
                        if member not in video:
                            _copy_node(obj, member, video)
            except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
                why = (str(exc) or type(exc).__name__).splitlines()[0]
                raise DatasetError(p, f"cannot copy its other members ({why})") from None
