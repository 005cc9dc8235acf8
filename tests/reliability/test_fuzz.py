"""Fuzzing the three readers of user files with random, corrupt and adversarial input.

``load_dataset`` (HDF5), ``read_splits`` (JSON) and ``read_scores`` (JSON or HDF5) may
only succeed or raise their own documented error (DatasetError / SplitsError /
ScoresError): never another exception, never a crash, and within bounded time (the
hypothesis deadline) and memory (the peak resident size may grow by < 200 MB over
a whole test; a file declaring terabytes must be refused before anything is read).
"""

from __future__ import annotations

import json
import math
import os
import resource
from datetime import timedelta
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acsumgan.data.dataset import KNOWN_FIELDS, load_dataset, never_written
from acsumgan.data.splits import read_splits
from acsumgan.errors import DatasetError, ScoresError, SplitsError
from acsumgan.evaluation.scores import read_scores

#: Examples per test (FUZZ_EXAMPLES=1000 for a longer search); derandomized: the same
#: examples every run, so a failure reproduces.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 100))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=2),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
MAX_RSS_GROWTH_MB = 200


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


@pytest.fixture
def bounded_memory():
    """The peak resident size may not grow by more than MAX_RSS_GROWTH_MB during the test."""
    before = _rss_mb()
    yield
    grown = _rss_mb() - before
    assert grown < MAX_RSS_GROWTH_MB, f"peak memory grew by {grown:.0f} MB"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# --- HDF5 files of random structure -----------------------------------------------------

NAMES = st.one_of(
    st.sampled_from(KNOWN_FIELDS + ("video_1", "video_2", "epoch_0", "epoch_-1", "epoch_x", "extra")),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789-. é", min_size=1, max_size=8),
).filter(lambda n: n not in (".", "..") and "/" not in n)

SMALL_SHAPES = st.lists(st.integers(0, 40), min_size=0, max_size=3).map(tuple)
# Declared shapes far beyond every reader's limits (terabytes); chunked, nothing written.
HUGE_SHAPES = st.sampled_from(
    [(2**40,), (1 << 31, 1024), (10**7, 10**6), (2**20, 2**20, 16), (4_000_000, 1024), (10**6,)]
)
NUMERIC = ["f2", "f4", "f8", "i1", "i8", "u1", "u8", "?"]
ODD = ["S8", "S100000", "vlen-str", "compound", "c8", "enum"]


def _dtype(name: str):
    if name == "vlen-str":
        return h5py.string_dtype()
    if name == "compound":
        return np.dtype([("a", "<f4"), ("b", "<i4")])
    if name == "enum":
        return h5py.enum_dtype({"RED": 0, "GREEN": 1}, basetype="i1")
    return np.dtype(name)


def _values(dtype_name: str, shape: tuple, seed: int, special: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape)) if shape else 1
    if dtype_name in ("f2", "f4", "f8", "c8"):
        a = rng.normal(0, 100, n)
        if special == "nan" and n:
            a[rng.integers(n)] = np.nan
        elif special == "inf" and n:
            a[rng.integers(n)] = -np.inf
        elif special == "large":
            a *= 1e300
        with np.errstate(over="ignore"):  # 1e300 as float16/32 is inf: wanted
            return a.astype(dtype_name).reshape(shape)
    if dtype_name in ("i1", "i8", "u1", "u8"):
        info = np.iinfo(dtype_name)
        lo, hi = (info.min, info.max) if special == "large" else (max(info.min, -5), min(info.max, 2000))
        return rng.integers(lo, hi, n, dtype=dtype_name, endpoint=True).reshape(shape)
    if dtype_name == "?":
        return (rng.random(n) < 0.5).reshape(shape)
    if dtype_name == "S8":
        return np.array([b"x%d" % i for i in range(n)], dtype="S8").reshape(shape)
    if dtype_name == "S100000":
        return np.zeros(shape, dtype="S100000") if n <= 4 else np.zeros((2,), dtype="S100000")
    if dtype_name == "vlen-str":
        return np.array(["é" * (i % 5) for i in range(n)], dtype=object).reshape(shape)
    if dtype_name == "compound":
        a = np.zeros(n, dtype=_dtype("compound"))
        a["a"] = rng.normal(size=n)
        return a.reshape(shape)
    if dtype_name == "enum":
        return rng.integers(0, 2, n, dtype="i1").reshape(shape)
    raise AssertionError(dtype_name)


