"""``summary.html``, the review page of one summarized video, and ``index.html`` of several.

The summary page shows the original video in a player (``id="original"``) and under
it a timeline of the whole video (inline SVG, ``id="timeline"``): the importance
curve, a tick at each shot boundary (short and light when there are many shots) and the kept
shots highlighted (never narrower than a few pixels, so they stay visible on an hour
of 600 shots). Then a strip with one thumbnail per shot (``id="shots"``), its
timecodes, length and score, kept shots marked; the summary video (``id="summary"``);
the totals and links to the files.

A reframed summary (``SummaryView.reframe``: summarize ``--aspect 9:16``, ...) also shows
its crop as a frame over the original player (``id="crop-frame"``): during a kept shot the
window summary.mp4 shows, moving along the shot's path (its keyframes, interpolated at the
player's ``currentTime``), hidden outside the kept shots. A page of a summary that was not
reframed is as before (no frame, no extra style or script).

Every shot, on the timeline and in the strip, is an element of class ``shot`` with
``data-start`` (seconds), ``data-kept`` (``1`` or ``0``) and ``data-index`` (1-based):
clicking it, or Enter / Space on it, seeks the original player to the shot's start
and plays. Strip shots are buttons; kept shots on the timeline are focusable too.

The page is one HTML file with inline CSS and JavaScript; the videos, thumbnails and
files are relative links given by the caller (see :mod:`.media`), so it makes no
network request. Every text is HTML-escaped.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..fileio import write_text
from .common import esc as _e
from .common import page as _page

#: Above this many shots the boundary ticks are drawn light and short, along the band (not a grey wall).
MANY_SHOTS = 60
#: The height of a boundary tick with many shots (timeline units, above the kept band).
SHORT_TICK = 8.0
#: The curve is drawn with at most this many points (the maximum of each bucket).
MAX_CURVE_POINTS = 1000
#: The timeline's SVG coordinates: width, curve height, kept-band height.
TL_W, TL_CURVE, TL_BAND = 1000.0, 80.0, 14.0
#: A kept shot is drawn at least this wide (in timeline units of TL_W).
MIN_KEPT_W = 3.0


@dataclass
class ShotView:
    """One shot as the page shows it. ``end_seconds`` is where the shot ends (the end of
    its last frame); ``thumbnail`` is an href relative to the page."""

    index: int  # 1-based
    start_frame: int
    end_frame: int  # inclusive
    start_seconds: float
    end_seconds: float
    score: float
    kept: bool
    thumbnail: str


@dataclass
class SummaryView:
    """Everything ``summary.html`` shows; hrefs are relative to the page."""

    title: str
    video_href: str
    summary_href: str
    fps: float
    n_frames: int
    duration_seconds: float
    curve_times: list[float]
    curve_scores: list[float]
    shots: list[ShotView]
    budget: float | None  # fraction of the video's length, when the summary was asked that way
    seconds_requested: float | None  # the summary length asked for, when asked in seconds
    summary_seconds: float
    links: dict[str, str] = field(default_factory=dict)  # label -> href
    # a reframed summary: {"aspect": "9:16", "frame": [w, h] (the upright frame the windows
    # lie in), "shots": [{"start", "end" (seconds), "keyframes": [[t, x, y, w, h], ...]}]}
    reframe: dict | None = None


@dataclass
class IndexEntry:
    """One video on ``index.html``."""

    title: str
    href: str  # its summary.html, relative to the index
    duration_seconds: float
    summary_seconds: float
    thumbnail: str | None = None
    shots_kept: int | None = None
    shots_total: int | None = None


# ----------------------------------------------------------------------------- text


def timecode(seconds: float) -> str:
    """``HH:MM:SS.mmm`` (milliseconds rounded): ``timecode(3723.5) == "01:02:03.500"``."""
    ms = int(round(max(0.0, float(seconds)) * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def clock(seconds: float) -> str:
    """A short length for people: ``0:08.0``, ``12:04.5``, ``1:02:03``."""
    seconds = max(0.0, float(seconds))
    if seconds >= 3600:
        t = int(round(seconds))
        return f"{t // 3600}:{t % 3600 // 60:02d}:{t % 60:02d}"
    t = round(seconds, 1)
    m, s = divmod(t, 60)
    return f"{int(m)}:{s:04.1f}"


def _num(x: float) -> str:
    """A number for an attribute: exact (repr of the float), finite."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"not a finite number: {x}")
    return repr(x)


