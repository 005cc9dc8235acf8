"""The sample videos summarized at 9:16, 1:1 and 4:5 (issue 25): the files are written at the
window's size, and a picture per sample and aspect goes to tests/artifacts/ for a person to
look at (reframe-<sample>-<aspect>.png: per kept shot, its first frame uncropped with the
window drawn, beside the first frame of that shot in summary.mp4)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from acsumgan.media.reframe import parse_aspect, window_size
from acsumgan.summarize.features import extract_features
from acsumgan.summarize.options import SummarizeOptions
from acsumgan.summarize.outputs import write_summary
from acsumgan.summarize.reframing import frame_size
from acsumgan.summarize.summary import compute_summary

from .conftest import REAL_VIDEOS

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SAMPLES = ["bigbuckbunny.mp4", "bikes.mp4", "vtest.avi"]
ASPECTS = ["9:16", "1:1", "4:5"]
ROW_HEIGHT = 240


def _frames(path: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    out = {}
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i in wanted:
                out[i] = f.to_ndarray(format="rgb24")
            if len(out) == len(wanted):
                break
    return out


def _sheet(files, src_frames: dict[int, np.ndarray], out_frames: dict[int, np.ndarray], path: Path) -> None:
    rows = []
    seg = files.segments
    written = 0
    for shot in seg["shots"]:
        a = shot["start_frame"]
        x, y, w, h = shot["crop"]["keyframes"][0][1:]
        full = Image.fromarray(src_frames[a])
        d = ImageDraw.Draw(full)
        for k in range(3):
            d.rectangle([x + k, y + k, x + w - 1 - k, y + h - 1 - k], outline=(255, 210, 31))
        cut = Image.fromarray(out_frames[written])
        s1, s2 = ROW_HEIGHT / full.height, ROW_HEIGHT / cut.height
        full = full.resize((round(full.width * s1), ROW_HEIGHT))
        cut = cut.resize((round(cut.width * s2), ROW_HEIGHT))
        row = Image.new("RGB", (full.width + 12 + cut.width, ROW_HEIGHT), (24, 24, 24))
        row.paste(full, (0, 0))
        row.paste(cut, (full.width + 12, 0))
        rows.append(row)
        written += shot["n_frames"]
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height + 8 for r in rows)), (24, 24, 24))
    top = 0
    for r in rows:
        sheet.paste(r, (0, top))
        top += r.height + 8
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


@pytest.mark.parametrize("name", SAMPLES)
def test_the_samples_reframed_at_three_aspects(name, backbone, tmp_path):
    video = REAL_VIDEOS / name
    if not video.is_file():
        pytest.skip(f"{name}: the sample videos are not here")
    ex = extract_features(video, backbone)
    assert ex.saliency is not None
    for aspect in ASPECTS:
        options = SummarizeOptions(aspect=aspect, budget=0.3)
        summary = compute_summary(ex, lambda f: np.linspace(0.0, 1.0, len(f)), options, video=video)
        out = tmp_path / aspect.replace(":", "x")
        out.mkdir()
        files = write_summary(summary, out, options)
        fw, fh = frame_size(summary)
        w, h = window_size(fw, fh, parse_aspect(aspect))
        seg = files.segments
        assert (seg["aspect"], seg["summary_width"], seg["summary_height"]) == (aspect, w, h)
        with av.open(str(files.summary_path)) as c:
            assert (c.streams.video[0].width, c.streams.video[0].height) == (w, h)
        starts = {s["start_frame"] for s in seg["shots"]}
        offsets, n = set(), 0
        for s in seg["shots"]:
            offsets.add(n)
            n += s["n_frames"]
        _sheet(
            files,
            _frames(video, starts),
            _frames(files.summary_path, offsets),
            ARTIFACTS / f"reframe-{Path(name).stem}-{aspect.replace(':', 'x')}.png",
        )