datasets = st.fixed_dictionaries(
    {
        "node": st.just("dataset"),
        "dtype": st.sampled_from(NUMERIC + ODD),
        "shape": SMALL_SHAPES,
        "seed": st.integers(0, 2**16),
        "special": st.sampled_from(["", "", "nan", "inf", "large"]),
    }
)
huge = st.fixed_dictionaries(
    {"node": st.just("huge"), "dtype": st.sampled_from(NUMERIC + ["S100000", "compound"]), "shape": HUGE_SHAPES}
)
links = st.fixed_dictionaries(
    {"node": st.just("link"), "target": st.sampled_from(["/nowhere", "/", "/video_1", "features"])}
)
leaves = st.one_of(datasets, datasets, huge, links)
trees = st.recursive(
    leaves,
    lambda children: st.fixed_dictionaries(
        {"node": st.just("group"), "children": st.dictionaries(NAMES, children, max_size=5)}
    ),
    max_leaves=12,
)
roots = st.dictionaries(NAMES, trees, max_size=4)


def _write_node(h5: h5py.Group, name: str, spec: dict) -> None:
    kind = spec["node"]
    if kind == "group":
        g = h5.create_group(name)
        for k, child in spec["children"].items():
            _write_node(g, k, child)
    elif kind == "dataset":
        data = _values(spec["dtype"], spec["shape"], spec["seed"], spec["special"])
        if spec["shape"] == () and data.ndim:
            data = data.reshape(-1)[0] if data.size else data
        h5.create_dataset(name, data=data, dtype=_dtype(spec["dtype"]))
    elif kind == "huge":
        shape = spec["shape"]
        dt = _dtype(spec["dtype"])
        chunks = tuple(1 for _ in shape)
        h5.create_dataset(name, shape=shape, dtype=dt, chunks=chunks, maxshape=tuple(None for _ in shape))
    elif kind == "link":
        h5[name] = h5py.SoftLink(spec["target"])


def write_tree(path: Path, root: dict, attrs: bool = False) -> Path:
    with h5py.File(path, "w") as h5:
        for name, spec in root.items():
            _write_node(h5, name, spec)
        if attrs:
            h5.attrs["eval_metric"] = "max"
    return path


def _plausible_video(seed: int, T: int, D: int) -> dict[str, np.ndarray]:
    """A small valid video of the eccv16 schema (features, picks, shots, users, labels)."""
    rng = np.random.default_rng(seed)
    n_frames = 15 * T
    cuts = np.unique(np.sort(rng.integers(1, n_frames, size=min(4, n_frames - 1)))) if n_frames > 1 else np.array([])
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts - 1, [n_frames - 1]])
    cp = np.stack([starts, ends], 1).astype(np.int64)
    us = (rng.random((3, n_frames)) < 0.15).astype(np.uint8)
    return {
        "features": rng.random((T, D)).astype(np.float32),
        "picks": (np.arange(T) * 15).astype(np.int64),
        "n_frames": np.int64(n_frames),
        "n_steps": np.int64(T),
        "change_points": cp,
        "n_frame_per_seg": (cp[:, 1] - cp[:, 0] + 1).astype(np.int64),
        "user_summary": us,
        "gtscore": rng.random(T).astype(np.float32),
        "gtsummary": (rng.random(T) < 0.2).astype(np.float32),
        "video_name": np.bytes_(b"fuzz video"),
    }


MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "delete",
                "dtype",
                "scalar",
                "huge",
                "nan",
                "inf",
                "negate",
                "shuffle",
                "truncate",
                "transpose",
                "group",
                "string",
                "bool",
                "swap",
                "wide",
            ]
        ),
        st.sampled_from(KNOWN_FIELDS),
        st.integers(0, 2**16),
    ),
    max_size=4,
)