def _u(x: float) -> str:
    """A timeline coordinate, to 0.01 units."""
    return f"{x:.2f}".rstrip("0").rstrip(".") or "0"


# ----------------------------------------------------------------------------- shared page parts

PAGE_CSS = """
.grid{display:grid;grid-template-columns:minmax(0,1fr) 340px;gap:0 14px;align-items:start}
@media (max-width:900px){.grid{grid-template-columns:minmax(0,1fr)}}
video{display:block;width:100%;max-height:62vh;background:#000;border-radius:6px}
.timeline{margin-top:10px}
#timeline{display:block;width:100%;height:96px;background:#fafbfc;border:1px solid var(--line);border-radius:6px;
touch-action:manipulation}
#timeline .curve-fill{fill:var(--curve-bg)}
#timeline .curve{fill:none;stroke:var(--curve);stroke-width:1.5px}
#timeline .tick{stroke:#8795a5;stroke-width:1px}
#timeline.many .tick{stroke:#c3ccd6;stroke-opacity:.6}
#timeline .band{fill:#eef1f4}
#timeline .shot{fill:transparent;cursor:pointer}
#timeline .shot:hover{fill:rgba(25,113,194,.10)}
#timeline .shot.kept{fill:var(--kept);fill-opacity:.3}
#timeline .shot.kept:hover{fill-opacity:.42}
#timeline .keptmark{fill:var(--kept);pointer-events:none}
#timeline .shot.current{fill:rgba(123,47,247,.16)}
#timeline .shot:focus{outline:none}
#timeline .shot:focus-visible{stroke:var(--focus);stroke-width:3px}
#timeline .playhead{stroke:#c92a2a;stroke-width:2px;pointer-events:none}
#timeline *{vector-effect:non-scaling-stroke}
.axis{display:flex;justify-content:space-between;color:var(--muted);font-size:.8rem;margin-top:2px}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;color:var(--muted);font-size:.85rem;margin-top:4px}
.legend i{display:inline-block;width:14px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.legend .k{background:var(--kept)}.legend .c{background:var(--curve)}.legend .t{background:#8795a5;width:2px}
dl.totals{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:0}
dl.totals dt{color:var(--muted)}
dl.totals dd{margin:0;font-weight:600}
ul.files{margin:0;padding-left:18px}
ul.files li{overflow-wrap:anywhere}
.strip-head{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:6px 16px}
.strip-head label{font-size:.9rem;color:var(--muted);cursor:pointer}
ol.strip{list-style:none;margin:8px 0 0;padding:0;display:grid;gap:10px;
grid-template-columns:repeat(auto-fill,minmax(170px,1fr))}
ol.strip.only-kept li:not(.kept){display:none}
button.shot{display:block;width:100%;margin:0;padding:0;font:inherit;color:inherit;text-align:left;cursor:pointer;
background:var(--card);border:2px solid var(--line);border-radius:8px;overflow:hidden}
button.shot:hover{border-color:#9fb3c8}
button.shot.kept{border-color:var(--kept)}
button.shot.current{box-shadow:0 0 0 3px rgba(123,47,247,.35)}
button.shot img{display:block;width:100%;height:auto;min-height:40px;background:#ccd3da}
button.shot .meta{display:block;padding:6px 8px 7px;font-size:.82rem;line-height:1.35}
button.shot .row{display:flex;justify-content:space-between;gap:6px}
button.shot .tc{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.78rem;color:var(--muted)}
.badge{display:inline-block;padding:0 6px;border-radius:9px;font-size:.75rem;font-weight:700;background:var(--kept);
color:#fff}
.badge.no{background:#e9ecef;color:var(--muted);font-weight:600}
@media (max-width:520px){header,main,footer{padding-left:10px;padding-right:10px}h1{font-size:1.2rem}
ol.strip{grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:8px}}
"""