def _mutate(g: h5py.Group, op: str, field: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    obj = g.get(field)
    if not isinstance(obj, h5py.Dataset) or obj.size > 100_000 or never_written(obj):
        return  # already mutated into something not worth reading here
    a = np.asarray(obj[()])
    del g[field]
    if op == "delete":
        return
    if op == "dtype" and a.dtype.kind in "biuf":
        a = a.astype(rng.choice(["f2", "i1", "u8", "f8", "?"]))
    elif op == "scalar":
        a = a.reshape(-1)[0] if a.size else np.float32(1)
    elif op == "huge":
        shape = (2**40,) if a.ndim <= 1 else (2**31, 2**12)
        g.create_dataset(
            field,
            shape=shape,
            dtype=a.dtype if a.dtype.kind in "biuf" else "f4",
            chunks=tuple(1 for _ in shape),
            maxshape=tuple(None for _ in shape),
        )
        return
    elif op in ("nan", "inf") and a.size and a.dtype.kind in "biuf":
        a = a.astype(np.float32)
        a.reshape(-1)[rng.integers(a.size)] = np.nan if op == "nan" else np.inf
    elif op == "negate" and a.dtype.kind in "biuf":
        a = -a.astype(np.int64) if a.dtype.kind in "bu" else -a
    elif op == "shuffle" and a.ndim:
        a = rng.permutation(a)
    elif op == "truncate" and a.ndim:
        a = a[: rng.integers(0, max(1, a.shape[0]))]
    elif op == "transpose" and a.ndim >= 2:
        a = a.T
    elif op == "group":
        g.create_group(field).create_group("nested")
        return
    elif op == "string":
        a = np.bytes_(b"not a number")
    elif op == "bool" and a.dtype.kind in "biuf":
        a = a.astype(bool)
    elif op == "swap" and a.ndim:
        a = a[::-1].copy()
    elif op == "wide":
        g.create_dataset(field, data=np.zeros(max(1, min(a.size, 8)), dtype="S100000"))
        return
    g.create_dataset(field, data=a)


def _check_dataset_result(videos) -> None:
    """What load_dataset promises about whatever it accepts."""
    assert isinstance(videos, dict) and videos
    for v in videos.values():
        if v.features is not None:
            assert v.features.ndim == 2 and v.features.dtype.kind == "f" and np.isfinite(v.features).all()
        if v.picks is not None:
            p = v.picks.astype(np.int64)
            assert p.ndim == 1 and (p >= 0).all() and (np.diff(p) > 0).all()
            assert v.features is None or p.shape[0] == v.features.shape[0]
        if v.change_points is not None:
            cp = v.change_points.astype(np.int64)
            assert cp[0, 0] == 0 and (cp[1:, 0] == cp[:-1, 1] + 1).all() and (cp[:, 1] >= cp[:, 0]).all()
            assert v.n_frames is None or cp[-1, 1] == v.n_frames - 1
        if v.user_summary is not None:
            assert set(np.unique(v.user_summary).tolist()) <= {0, 1}
            assert v.n_frames is None or v.user_summary.shape[1] == v.n_frames


@FUZZ
@given(data=st.binary(max_size=4096), hdf5_signature=st.booleans(), purpose=st.sampled_from(["any", "train"]))
def test_load_dataset_random_bytes(scratch, bounded_memory, data, hdf5_signature, purpose):
    p = scratch / "bytes.h5"
    p.write_bytes((b"\x89HDF\r\n\x1a\n" if hdf5_signature else b"") + data)
    try:
        _check_dataset_result(load_dataset(p, purpose=purpose))
    except DatasetError as exc:
        assert "\n" not in exc.one_line()


@FUZZ
@given(root=roots, purpose=st.sampled_from(["any", "train", "evaluate", "summarize"]))
def test_load_dataset_random_structure(scratch, bounded_memory, root, purpose):
    p = write_tree(scratch / "tree.h5", root)
    try:
        _check_dataset_result(load_dataset(p, purpose=purpose))
    except DatasetError as exc:
        assert "\n" not in exc.one_line()


@FUZZ
@given(
    seed=st.integers(0, 2**16),
    T=st.integers(1, 70),
    D=st.integers(1, 16),
    mutations=MUTATIONS,
    purpose=st.sampled_from(["any", "train", "evaluate", "summarize"]),
)
def test_load_dataset_mutated_videos(scratch, bounded_memory, seed, T, D, mutations, purpose):
    p = scratch / "mutated.h5"
    with h5py.File(p, "w") as h5:
        g = h5.create_group("video_1")
        for k, v in _plausible_video(seed, T, D).items():
            g.create_dataset(k, data=v)
        for op, field, s in mutations:
            _mutate(g, op, field, s)
    try:
        _check_dataset_result(load_dataset(p, purpose=purpose))
    except DatasetError as exc:
        assert "\n" not in exc.one_line()


@pytest.mark.parametrize(
    "field,value",
    [
        ("picks", np.array([True, False, True])),  # found by review of the fuzz oracle: np.diff of bools is XOR
        ("picks", np.array([30, 15, 40], np.uint8)),  # unsigned differences wrapped around: "increasing"
        ("picks", np.array([0, 15, 1e30])),
        ("change_points", np.array([[False, True], [True, True]])),
        ("change_points", np.array([[0, 20], [21, 10]], np.uint8)),
    ],
)
def test_index_fields_of_odd_dtypes_are_refused(tmp_path, field, value):
    video = _plausible_video(0, 3, 2)
    video.update(
        {
            "n_frames": np.int64(45),
            "change_points": np.array([[0, 20], [21, 44]]),
            "n_frame_per_seg": np.array([21, 24]),
            "user_summary": np.zeros((2, 45), np.uint8),
            field: value,
        }
    )
    p = tmp_path / "odd.h5"
    with h5py.File(p, "w") as h5:
        g = h5.create_group("video_1")
        for k, v in video.items():
            g.create_dataset(k, data=v)
    with pytest.raises(DatasetError, match=f"video_1/{field}: "):
        load_dataset(p)


def test_huge_declared_shapes_are_refused_without_reading(scratch, bounded_memory):
    # (900_000, 1) in unwritten one-element chunks is within every size limit, yet reading
    # it made HDF5 allocate ~3.7 KB per chunk (3.3 GB; 16M chunks got the process killed)
    for shape, dt in [
        ((2**40,), "f4"),
        ((1 << 31, 1024), "f8"),
        ((10**6,), "S100000"),
        ((60, 32), "S100000"),
        ((900_000, 1), "f4"),
        ((5_000_000,), "f4"),
        ((1 << 20,), "compound"),
    ]:
        p = scratch / "huge.h5"
        with h5py.File(p, "w") as h5:
            g = h5.create_group("video_1")
            g.create_dataset("features", shape=shape, dtype=_dtype(dt), chunks=tuple(1 for _ in shape))
            g.create_dataset("notes", shape=shape, dtype=_dtype(dt), chunks=tuple(1 for _ in shape))
        with pytest.raises(DatasetError, match="video_1/features: "):
            load_dataset(p)
        with h5py.File(p, "r+") as h5:  # an extra field: not read at all (and the file loads)
            del h5["video_1/features"]
            h5["video_1/features"] = np.ones((3, 4), np.float32)
            h5["video_1"].create_dataset("video_name", shape=shape, dtype=_dtype(dt), chunks=tuple(1 for _ in shape))
        with pytest.raises(DatasetError, match="video_1/video_name: must be a string"):
            load_dataset(p)
        with h5py.File(p, "r+") as h5:
            del h5["video_1/video_name"]
        assert "notes" not in load_dataset(p)["video_1"].extra
        with h5py.File(p, "w") as h5:
            h5.create_dataset("video_1", shape=shape, dtype=_dtype(dt), chunks=tuple(1 for _ in shape))
        with pytest.raises(ScoresError):
            read_scores(p)


# --- JSON values ---------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=10),
    st.sampled_from(["video_1", "video_2", "train_keys", "test_keys", "epochs", "-1", "0"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(
            st.one_of(
                st.text(max_size=6), st.sampled_from(["train_keys", "test_keys", "epochs", "video_1", "-1", "0", "1"])
            ),
            children,
            max_size=5,
        ),
    ),
    max_leaves=20,
)
ADVERSARIAL_TEXT = [
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    "1" * 20_000,
    '[{"train_keys": ["video_1"], "test_keys": [' + "9" * 5000 + "]}]",
    '{"video_1": [' + "9" * 400 + "]}",
    '{"video_1": [1e999, 2]}',
    '{"video_1": [NaN]}',
    '{"epochs": {"' + "1" * 5000 + '": {"video_1": [1, 2]}}}',
    '{"epochs": {"-1": {"video_1": [[1, 2], [3]]}}}',
    "\ufeff[]",
    "",
    "\x00\x01\x02",
    "[" + ",".join(['{"train_keys": [], "test_keys": []}'] * 1000) + "]",
]


def _near_valid_splits():
    keys = st.lists(st.one_of(st.sampled_from(["video_1", "video_2", "video_3", "video_99"]), json_scalars), max_size=4)
    split = st.dictionaries(
        st.sampled_from(["train_keys", "test_keys", "other"]), st.one_of(keys, json_values), max_size=3
    )
    return st.lists(split, max_size=4)


def _near_valid_scores():
    arr = st.one_of(
        st.lists(st.one_of(st.floats(), st.integers(), st.booleans(), st.none(), st.text(max_size=3)), max_size=6),
        json_values,
    )
    flat = st.dictionaries(st.sampled_from(["video_1", "video_2", "", "epochs"]), arr, max_size=3)
    return st.one_of(
        flat,
        st.fixed_dictionaries(
            {
                "epochs": st.one_of(
                    st.dictionaries(st.sampled_from(["-1", "0", "x", "1.5", " 3", "٣"]), flat, max_size=3), json_values
                )
            }
        ),
    )


def _write_json(p: Path, obj) -> None:
    p.write_text(json.dumps(obj, allow_nan=True))


@FUZZ
@given(obj=st.one_of(json_values, _near_valid_splits()), with_videos=st.booleans())
def test_read_splits_random_json(scratch, bounded_memory, obj, with_videos):
    p = scratch / "splits.json"
    _write_json(p, obj)
    try:
        splits = read_splits(p, ["video_1", "video_2", "video_3"] if with_videos else None)
    except SplitsError as exc:
        assert "\n" not in exc.one_line()
        return
    assert isinstance(splits, list) and splits
    for s in splits:
        assert set(s) == {"train_keys", "test_keys"}
        assert all(isinstance(k, str) for k in s["train_keys"] + s["test_keys"])


@FUZZ
@given(data=st.one_of(st.binary(max_size=2048), st.sampled_from([t.encode("utf-8") for t in ADVERSARIAL_TEXT])))
def test_read_splits_random_bytes(scratch, bounded_memory, data):
    p = scratch / "splits_bytes.json"
    p.write_bytes(data)
    try:
        read_splits(p)
    except SplitsError:
        pass


def _check_scores_result(res) -> None:
    assert isinstance(res, dict) and res
    for epoch, per_video in res.items():
        assert epoch is None or isinstance(epoch, int)
        assert per_video
        for k, s in per_video.items():
            assert isinstance(k, str) and s.ndim == 1 and s.size and np.isfinite(s).all()


@FUZZ
@given(obj=st.one_of(json_values, _near_valid_scores()))
def test_read_scores_random_json(scratch, bounded_memory, obj):
    p = scratch / "scores.json"
    _write_json(p, obj)
    try:
        _check_scores_result(read_scores(p))
    except ScoresError as exc:
        assert "\n" not in exc.one_line()


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=2048),
        st.sampled_from([t.encode("utf-8") for t in ADVERSARIAL_TEXT]),
        st.binary(max_size=512).map(lambda b: b"\x89HDF\r\n\x1a\n" + b),
    )
)
def test_read_scores_random_bytes(scratch, bounded_memory, data):
    p = scratch / "scores_bytes.bin"
    p.write_bytes(data)
    try:
        _check_scores_result(read_scores(p))
    except ScoresError:
        pass


@FUZZ
@given(root=roots)
def test_read_scores_random_hdf5(scratch, bounded_memory, root):
    p = write_tree(scratch / "scores_tree.h5", root)
    try:
        _check_scores_result(read_scores(p))
    except ScoresError as exc:
        assert "\n" not in exc.one_line()


@pytest.mark.parametrize("text", ADVERSARIAL_TEXT, ids=range(len(ADVERSARIAL_TEXT)))
def test_adversarial_json_gives_the_documented_errors(tmp_path, text):
    p = tmp_path / "f.json"
    p.write_text(text, encoding="utf-8")
    try:
        read_splits(p)
    except SplitsError:
        pass
    try:
        _check_scores_result(read_scores(p))
    except ScoresError:
        pass


def test_nan_never_passes_as_a_score(tmp_path):
    p = tmp_path / "s.json"
    p.write_text('{"video_1": [0.1, NaN, 0.3]}')
    with pytest.raises(ScoresError, match="NaN or inf"):
        read_scores(p)
    assert math.isnan(json.loads(p.read_text())["video_1"][1])