SCRIPT = """
(function(){
  var player=document.getElementById('original');
  var shots=[].slice.call(document.querySelectorAll('.shot[data-start]'));
  var starts=[],seen={};
  shots.forEach(function(el){var i=el.getAttribute('data-index');
    if(!seen[i]){seen[i]=1;starts.push([parseFloat(el.getAttribute('data-start')),i]);}});
  starts.sort(function(a,b){return a[0]-b[0];});
  function seek(el){
    var t=parseFloat(el.getAttribute('data-start'));
    if(!player||isNaN(t))return;
    player.currentTime=t;
    var p=player.play();
    if(p&&p.catch)p.catch(function(){});
    mark(el.getAttribute('data-index'));
  }
  var current=null;
  function mark(index){
    if(index===current)return;
    current=index;
    shots.forEach(function(el){
      var on=el.getAttribute('data-index')===index;
      el.classList.toggle('current',on);
      if(el.tagName==='BUTTON')el.setAttribute('aria-current',on?'true':'false');
    });
  }
  document.addEventListener('click',function(ev){
    var el=ev.target.closest&&ev.target.closest('.shot[data-start]');
    if(!el)return;
    ev.preventDefault();seek(el);
  });
  document.addEventListener('keydown',function(ev){
    if(ev.key!=='Enter'&&ev.key!==' ')return;
    var el=ev.target.closest&&ev.target.closest('.shot[data-start]');
    if(!el||el.tagName==='BUTTON')return;  /* a button clicks itself */
    ev.preventDefault();seek(el);
  });
  var tl=document.getElementById('timeline'),head=document.getElementById('playhead');
  var total=tl?parseFloat(tl.getAttribute('data-duration')):0;
  if(player){player.addEventListener('timeupdate',function(){
    var t=player.currentTime;
    if(head&&total>0){var x=Math.max(0,Math.min(1,t/total))*1000;head.setAttribute('x1',x);head.setAttribute('x2',x);}
    var lo=0,hi=starts.length-1,found=null;
    while(lo<=hi){var mid=(lo+hi)>>1;if(starts[mid][0]<=t+1e-6){found=starts[mid][1];lo=mid+1;}else hi=mid-1;}
    if(found!==null)mark(found);
  });}
  var only=document.getElementById('only-kept'),strip=document.getElementById('shots');
  if(only&&strip){only.addEventListener('change',function(){strip.classList.toggle('only-kept',only.checked);});}
})();
"""


#: Style and script of the crop frame (only on the page of a reframed summary).
REFRAME_CSS = """
.player{position:relative}
.crop-frame{position:absolute;box-sizing:border-box;border:3px solid #ffd21f;pointer-events:none;
box-shadow:0 0 0 9999px rgba(0,0,0,.45);border-radius:2px}
.player{overflow:hidden;border-radius:6px}
.reframe-note{margin:.4rem 0 0;color:var(--muted);font-size:.9rem}
"""

REFRAME_SCRIPT = r"""
(function(){
  var box=document.getElementById('player'),frame=document.getElementById('crop-frame');
  var video=document.getElementById('original');
  if(!box||!frame||!video)return;
  var data=JSON.parse(box.getAttribute('data-reframe'));
  var fw=data.frame[0],fh=data.frame[1],shots=data.shots;
  function at(keys,t){  /* the window at t: straight between keyframes, held before and after */
    if(t<=keys[0][0])return keys[0];
    for(var i=1;i<keys.length;i++){
      if(t<=keys[i][0]){
        var a=keys[i-1],b=keys[i],u=(b[0]>a[0])?(t-a[0])/(b[0]-a[0]):1;
        return [t,a[1]+(b[1]-a[1])*u,a[2]+(b[2]-a[2])*u,a[3],a[4]];
      }
    }
    return keys[keys.length-1];
  }
  function place(){
    var t=video.currentTime,shot=null;
    for(var i=0;i<shots.length;i++){if(t>=shots[i].start-1e-6&&t<shots[i].end){shot=shots[i];break;}}
    if(!shot){frame.hidden=true;box.removeAttribute('data-crop');return;}
    var k=at(shot.keyframes,t);
    /* the picture inside the player (object-fit: contain): its size and offset */
    var cw=video.clientWidth,ch=video.clientHeight,s=Math.min(cw/fw,ch/fh);
    var ox=(cw-fw*s)/2+video.offsetLeft,oy=(ch-fh*s)/2+video.offsetTop;
    frame.style.left=(ox+k[1]*s)+'px';frame.style.top=(oy+k[2]*s)+'px';
    frame.style.width=(k[3]*s)+'px';frame.style.height=(k[4]*s)+'px';
    frame.hidden=false;
    box.setAttribute('data-crop',[k[1],k[2],k[3],k[4]].map(function(v){return Math.round(v*100)/100;}).join(','));
  }
  function loop(){place();if(!video.paused&&!video.ended)requestAnimationFrame(loop);}
  ['timeupdate','seeked','loadedmetadata','play'].forEach(function(e){video.addEventListener(e,e==='play'?loop:place);});
  window.addEventListener('resize',place);
  place();
})();
"""


def _reframe_attr(view: SummaryView) -> str:
    """The crop data of the page's frame, as a JSON attribute value (escaped)."""
    return _e(json.dumps(view.reframe, separators=(",", ":"), allow_nan=False))


def _original_player(view: SummaryView) -> str:
    video = f'<video id="original" controls preload="metadata" playsinline src="{_e(view.video_href)}"></video>'
    if view.reframe is None:
        return video
    return (
        f'<div class="player" id="player" data-reframe="{_reframe_attr(view)}">{video}'
        '<div class="crop-frame" id="crop-frame" hidden aria-hidden="true"></div></div>\n'
        f'<p class="reframe-note">Reframed to {_e(view.reframe["aspect"])}: the frame shows what the summary '
        "keeps of each kept shot.</p>"
    )


# ----------------------------------------------------------------------------- the summary page


def _curve_points(times: list[float], scores: list[float], duration: float) -> list[tuple[float, float]]:
    """(x, y) in timeline units: scores scaled to the curve's height by their maximum."""
    pts = [(float(t), float(s)) for t, s in zip(times, scores) if math.isfinite(float(t)) and math.isfinite(float(s))]
    if not pts or duration <= 0:
        return []
    pts.sort()
    if len(pts) > MAX_CURVE_POINTS:  # keep each bucket's peak, so short high shots stay visible
        size = math.ceil(len(pts) / MAX_CURVE_POINTS)
        pts = [max(pts[i : i + size], key=lambda p: p[1]) for i in range(0, len(pts), size)]
    lo = min(0.0, min(s for _, s in pts))
    hi = max(s for _, s in pts)
    span = (hi - lo) or 1.0
    return [(min(TL_W, max(0.0, t / duration * TL_W)), TL_CURVE - (s - lo) / span * (TL_CURVE - 6)) for t, s in pts]


def _shot_label(s: ShotView) -> str:
    return f"Shot {s.index}, {clock(s.start_seconds)} to {clock(s.end_seconds)}, score {s.score:.2f}" + (
        ", kept" if s.kept else ""
    )


def _timeline(view: SummaryView) -> str:
    d = float(view.duration_seconds) or max([s.end_seconds for s in view.shots] + [1.0])
    height = TL_CURVE + TL_BAND
    many = len(view.shots) > MANY_SHOTS

    def x(t):
        return min(TL_W, max(0.0, float(t) / d * TL_W))

    parts = [
        f'<svg id="timeline" class="{"many" if many else "few"}" viewBox="0 0 {_u(TL_W)} {_u(height)}" '
        f'preserveAspectRatio="none" role="group" data-duration="{_num(d)}" '
        f'aria-label="Timeline of the whole video: importance and shots; kept shots can be focused">',
        f'<rect class="band" x="0" y="{_u(TL_CURVE)}" width="{_u(TL_W)}" height="{_u(TL_BAND)}"/>',
    ]
    for s in view.shots:  # shots not kept: click targets only (the strip has them all as buttons)
        if not s.kept:
            x0, x1 = x(s.start_seconds), x(s.end_seconds)
            parts.append(
                f'<rect class="shot" x="{_u(x0)}" y="0" width="{_u(max(x1 - x0, 0.01))}" '
                f'height="{_u(height)}" data-start="{_num(s.start_seconds)}" data-kept="0" '
                f'data-index="{s.index}" tabindex="-1"><title>{_e(_shot_label(s))}</title></rect>'
            )
    pts = _curve_points(view.curve_times, view.curve_scores, d)
    if pts:
        line = " ".join(f"{_u(px)},{_u(py)}" for px, py in pts)
        parts.append(
            f'<path class="curve-fill" d="M{_u(pts[0][0])},{_u(TL_CURVE)} L{line} '
            f'L{_u(pts[-1][0])},{_u(TL_CURVE)} Z" pointer-events="none"/>'
        )
        parts.append(f'<polyline class="curve" points="{line}" pointer-events="none"/>')
    for s in view.shots:  # kept shots over the curve, never narrower than MIN_KEPT_W
        if s.kept:
            x0, x1 = x(s.start_seconds), x(s.end_seconds)
            w = max(x1 - x0, MIN_KEPT_W)
            x0 = min(max(0.0, (x0 + x1) / 2 - w / 2), TL_W - w)
            parts.append(
                f'<rect class="shot kept" x="{_u(x0)}" y="0" width="{_u(w)}" height="{_u(height)}" '
                f'data-start="{_num(s.start_seconds)}" data-kept="1" data-index="{s.index}" tabindex="0" '
                f'role="button" aria-label="{_e(_shot_label(s))}"><title>{_e(_shot_label(s))}</title></rect>'
            )
            parts.append(
                f'<rect class="keptmark" x="{_u(x0)}" y="{_u(TL_CURVE + 2)}" width="{_u(w)}" '
                f'height="{_u(TL_BAND - 4)}"/>'
            )
    y1 = TL_CURVE - SHORT_TICK if many else 0.0  # many shots: short ticks along the axis
    for s in view.shots[1:]:
        xs = _u(x(s.start_seconds))
        parts.append(
            f'<line class="tick" x1="{xs}" x2="{xs}" y1="{_u(y1)}" y2="{_u(TL_CURVE)}" pointer-events="none"/>'
        )
    parts.append(f'<line id="playhead" class="playhead" x1="0" x2="0" y1="0" y2="{_u(height)}"/>')
    parts.append("</svg>")
    marks = "".join(f"<span>{_e(clock(d * q / 4))}</span>" for q in range(5))
    legend = (
        '<div class="legend"><span><i class="c"></i>importance score</span>'
        '<span><i class="k"></i>kept shot (in the summary)</span>'
        f'<span><i class="t"></i>shot boundary{" (short ticks: many shots)" if many else ""}</span></div>'
    )
    return (
        f'<div class="timeline">{"".join(parts)}<div class="axis tnum" aria-hidden="true">{marks}</div>{legend}</div>'
    )


def _strip(view: SummaryView) -> str:
    lazy = ' loading="lazy"' if len(view.shots) > MANY_SHOTS else ""
    items = []
    for s in view.shots:
        kept = "1" if s.kept else "0"
        badge = '<span class="badge">kept</span>' if s.kept else '<span class="badge no">not kept</span>'
        items.append(
            f'<li class="{"kept" if s.kept else "dropped"}">'
            f'<button type="button" class="shot{" kept" if s.kept else ""}" '
            f'data-start="{_num(s.start_seconds)}" data-kept="{kept}" data-index="{s.index}" '
            f'aria-label="{_e(_shot_label(s))}" aria-current="false">'
            f'<img src="{_e(s.thumbnail)}" alt="" decoding="async"{lazy}>'
            f'<span class="meta"><span class="row"><strong>#{s.index}</strong>{badge}</span>'
            f'<span class="tc tnum">{_e(timecode(s.start_seconds))}<br>{_e(timecode(s.end_seconds))}</span>'
            f'<span class="row tnum"><span>{s.end_seconds - s.start_seconds:.2f} s</span>'
            f"<span>score {s.score:.2f}</span></span></span></button></li>"
        )
    return "\n".join(items)


def _asked(view: SummaryView) -> str:
    if view.seconds_requested is not None:
        return f"{clock(view.seconds_requested)} requested"
    if view.budget is not None:
        return f"{view.budget * 100:g}% of the video"
    return "-"


def summary_html(view: SummaryView) -> str:
    """The text of ``summary.html`` (see the module docstring)."""
    kept = sum(1 for s in view.shots if s.kept)
    d = float(view.duration_seconds)
    share = f" ({view.summary_seconds / d * 100:.1f}%)" if d > 0 else ""
    totals = (
        '<dl class="totals tnum" id="totals">'
        f"<dt>Video</dt><dd>{_e(clock(d))}</dd>"
        f"<dt>Summary</dt><dd>{_e(clock(view.summary_seconds))}{share}</dd>"
        f"<dt>Asked for</dt><dd>{_e(_asked(view))}</dd>"
        f"<dt>Shots kept</dt><dd>{kept} of {len(view.shots)}</dd>"
        f"<dt>Frames</dt><dd>{view.n_frames} at {view.fps:g} fps</dd></dl>"
    )
    links = "".join(f'<li><a href="{_e(href)}">{_e(label)}</a></li>' for label, href in view.links.items())
    body = f"""<header>
<h1>{_e(view.title)}</h1>
<p class="sub tnum">{_e(clock(d))} video · {_e(clock(view.summary_seconds))} summary · {kept} of {len(view.shots)} \
shots kept</p>
</header>
<main>
<div class="grid">
<section class="card" aria-labelledby="h-original">
<h2 id="h-original">Original video</h2>
{_original_player(view)}
{_timeline(view)}
</section>
<div>
<section class="card" aria-labelledby="h-summary">
<h2 id="h-summary">Summary video</h2>
<video id="summary" controls preload="metadata" playsinline src="{_e(view.summary_href)}"></video>
</section>
<section class="card" aria-labelledby="h-totals">
<h2 id="h-totals">Totals</h2>
{totals}
</section>
<section class="card" aria-labelledby="h-files">
<h2 id="h-files">Files</h2>
<ul class="files" id="files">{links or "<li>none</li>"}</ul>
</section>
</div>
</div>
<section class="card" aria-labelledby="h-shots">
<div class="strip-head"><h2 id="h-shots">Shots</h2>
<label><input type="checkbox" id="only-kept"> only kept shots</label></div>
<ol class="strip" id="shots">
{_strip(view)}
</ol>
</section>
</main>
<footer>Click a shot, or focus it and press Enter, to play the original from its start.</footer>"""
    if view.reframe is not None:
        return _page(f"{view.title} · summary", PAGE_CSS + REFRAME_CSS, body, SCRIPT + REFRAME_SCRIPT)
    return _page(f"{view.title} · summary", PAGE_CSS, body, SCRIPT)


def write_summary_page(path: str | os.PathLike, view: SummaryView) -> Path:
    """Write ``summary.html`` (atomically) and return its path."""
    return write_text(path, summary_html(view))


# ----------------------------------------------------------------------------- the index page

#: Videos per page of ``index.html``.
INDEX_PAGE_SIZE = 100
#: The columns of a row of the index's entries (its JSON block, ``columns``).
INDEX_COLUMNS = (
    "title",
    "href",
    "thumbnail",
    "duration_seconds",
    "summary_seconds",
    "shots_kept",
    "shots_total",
    "video",  # the video's length as the card shows it (clock)
    "summary",  # the summary's length as the card shows it
)

INDEX_CSS = """
ol.videos{list-style:none;margin:0;padding:0;display:grid;gap:14px;grid-template-columns:repeat(auto-fill,minmax(250px,1fr))}
ol.videos a{display:block;color:inherit;text-decoration:none;background:var(--card);border:1px solid var(--line);
border-radius:10px;overflow:hidden;height:100%}
ol.videos a:hover{border-color:#9fb3c8}
ol.videos img,ol.videos .noimg{display:block;width:100%;aspect-ratio:16/9;object-fit:cover;background:#ccd3da}
ol.videos .noimg{display:flex;align-items:center;justify-content:center;color:var(--muted);font-size:.9rem}
ol.videos .meta{display:block;padding:8px 10px 10px}
ol.videos strong{display:block;overflow-wrap:anywhere;color:var(--accent)}
ol.videos .facts{display:block;color:var(--muted);font-size:.88rem}
main{padding-bottom:20px}
.tools{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;margin:0 0 12px}
.tools input{font:inherit;padding:5px 8px;border:1px solid var(--line);border-radius:6px;min-width:0;width:16rem;
max-width:100%}
.pager{display:flex;flex-wrap:wrap;align-items:center;gap:6px}
.pager button{font:inherit;padding:4px 10px;border:1px solid var(--line);border-radius:6px;background:var(--card);
color:inherit;cursor:pointer}
.pager button:disabled{opacity:.45;cursor:default}
.pager .status{color:var(--muted);margin:0 4px}
.shown{color:var(--muted);margin:0 0 8px}
.pager.bottom{margin-top:14px}
"""

#: Pages through the entries of the JSON block (the first page is also in the HTML): the
#: page and the filter live in the URL's hash (``#page=3&q=news``), so reload and Back keep them.
INDEX_SCRIPT = """
(function(){
  var box=document.getElementById('index-data');
  if(!box)return;
  var data=JSON.parse(box.textContent),rows=data.rows,size=data.page_size,col={};
  data.columns.forEach(function(c,i){col[c]=i;});
  var names=rows.map(function(r){return String(r[col.title]).toLowerCase();});
  var list=document.getElementById('videos'),shown=document.getElementById('shown');
  var none=document.getElementById('none'),filter=document.getElementById('filter');
  var pagers=[].slice.call(document.querySelectorAll('.pager'));
  var total=rows.length,current=null,count=1;  /* count: pages of the matches */
  function parse(){
    var p=new URLSearchParams(location.hash.slice(1)),n=parseInt(p.get('page'),10);
    return {page:n>0?n:1,q:p.get('q')||''};
  }
  function hash(page,q){
    var p=new URLSearchParams();p.set('page',String(page));if(q)p.set('q',q);return '#'+p.toString();
  }
  function card(r){
    var li=document.createElement('li'),a=document.createElement('a'),meta=document.createElement('span');
    a.className='video';a.setAttribute('href',r[col.href]);
    if(r[col.thumbnail]){
      var img=document.createElement('img');img.alt='';img.decoding='async';img.loading='lazy';
      img.setAttribute('src',r[col.thumbnail]);a.appendChild(img);
    }else{var no=document.createElement('span');no.className='noimg';no.textContent='no thumbnail';a.appendChild(no);}
    meta.className='meta';
    var t=document.createElement('strong');t.textContent=r[col.title];meta.appendChild(t);
    var f=document.createElement('span');f.className='facts tnum';
    f.textContent='video '+r[col.video]+' \\u00b7 summary '+r[col.summary];meta.appendChild(f);
    if(r[col.shots_kept]!==null&&r[col.shots_total]!==null){
      var k=document.createElement('span');k.className='facts tnum';
      k.textContent=r[col.shots_kept]+' of '+r[col.shots_total]+' shots kept';meta.appendChild(k);
    }
    a.appendChild(meta);li.appendChild(a);return li;
  }
  function n(x){return x.toLocaleString('en-US');}
  function render(){
    var s=parse(),q=s.q.toLowerCase(),match=[];
    for(var i=0;i<total;i++)if(!q||names[i].indexOf(q)>=0)match.push(i);
    var pages=Math.max(1,Math.ceil(match.length/size)),page=Math.min(s.page,pages);
    count=pages;
    if(page!==s.page){location.replace(hash(page,s.q));return;}
    if(filter.value!==s.q)filter.value=s.q;
    var key=page+'\\n'+q;
    if(key!==current){
      if(current!==null||key!=='1\\n'){  /* the first page without a filter is in the HTML already */
        var frag=document.createDocumentFragment(),end=Math.min(match.length,page*size);
        for(var j=(page-1)*size;j<end;j++)frag.appendChild(card(rows[match[j]]));
        list.textContent='';list.appendChild(frag);
        if(current!==null)window.scrollTo(0,0);
      }
      current=key;
    }
    var from=match.length?(page-1)*size+1:0,to=Math.min(match.length,page*size);
    shown.textContent=(q?n(match.length)+' of '+n(total)+' videos match \\u201c'+s.q+'\\u201d':n(total)+' videos')+
      (match.length?' \\u00b7 showing '+n(from)+'\\u2013'+n(to):'');
    none.hidden=match.length>0;
    pagers.forEach(function(nav){
      nav.hidden=nav.id==='pager-top'?total<=size:pages<=1;  /* one page in all: no buttons */
      nav.querySelector('.status').textContent='Page '+n(page)+' of '+n(pages);
      nav.querySelectorAll('button').forEach(function(b){
        var go=b.getAttribute('data-go');
        b.disabled=(go==='first'||go==='prev')?page<=1:page>=pages;
      });
    });
    document.body.setAttribute('data-page',String(page));
    document.body.setAttribute('data-pages',String(pages));
    document.body.setAttribute('data-matches',String(match.length));
  }
  pagers.forEach(function(nav){
    nav.addEventListener('click',function(ev){
      var b=ev.target.closest&&ev.target.closest('button[data-go]');
      if(!b||b.disabled)return;
      var s=parse(),go=b.getAttribute('data-go');
      var to=go==='first'?1:go==='last'?count:go==='prev'?s.page-1:s.page+1;
      location.hash=hash(Math.max(1,Math.min(count,to)),s.q);
    });
  });
  filter.hidden=false;
  filter.addEventListener('input',function(){location.replace(hash(1,filter.value));});
  window.addEventListener('hashchange',render);
  render();
  document.body.setAttribute('data-ready','1');
  if(window.performance&&performance.mark)performance.mark('index-ready');
})();
"""


def _length(seconds: float) -> str:
    """A total length for people: ``1,234.5 hours`` from an hour on, else :func:`clock`."""
    return f"{seconds / 3600:,.1f} hours" if seconds >= 3600 else clock(seconds)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def index_data(entries: list[IndexEntry], page_size: int = INDEX_PAGE_SIZE) -> dict:
    """The entries of ``index.html`` as its JSON block holds them: ``columns``
    (:data:`INDEX_COLUMNS`), one row per entry in the given order, ``page_size`` and
    ``totals`` (``videos``, ``duration_seconds``, ``summary_seconds``: exact sums)."""
    rows = []
    for e in entries:
        d, s = float(e.duration_seconds), float(e.summary_seconds)
        if not (math.isfinite(d) and math.isfinite(s)):
            raise ValueError(f"{e.title}: not a finite length ({d}, {s})")
        rows.append([e.title, e.href, e.thumbnail, d, s, e.shots_kept, e.shots_total, clock(d), clock(s)])
    return {
        "format": "acsumgan-index/1",
        "page_size": int(page_size),
        "totals": {
            "videos": len(rows),
            "duration_seconds": math.fsum(r[3] for r in rows),
            "summary_seconds": math.fsum(r[4] for r in rows),
        },
        "columns": list(INDEX_COLUMNS),
        "rows": rows,
    }


def _script_json(data: dict) -> str:
    """``data`` as JSON that may stand inside a ``<script>`` element: ``<``, ``>`` and
    ``&`` as ``\\u`` escapes (a title cannot end the element)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _index_card(e: IndexEntry) -> str:
    img = (
        f'<img src="{_e(e.thumbnail)}" alt="" decoding="async" loading="lazy">'
        if e.thumbnail
        else '<span class="noimg">no thumbnail</span>'
    )
    shots = (
        f'<span class="facts tnum">{e.shots_kept} of {e.shots_total} shots kept</span>'
        if e.shots_kept is not None and e.shots_total is not None
        else ""
    )
    return (
        f'<li><a class="video" href="{_e(e.href)}">{img}<span class="meta"><strong>{_e(e.title)}</strong>'
        f'<span class="facts tnum">video {_e(clock(e.duration_seconds))} · summary '
        f"{_e(clock(e.summary_seconds))}</span>{shots}</span></a></li>"
    )


def _pager(where: str, pages: int) -> str:
    """Page buttons (first, previous, the page number, next, last); hidden until the script runs."""

    def button(go: str, label: str, text: str, disabled: bool = False) -> str:
        off = " disabled" if disabled else ""
        return f'<button type="button" data-go="{go}" aria-label="{label} page"{off}>{text}</button>'

    return (
        f'<nav class="pager {where}" id="pager-{where}" aria-label="Pages of videos ({where})" hidden>'
        f"{button('first', 'First', '« First', True)}{button('prev', 'Previous', '‹ Prev', True)}"
        f'<span class="status tnum" aria-live="polite">Page 1 of {pages:,}</span>'
        f"{button('next', 'Next', 'Next ›', pages <= 1)}{button('last', 'Last', 'Last »', pages <= 1)}</nav>"
    )


def index_html(entries: list[IndexEntry], title: str = "Video summaries", page_size: int = INDEX_PAGE_SIZE) -> str:
    """The text of ``index.html``: one card per video, linking its summary page, a page of
    ``page_size`` cards at a time. Every entry is in a JSON block (``id="index-data"``,
    :func:`index_data`); the first page is also plain HTML, so the page works without
    JavaScript; with it, page buttons and a filter by name (the hash keeps both)."""
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, not {page_size}")
    data = index_data(entries, page_size)
    totals = data["totals"]
    n = len(entries)
    pages = max(1, math.ceil(n / page_size))
    first = entries[:page_size]
    cards = "".join(_index_card(e) for e in first)
    shown = f"{_plural(n, 'video')}" + (f" · showing 1–{len(first):,}" if n > page_size else "")
    sub = (
        f"{_plural(n, 'video')} · {_e(_length(totals['duration_seconds']))} of video · "
        f"{_e(_length(totals['summary_seconds']))} of summaries"
    )
    more = (
        f'<noscript><p class="shown">The first {page_size:,} are shown; JavaScript pages through the others.</p>'
        "</noscript>"
        if n > page_size
        else ""
    )
    body = (
        f'<header><h1>{_e(title)}</h1><p class="sub tnum" id="totals">{sub}</p></header>\n'
        "<main>\n"
        '<div class="tools"><input type="search" id="filter" placeholder="Filter by name" '
        f'aria-label="Filter the videos by name" autocomplete="off" hidden>{_pager("top", pages)}</div>\n'
        f'<p class="shown tnum" id="shown">{shown}</p>{more}\n'
        '<p class="shown" id="none" hidden>No video matches the filter.</p>\n'
        f'<ol class="videos" id="videos">{cards}</ol>\n'
        f"{_pager('bottom', pages)}\n"
        "</main>\n"
        f'<script type="application/json" id="index-data">{_script_json(data)}</script>'
    )
    return _page(title, INDEX_CSS, body, INDEX_SCRIPT)


def write_index_page(
    path: str | os.PathLike, entries: list[IndexEntry], title: str = "Video summaries", page_size: int = INDEX_PAGE_SIZE
) -> Path:
    """Write ``index.html`` (atomically) and return its path."""
    return write_text(path, index_html(entries, title, page_size))
