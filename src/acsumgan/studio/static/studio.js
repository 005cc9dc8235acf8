/* acsumgan studio: the single page (library + editor) over the studio's HTTP API.
 *
 * Plain JavaScript, no framework, no build step; the Content-Security-Policy forbids inline
 * script and style, so this file is the whole program. Every name or text that comes from
 * the server is written with textContent (never parsed as HTML). Everything is same-origin: the
 * token cookie goes with every fetch, EventSource and video request.
 *
 * window.studio exposes the state for tests and the curious: previewLog (the source player's
 * currentTime samples during the last preview), keptRanges(), editor(), jobs, cropFrame().
 *
 * Reframing: with an aspect other than keep, a crop frame lies over the original player (an
 * absolutely positioned element scaled to the video's displayed box) and follows the current
 * shot's window at currentTime (requestAnimationFrame): the planned path (POST .../reframe),
 * or the person's fixed window of that kept shot (its "crop"). Dragging the frame (pointer
 * events) or moving it with the arrow keys sets that window, snapped to even pixels and
 * clamped inside the frame; "Follow the action again" removes it.
 */
(function () {
  'use strict';

  var TERMINAL = { done: 1, failed: 1, cancelled: 1 };
  var EXPORTS = [
    ['summary.mp4', 'summary.mp4'],
    ['segments.json', 'segments.json'],
    ['otio', 'OpenTimelineIO (.otio)'],
    ['edl', 'CMX 3600 EDL (.edl)'],
    ['fcpxml', 'Final Cut Pro 7 XML'],
    ['gif', 'animated preview (GIF)'],
    ['webp', 'animated preview (WebP)'],
    ['contact-sheet', 'contact sheet (JPEG)']
  ];

  function $(id) { return document.getElementById(id); }

  /* An element; text is always set as text. */
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  /* A short length for people: 0:08.0, 12:04.5, 1:02:03 (as the review page). */
  function clock(seconds) {
    seconds = Math.max(0, Number(seconds) || 0);
    if (seconds >= 3600) {
      var t = Math.round(seconds);
      return Math.floor(t / 3600) + ':' + pad(Math.floor(t % 3600 / 60)) + ':' + pad(t % 60);
    }
    var r = Math.round(seconds * 10) / 10;
    var m = Math.floor(r / 60 + 1e-9);
    var s = r - m * 60;
    return m + ':' + (s < 10 ? '0' : '') + s.toFixed(1);
  }
  function pad(n) { return (n < 10 ? '0' : '') + n; }

  function percentOf(done, total) {
    if (!total || total <= 0) return null;
    return Math.max(0, Math.min(100, Math.round(done / total * 100)));
  }

  /* ------------------------------------------------------------------ messages */

  function showMessage(text, kind, action) {
    var box = $('message');
    $('message-text').textContent = String(text);
    box.classList.toggle('info', kind === 'info');
    var btn = $('message-action');
    if (action) {
      btn.textContent = action.label;
      btn.onclick = function () { clearMessage(); action.run(); };
      btn.hidden = false;
    } else {
      btn.hidden = true;
      btn.onclick = null;
    }
    box.hidden = false;
  }

  function clearMessage() {
    $('message').hidden = true;
    $('message-text').textContent = '';
    $('message-action').hidden = true;
  }

  /* ------------------------------------------------------------------ HTTP */

  var busy = 0;
  function setBusy(d) {
    busy += d;
    document.body.setAttribute('data-busy', String(busy));
  }

  /* fetch + JSON; rejects with an Error whose message is the server's one line (err.status set). */
  function api(method, url, body) {
    var opts = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    setBusy(1);
    return fetch(url, opts).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) {
          var msg = data && data.error ? data.error : (res.status + ' ' + (res.statusText || 'error') + ': ' + url);
          var err = new Error(msg);
          err.status = res.status;
          err.data = data;
          throw err;
        }
        return data;
      });
    }).then(function (data) { setBusy(-1); return data; }, function (err) { setBusy(-1); throw err; });
  }

  function videoUrl(name, rest) { return '/api/videos/' + encodeURIComponent(name) + (rest || ''); }

  /* ------------------------------------------------------------------ jobs */

  var jobs = {};          // id -> JOB
  var latest = {};        // video name -> the newest JOB of that video

  function newer(a, b) {  // is job a newer than job b?
    if (!b) return true;
    if (a.id === b.id) return true;
    return String(a.created) >= String(b.created);
  }

  function rank(state) { return TERMINAL[state] ? 2 : (state === 'running' ? 1 : 0); }

  /* Note a job's state, from an event or an answer (which may cross each other: a job never
   * goes back, e.g. from cancelled to running, or from running to queued). */
  function noteJob(job) {
    if (!job || job.id === undefined || job.id === null) return;
    var prev = jobs[job.id];
    if (prev && rank(job.state) < rank(prev.state)) return;
    if (prev && TERMINAL[prev.state] && prev.state !== job.state) return;
    jobs[job.id] = job;
    if (newer(job, latest[job.video])) latest[job.video] = job;
    updateCardJob(job.video);
    if (editor && editor.name === job.video && job.kind === 'render') drawRenderJob();
    if (prev && !TERMINAL[prev.state] && TERMINAL[job.state]) jobFinished(job);
  }

  function jobFinished(job) {
    if (job.state === 'failed') {
      showMessage((job.video ? job.video + ': ' : '') + job.kind + ' failed: ' + (job.error || 'see the log'));
    }
    loadLibrary();
    if (editor && editor.name === job.video && job.kind === 'render' && job.state === 'done') {
      refreshRendered();
    }
  }

  function cancelJob(job) {
    return api('POST', '/api/jobs/' + encodeURIComponent(job.id) + '/cancel').then(function (d) {
      if (d && d.job) noteJob(d.job);
    }, function (err) { showMessage(err.message); });
  }

  /* A job's progress line: stage, a bar, percent, Cancel while it runs. */
  function fillJob(box, job) {
    var label = job.kind === 'render' ? 'Render' : 'Summarize';
    var running = !TERMINAL[job.state];
    var pc = percentOf(job.done, job.total);
    box.className = 'job ' + job.state;
    box.setAttribute('data-job', String(job.id));
    box.setAttribute('data-state', job.state);
    var text = box.querySelector('.job-text');
    var bar = box.querySelector('progress');
    var btn = box.querySelector('button');
    if (!text) {
      text = el('span', 'job-text');
      bar = el('progress');
      bar.max = 100;
      btn = el('button', 'cancel', 'Cancel');
      btn.type = 'button';
      box.appendChild(text);
      box.appendChild(bar);
      box.appendChild(btn);
    }
    btn.onclick = function () { cancelJob(job); };
    var words = label + ': ' + job.state;
    if (running && job.stage) words += ' · ' + job.stage + (pc === null ? '' : ' ' + pc + '%');
    if (running && job.note) words += ' · ' + job.note;
    if (job.state === 'failed' && job.error) words += ': ' + job.error;
    text.textContent = words;
    bar.hidden = !running;
    if (pc === null) bar.removeAttribute('value'); else bar.value = pc;
    bar.setAttribute('aria-label', label + ' progress');
    btn.hidden = !running;
    btn.setAttribute('aria-label', 'Cancel the ' + label.toLowerCase() + ' job of ' + job.video);
  }

  var events = null;
  function connectEvents() {
    if (events || typeof EventSource === 'undefined') return;
    events = new EventSource('/api/events');
    events.addEventListener('job', function (ev) {
      var job;
      try { job = JSON.parse(ev.data); } catch (e) { return; }
      noteJob(job);
    });
  }

  /* ------------------------------------------------------------------ library */

  /* One page of the library at a time (PAGE videos); the page and the filter live in the
   * hash (#/?page=3&q=news), so a reload and Back keep them. */
  var PAGE = 100;
  var lib = {
    videos: [], presets: [], maxUploadMb: null, loaded: false,
    total: 0, libraryTotal: 0, page: 1, pages: 1, q: ''
  };
  var libSeq = 0;

  function libraryQuery() {
    var m = /^#\/\?(.*)$/.exec(location.hash);
    var p = new URLSearchParams(m ? m[1] : '');
    var n = parseInt(p.get('page'), 10);
    return { page: n > 0 ? n : 1, q: p.get('q') || '' };
  }

  function libraryHash(page, q) {
    var p = new URLSearchParams();
    if (page > 1) p.set('page', String(page));
    if (q) p.set('q', q);
    var s = p.toString();
    return s ? '#/?' + s : '#/';
  }

  function loadLibrary() {
    var want = libraryQuery();
    var seq = ++libSeq;
    var url = '/api/library?offset=' + (want.page - 1) * PAGE + '&limit=' + PAGE +
      (want.q ? '&q=' + encodeURIComponent(want.q) : '');
    return api('GET', url).then(function (d) {
      if (seq !== libSeq) return d;  // a newer request answers for the page
      lib.videos = d.videos || [];
      lib.presets = d.presets || [];
      lib.maxUploadMb = d.max_upload_mb;
      lib.total = d.total || 0;
      lib.libraryTotal = d.library_total || 0;
      lib.pages = Math.max(1, Math.ceil(lib.total / PAGE));
      lib.page = want.page;
      lib.q = want.q;
      lib.loaded = true;
      lib.videos.forEach(function (v) { if (v.job) noteJob(v.job); });
      if (want.page > lib.pages && routeName() === null) {  // past the last page: the last one
        location.replace(libraryHash(lib.pages, want.q));
        return d;
      }
      drawLibrary();
      return d;
    }, function (err) { showMessage(err.message); });
  }

  function drawLibrary() {
    var list = $('videos');
    clear(list);
    lib.videos.forEach(function (v) { list.appendChild(card(v)); });
    $('library-empty').hidden = lib.libraryTotal > 0;
    $('library-none').hidden = !(lib.libraryTotal > 0 && lib.total === 0);
    $('library-tools').hidden = lib.libraryTotal === 0;
    var filter = $('library-filter');
    if (filter.value !== lib.q && document.activeElement !== filter) filter.value = lib.q;
    var from = lib.total ? (lib.page - 1) * PAGE + 1 : 0;
    var to = Math.min(lib.total, lib.page * PAGE);
    var count = function (n) { return n.toLocaleString('en-US'); };
    $('library-shown').textContent = (lib.q ? count(lib.total) + ' of ' + count(lib.libraryTotal) + ' videos match' :
      count(lib.libraryTotal) + ' video' + (lib.libraryTotal === 1 ? '' : 's')) +
      (lib.total > 0 ? ' \u00b7 showing ' + count(from) + '\u2013' + count(to) : '');
    ['pager-top', 'pager-bottom'].forEach(function (id) {
      var nav = $(id);
      nav.hidden = id === 'pager-bottom' ? lib.pages <= 1 : lib.libraryTotal <= PAGE;  // one page in all: no buttons
      nav.querySelector('.status').textContent = 'Page ' + count(lib.page) + ' of ' + count(lib.pages);
      Array.prototype.forEach.call(nav.querySelectorAll('button[data-go]'), function (b) {
        var go = b.getAttribute('data-go');
        b.disabled = (go === 'first' || go === 'prev') ? lib.page <= 1 : lib.page >= lib.pages;
      });
    });
    $('upload-limit').textContent = lib.maxUploadMb ? 'At most ' + lib.maxUploadMb + ' MB per file.' : '';
    document.body.setAttribute('data-library', String(lib.videos.length));
    document.body.setAttribute('data-library-total', String(lib.total));
    document.body.setAttribute('data-library-page', String(lib.page));
    document.body.setAttribute('data-library-pages', String(lib.pages));
  }

  function setupLibrary() {
    ['pager-top', 'pager-bottom'].forEach(function (id) {
      $(id).addEventListener('click', function (ev) {
        var b = ev.target.closest && ev.target.closest('button[data-go]');
        if (!b || b.disabled) return;
        var go = b.getAttribute('data-go');
        var to = go === 'first' ? 1 : go === 'last' ? lib.pages : go === 'prev' ? lib.page - 1 : lib.page + 1;
        location.hash = libraryHash(Math.max(1, Math.min(lib.pages, to)), lib.q);
        window.scrollTo(0, 0);
      });
    });
    var filter = $('library-filter');
    var timer = null;
    filter.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () { location.replace(libraryHash(1, filter.value)); }, 200);
    });
  }

  function summarized(v) { return v.state === 'summarized' || v.state === 'edited'; }

  function card(v) {
    var li = el('li', 'video');
    li.setAttribute('data-name', v.name);
    li.setAttribute('data-state', v.state);
    if (v.thumb) {
      var img = el('img', 'thumb');
      img.alt = '';
      img.decoding = 'async';
      img.loading = 'lazy';
      img.src = v.thumb;
      li.appendChild(img);
    } else {
      li.appendChild(el('span', 'nothumb', 'no thumbnail yet'));
    }
    var meta = el('div', 'video-meta');
    var title = el('p', 'video-name');
    title.appendChild(el('span', 'name', v.name));
    title.appendChild(document.createTextNode(' '));
    var badge = el('span', 'badge state-' + v.state, v.state);
    badge.setAttribute('title', 'state: ' + v.state);
    title.appendChild(badge);
    meta.appendChild(title);
    var facts = [];
    if (v.file && v.file !== v.name) facts.push(v.file);
    if (typeof v.duration === 'number') facts.push('video ' + clock(v.duration));
    if (typeof v.summary_seconds === 'number') facts.push('summary ' + clock(v.summary_seconds));
    if (typeof v.size === 'number') facts.push(v.size < 1048576 ? Math.max(1, Math.round(v.size / 1024)) + ' kB' : (v.size / 1048576).toFixed(1) + ' MB');
    meta.appendChild(el('span', 'facts tnum', facts.join(' · ')));
    var job = el('div', 'job');
    job.hidden = true;
    meta.appendChild(job);
    var buttons = el('div', 'card-buttons');
    var sum = el('button', 'summarize', summarized(v) ? 'Summarize again' : 'Summarize');
    sum.type = 'button';
    sum.setAttribute('aria-label', 'Summarize ' + v.name);
    sum.hidden = summarized(v);
    sum.onclick = function () { summarize(v.name); };
    var open = el('button', 'open primary', 'Open');
    open.type = 'button';
    open.setAttribute('aria-label', 'Open the editor of ' + v.name);
    open.disabled = !summarized(v);
    open.onclick = function () { location.hash = '#/video/' + encodeURIComponent(v.name); };
    buttons.appendChild(sum);
    buttons.appendChild(open);
    meta.appendChild(buttons);
    li.appendChild(meta);
    fillCardJob(li, v.name);
    return li;
  }

  function cardOf(name) {
    var cards = $('videos').children;
    for (var i = 0; i < cards.length; i++) if (cards[i].getAttribute('data-name') === name) return cards[i];
    return null;
  }

  function fillCardJob(li, name) {
    var job = latest[name];
    var box = li.querySelector('.job');
    var sum = li.querySelector('button.summarize');
    if (!job) { box.hidden = true; return; }
    box.hidden = false;
    fillJob(box, job);
    li.setAttribute('data-job-state', job.state);
    li.setAttribute('data-job-kind', job.kind);
    if (sum) sum.disabled = !TERMINAL[job.state];
  }

  function updateCardJob(name) {
    var li = cardOf(name);
    if (li) fillCardJob(li, name);
  }

  function summarize(name) {
    clearMessage();
    return api('POST', videoUrl(name, '/summarize')).then(function (d) {
      if (d && d.job) noteJob(d.job);
    }, function (err) { showMessage(err.message); });
  }

  /* ------------------------------------------------------------------ uploads */

  function upload(file) {
    if (lib.maxUploadMb && file.size > lib.maxUploadMb * 1048576) {
      showMessage(file.name + ': ' + (file.size / 1048576).toFixed(1) + ' MB is over the limit of ' +
        lib.maxUploadMb + ' MB (acsumgan serve --max-upload-mb)');
      return Promise.resolve(null);
    }
    var row = el('li');
    var label = el('span', 'upload-name', file.name);
    var bar = el('progress');
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute('aria-label', 'Upload progress of ' + file.name);
    var pc = el('span', 'tnum', '0%');
    row.appendChild(label);
    row.appendChild(bar);
    row.appendChild(pc);
    $('uploads').appendChild(row);
    setBusy(1);
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/upload?name=' + encodeURIComponent(file.name));
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) {
          var p = percentOf(ev.loaded, ev.total);
          bar.value = p;
          pc.textContent = p + '%';
        }
      };
      function finish(errorText) {
        setBusy(-1);
        row.parentNode && row.parentNode.removeChild(row);
        if (errorText) showMessage(errorText);
        resolve(null);
      }
      xhr.onload = function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (xhr.status >= 200 && xhr.status < 300) {
          setBusy(-1);
          row.parentNode && row.parentNode.removeChild(row);
          // the page that shows the new video (uploads come after the folders' videos)
          var at = libraryQuery();
          if (data && typeof data.position === 'number' && !at.q && routeName() === null) {
            var page = Math.floor(data.position / PAGE) + 1;
            if (page !== at.page) location.replace(libraryHash(page, ''));
          }
          loadLibrary().then(function () { resolve(data); });
        } else {
          finish(data && data.error ? data.error : file.name + ': upload refused (' + xhr.status + ')');
        }
      };
      xhr.onerror = function () { finish(file.name + ': the upload was cut off (too large, or the server stopped)'); };
      xhr.send(file);
    });
  }

  function uploadAll(files) {
    clearMessage();
    var chain = Promise.resolve();
    Array.prototype.forEach.call(files, function (f) { chain = chain.then(function () { return upload(f); }); });
    return chain;
  }

  function setupUploads() {
    var input = $('upload-input');
    input.addEventListener('change', function () {
      var files = Array.prototype.slice.call(input.files || []);
      uploadAll(files).then(function () { input.value = ''; });
    });
    var zone = $('dropzone');
    ['dragenter', 'dragover'].forEach(function (t) {
      document.addEventListener(t, function (ev) {
        if (!ev.dataTransfer || Array.prototype.indexOf.call(ev.dataTransfer.types || [], 'Files') < 0) return;
        ev.preventDefault();
        ev.dataTransfer.dropEffect = 'copy';
        zone.classList.add('over');
      });
    });
    document.addEventListener('dragleave', function (ev) {
      if (!ev.relatedTarget) zone.classList.remove('over');
    });
    document.addEventListener('drop', function (ev) {
      if (!ev.dataTransfer || !ev.dataTransfer.files || !ev.dataTransfer.files.length) return;
      ev.preventDefault();
      zone.classList.remove('over');
      if (routeName() !== null) location.hash = '#/';
      uploadAll(ev.dataTransfer.files);
    });
  }

  /* ------------------------------------------------------------------ the editor's state */

  /* editor = {name, info, shots (by index), order (shot indices ascending), work: {length,
   * model_selected, kept}, base (the saved EDITS it was made on), undo: [], redo: [], dirty} */
  var editor = null;

  function copyKept(k) {
    var c = { shot: k.shot, start_frame: k.start_frame, end_frame: k.end_frame };
    if (k.crop) c.crop = { x: k.crop.x, y: k.crop.y, w: k.crop.w, h: k.crop.h };
    return c;
  }

  function copyWork(w) {
    return {
      length: { mode: w.length.mode, value: w.length.value, preset: w.length.preset === undefined ? null : w.length.preset },
      model_selected: w.model_selected.slice(),
      kept: w.kept.map(copyKept),
      aspect: w.aspect || 'keep',
      reframe: w.reframe || 'follow'
    };
  }

  function sameWork(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  function fps() { return editor.info.fps || 25; }

  /* The time a frame starts, within its shot (exact at a constant rate; a variable rate is
   * spread evenly inside each shot). */
  function frameStart(s, f) {
    var n = s.end_frame - s.start_frame + 1;
    return s.start_seconds + (f - s.start_frame) * (s.end_seconds - s.start_seconds) / n;
  }
  function frameSeconds(s) { return (s.end_seconds - s.start_seconds) / (s.end_frame - s.start_frame + 1); }
  function timeToFrame(s, t) { return s.start_frame + Math.round((t - s.start_seconds) / frameSeconds(s)); }

  function clampInt(x, lo, hi) { return Math.max(lo, Math.min(hi, Math.round(x))); }

  /* [[start, end), ...] in seconds of the kept (trimmed) ranges, in order; touching ranges merged. */
  function keptRanges() {
    if (!editor) return [];
    var out = [];
    editor.work.kept.forEach(function (k) {
      var s = editor.shots[k.shot];
      if (!s) return;
      var a = frameStart(s, k.start_frame), b = frameStart(s, k.end_frame + 1);
      var last = out[out.length - 1];
      if (last && Math.abs(last[1] - a) < 1e-6) last[1] = b; else out.push([a, b]);
    });
    return out;
  }

  function keptSeconds() {
    return keptRanges().reduce(function (t, r) { return t + (r[1] - r[0]); }, 0);
  }

  function targetSeconds(length) {
    var d = editor.info.duration;
    if (length.mode === 'percent') return d * length.value / 100;
    return Math.min(length.value, d);
  }

  function isModelChoice(k) {
    var s = editor.shots[k.shot];
    return editor.work.model_selected.indexOf(k.shot) >= 0 && s &&
      k.start_frame === s.start_frame && k.end_frame === s.end_frame;
  }

  function keptEntry(shot) {
    var kept = editor.work.kept;
    for (var i = 0; i < kept.length; i++) if (kept[i].shot === shot) return kept[i];
    return null;
  }

  /* Apply a change to the working edits: record the old state for undo, then redraw. */
  function change(mutate) {
    var before = copyWork(editor.work);
    mutate(editor.work);
    editor.work.kept.sort(function (a, b) { return a.shot - b.shot; });
    if (sameWork(before, editor.work)) { drawEditor(); return; }
    editor.undo.push(before);
    editor.redo = [];
    editor.dirty = true;
    drawEditor();
  }

  function undo() {
    if (!editor || !editor.undo.length) return;
    editor.redo.push(copyWork(editor.work));
    editor.work = editor.undo.pop();
    editor.dirty = true;
    drawEditor();
  }

  function redo() {
    if (!editor || !editor.redo.length) return;
    editor.undo.push(copyWork(editor.work));
    editor.work = editor.redo.pop();
    editor.dirty = true;
    drawEditor();
  }

  function toggleShot(index) {
    stopPreview();
    change(function (w) {
      var k = keptEntry(index);
      if (k) {
        w.kept.splice(w.kept.indexOf(k), 1);
      } else {
        var s = editor.shots[index];
        w.kept.push({ shot: index, start_frame: s.start_frame, end_frame: s.end_frame });
      }
    });
  }

  function backToModel() {
    stopPreview();
    change(function (w) {
      w.kept = w.model_selected.map(function (i) {
        var s = editor.shots[i];
        return { shot: i, start_frame: s.start_frame, end_frame: s.end_frame };
      });
    });
  }

  /* A new length: the server re-selects on the cached scores; the model's choice replaces the kept shots. */
  function setLength(length, aspect) {
    stopPreview();
    var name = editor.name;
    return api('POST', videoUrl(name, '/select'), { length: length }).then(function (d) {
      if (!editor || editor.name !== name) return;
      clearMessage();
      change(function (w) {
        var crops = {};
        var was = w.length;
        w.kept.forEach(function (k) { if (k.crop) crops[k.shot] = k.crop; });
        w.length = length;
        w.model_selected = d.model_selected.slice();
        w.kept = d.kept.map(function (k) { return { shot: k.shot, start_frame: k.start_frame, end_frame: k.end_frame }; });
        var shape = aspect || w.aspect;
        if (!aspect && w.length.mode !== 'preset' && was.mode === 'preset' && presetAspect(was.preset) === w.aspect) {
          shape = 'keep';  // the preset's shape goes with it (as summarize --seconds: the source's shape)
        }
        if (shape !== w.aspect) {
          w.aspect = shape;  // a platform's preset names its aspect: other windows, so no person's crop
        } else {
          w.kept.forEach(function (k) { if (crops[k.shot]) k.crop = crops[k.shot]; });
        }
      });
    }, function (err) {
      showMessage(err.message);
      if (editor && editor.name === name) drawLength();
    });
  }

  function trim(index, which, raw) {
    var k = keptEntry(index);
    var s = editor.shots[index];
    if (!k || !s) return;
    var x = parseFloat(raw);
    if (!isFinite(x)) { drawKept(); return; }
    var frames = $('trim-unit').value === 'frames';
    var f;
    if (which === 'start') {
      f = frames ? x : timeToFrame(s, x);
      f = clampInt(f, s.start_frame, k.end_frame);
    } else {
      f = frames ? x : timeToFrame(s, x) - 1;  // the end in seconds is where the last frame ends
      f = clampInt(f, k.start_frame, s.end_frame);
    }
    stopPreview();
    change(function () {
      var e = keptEntry(index);
      if (which === 'start') e.start_frame = f; else e.end_frame = f;
    });
  }

  function wholeShot(index) {
    var s = editor.shots[index];
    change(function () {
      var e = keptEntry(index);
      if (e) { e.start_frame = s.start_frame; e.end_frame = s.end_frame; }
    });
  }

  /* ------------------------------------------------------------------ drawing the editor */

  function drawEditor() {
    if (!editor) return;
    drawTimeline();
    drawLength();
    drawAspect();
    drawTotals();
    drawKept();
    drawEditState();
  }

  function shotLabel(s, k) {
    var words = 'Shot ' + (s.shot + 1) + ', ' + clock(s.start_seconds) + ' to ' + clock(s.end_seconds) +
      ', score ' + Number(s.score).toFixed(2);
    if (!k) return words + ', removed';
    return words + ', kept' + (isModelChoice(k) ? '' : ' (your change)') +
      (k.start_frame !== s.start_frame || k.end_frame !== s.end_frame ? ', trimmed' : '');
  }

  function drawTimeline() {
    var tl = $('timeline');
    var shots = editor.info.shots;
    var focusedShot = document.activeElement && document.activeElement.parentNode === tl ?
      document.activeElement.getAttribute('data-shot') : null;
    if (tl.children.length !== shots.length) {
      clear(tl);
      shots.forEach(function (s) {
        var b = el('button', 'shot');
        b.type = 'button';
        b.setAttribute('data-shot', String(s.shot));
        b.style.flexGrow = String(Math.max(s.end_seconds - s.start_seconds, 1e-6));
        var bar = el('span', 'bar');
        var span = editor.maxScore - editor.minScore;
        bar.style.height = Math.round(10 + 60 * (span > 0 ? (s.score - editor.minScore) / span : 1)) + '%';
        b.appendChild(bar);
        b.appendChild(el('span', 'trim'));
        b.appendChild(el('span', 'score tnum', Number(s.score).toFixed(2)));
        b.onclick = function () { toggleShot(s.shot); };
        tl.appendChild(b);
      });
      drawAxis();
    }
    for (var i = 0; i < tl.children.length; i++) {
      var b = tl.children[i];
      var s = shots[i];
      var k = keptEntry(s.shot);
      b.classList.toggle('kept', !!k);
      b.classList.toggle('person', !!k && !isModelChoice(k));
      b.classList.toggle('trimmed', !!k && (k.start_frame !== s.start_frame || k.end_frame !== s.end_frame));
      b.setAttribute('data-kept', k ? '1' : '0');
      b.setAttribute('aria-pressed', k ? 'true' : 'false');
      b.setAttribute('aria-label', shotLabel(s, k));
      b.title = shotLabel(s, k);
      var t = b.querySelector('.trim');
      if (k) {
        var n = s.end_frame - s.start_frame + 1;
        t.style.left = ((k.start_frame - s.start_frame) / n * 100) + '%';
        t.style.width = ((k.end_frame - k.start_frame + 1) / n * 100) + '%';
        t.hidden = false;
      } else {
        t.hidden = true;
      }
    }
    if (focusedShot !== null) {
      var again = tl.querySelector('[data-shot="' + focusedShot + '"]');
      if (again && document.activeElement !== again) again.focus();
    }
  }

  function drawAxis() {
    var axis = $('axis');
    clear(axis);
    for (var q = 0; q <= 4; q++) axis.appendChild(el('span', null, clock(editor.info.duration * q / 4)));
  }

  function drawLength() {
    var w = editor.work;
    var sel = $('length-preset');
    while (sel.options.length > 1) sel.remove(1);
    lib.presets.forEach(function (p) {
      var o = el('option', null, p.name + ' (' + p.seconds + ' s' + (p.aspect ? ', ' + p.aspect : '') + ')');
      o.value = p.name;
      sel.appendChild(o);
    });
    sel.value = w.length.mode === 'preset' && w.length.preset ? w.length.preset : '';
    var target = targetSeconds(w.length);
    var d = editor.info.duration;
    var secs = $('length-seconds'), pc = $('length-percent');
    secs.max = String(Math.ceil(d * 10) / 10);
    setField(secs, w.length.mode === 'percent' ? round(target, 2) : round(w.length.value, 3));
    setField(pc, w.length.mode === 'percent' ? round(w.length.value, 3) : round(d > 0 ? target / d * 100 : 0, 2));
  }

  /* Show a value in an input, unless the person is typing another one into it. */
  function setField(input, value) {
    if (document.activeElement === input && input.value !== input.getAttribute('data-drawn')) return;
    input.value = value;
    input.setAttribute('data-drawn', value);
  }

  function round(x, digits) { var m = Math.pow(10, digits); return String(Math.round(x * m) / m); }

  function drawTotals() {
    var dl = $('totals');
    clear(dl);
    var kept = keptSeconds();
    var target = targetSeconds(editor.work.length);
    var tol = Math.max(1 / fps(), 0.1 * target);
    var status = kept > target + 0.5 / fps() ? 'over' : (kept < target - tol ? 'under' : 'within');
    var diff = Math.abs(kept - target);
    var nShots = editor.info.shots.length;
    var rows = [
      ['Video', clock(editor.info.duration)],
      ['Target', clock(target) + (editor.work.length.mode === 'percent' ? ' (' + round(editor.work.length.value, 2) + '%)' : '')],
      ['Kept', clock(kept) + (status === 'within' ? ' (within the target)' : ' (' + status + ' by ' + clock(diff) + ')')],
      ['Shots kept', editor.work.kept.length + ' of ' + nShots]
    ];
    rows.forEach(function (r) {
      var dt = el('dt', null, r[0]);
      var dd = el('dd', null, r[1]);
      if (r[0] === 'Kept') { dd.id = 'kept-total'; dd.className = status; dd.setAttribute('data-status', status); }
      if (r[0] === 'Target') dd.id = 'target-total';
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    dl.setAttribute('data-kept-seconds', String(kept));
    dl.setAttribute('data-target-seconds', String(target));
  }

  function drawKept() {
    var ol = $('kept');
    var focusId = document.activeElement && ol.contains(document.activeElement) ? document.activeElement.id : null;
    clear(ol);
    var frames = $('trim-unit').value === 'frames';
    if (!editor.work.kept.length) {
      ol.appendChild(el('li', 'empty', 'No shot kept: press shots on the timeline to keep them.'));
    }
    editor.work.kept.forEach(function (k) {
      var s = editor.shots[k.shot];
      var model = isModelChoice(k);
      var li = el('li', model ? 'model' : 'person');
      li.setAttribute('data-shot', String(k.shot));
      if (s.thumb) {
        var img = el('img');
        img.alt = '';
        img.src = s.thumb;
        li.appendChild(img);
      } else {
        li.appendChild(el('span'));
      }
      var head = el('div', 'kept-title');
      head.appendChild(el('strong', null, 'Shot ' + (s.shot + 1)));
      head.appendChild(el('span', 'badge ' + (model ? 'model' : 'person'), model ? 'model' : 'your change'));
      var len = frameStart(s, k.end_frame + 1) - frameStart(s, k.start_frame);
      head.appendChild(el('span', 'facts tnum', clock(len) + ' · ' + (k.end_frame - k.start_frame + 1) + ' frames · score ' +
        Number(s.score).toFixed(2)));
      li.appendChild(head);
      var trims = el('div', 'trims');
      [['start', 'Start'], ['end', 'End']].forEach(function (p) {
        var lab = el('label');
        var input = el('input');
        input.type = 'number';
        input.id = 'trim-' + p[0] + '-' + k.shot;
        input.className = 'trim-' + p[0];
        input.setAttribute('data-shot', String(k.shot));
        if (frames) {
          input.step = '1';
          input.min = String(s.start_frame);
          input.max = String(s.end_frame);
          input.value = String(p[0] === 'start' ? k.start_frame : k.end_frame);
        } else {
          input.step = String(round(frameSeconds(s), 6));
          input.min = round(s.start_seconds, 3);
          input.max = round(s.end_seconds, 3);
          input.value = (p[0] === 'start' ? frameStart(s, k.start_frame) : frameStart(s, k.end_frame + 1)).toFixed(3);
        }
        input.addEventListener('change', function () { trim(k.shot, p[0], input.value); });
        lab.appendChild(document.createTextNode(p[1] + (frames ? ' (frame)' : ' (s)')));
        lab.appendChild(input);
        trims.appendChild(lab);
      });
      if (k.start_frame !== s.start_frame || k.end_frame !== s.end_frame) {
        var whole = el('button', 'whole', 'Whole shot');
        whole.type = 'button';
        whole.setAttribute('aria-label', 'Keep shot ' + (s.shot + 1) + ' whole');
        whole.onclick = function () { wholeShot(k.shot); };
        trims.appendChild(whole);
      }
      if (editor.work.aspect !== 'keep') {
        var which = k.crop ? 'yours' : editor.work.reframe;
        var win = el('span', 'window ' + which, 'window: ' + which);
        win.setAttribute('data-window', which);
        trims.appendChild(win);
        if (k.crop) {
          var again = el('button', 'follow-again', editor.work.reframe === 'center' ? 'Center again' : 'Follow the action again');
          again.type = 'button';
          again.setAttribute('data-shot', String(k.shot));
          again.setAttribute('aria-label', 'Shot ' + (s.shot + 1) + ': drop your window, ' +
            (editor.work.reframe === 'center' ? 'center it again' : 'follow the action again'));
          again.onclick = function () { clearCrop(k.shot); };
          trims.appendChild(again);
        }
      }
      var rm = el('button', 'remove', 'Remove');
      rm.type = 'button';
      rm.setAttribute('aria-label', 'Remove shot ' + (s.shot + 1));
      rm.onclick = function () { toggleShot(k.shot); };
      trims.appendChild(rm);
      li.appendChild(trims);
      ol.appendChild(li);
    });
    if (focusId && $(focusId)) $(focusId).focus();
  }

  function drawEditState() {
    $('undo').disabled = !editor.undo.length;
    $('redo').disabled = !editor.redo.length;
    var words = editor.dirty ? 'Unsaved changes (based on version ' + editor.base.version + ').' :
      (editor.base.version > 0 ? 'Saved: version ' + editor.base.version + (editor.base.saved_at ? ', ' + editor.base.saved_at : '') + '.' :
        'The model\'s choice (nothing saved yet).');
    $('save-state').textContent = words;
    document.body.setAttribute('data-dirty', editor.dirty ? '1' : '0');
    document.body.setAttribute('data-version', String(editor.base.version));
  }

  function drawRenderJob() {
    var box = $('render-job');
    var job = latest[editor.name];
    if (!job || job.kind !== 'render') { box.hidden = true; $('render').disabled = false; return; }
    box.hidden = false;
    fillJob(box, job);
    $('render').disabled = !TERMINAL[job.state];
  }

  function drawSummary() {
    var info = editor.info;
    var player = $('summary');
    if (info.summary_url) {
      var bust = 'v=' + encodeURIComponent(String(info.rendered_version === null || info.rendered_version === undefined ? 'model' : info.rendered_version)) +
        '-' + editor.renders;
      var url = info.summary_url + (info.summary_url.indexOf('?') >= 0 ? '&' : '?') + bust;
      if (player.getAttribute('src') !== url) player.src = url;
      player.hidden = false;
      $('summary-none').hidden = true;
      $('summary-facts').textContent = info.rendered_version ?
        'Rendered from your edits, version ' + info.rendered_version + '.' : 'The model\'s summary.';
      drawSummarySize();
    } else {
      player.removeAttribute('src');
      player.hidden = true;
      $('summary-none').hidden = false;
      $('summary-facts').textContent = '';
      $('summary-size').textContent = '';
    }
    document.body.setAttribute('data-rendered', String(info.rendered_version === null ? 'model' : info.rendered_version));
    var ul = $('exports');
    clear(ul);
    EXPORTS.forEach(function (e) {
      var li = el('li');
      var a = el('a', null, e[1]);
      a.href = videoUrl(editor.name, '/export/' + e[0]);
      a.setAttribute('download', '');
      a.setAttribute('data-format', e[0]);
      li.appendChild(a);
      ul.appendChild(li);
    });
    ul.hidden = !info.summary_url;
  }

  /* ------------------------------------------------------------------ opening, saving, rendering */

  function openEditor(name) {
    stopPreview();
    clearMessage();
    showView('editor');
    if (editor && editor.name === name) return Promise.resolve();
    editor = null;
    $('editor-title').textContent = name;
    $('editor-facts').textContent = 'loading...';
    clear($('timeline'));
    clear($('kept'));
    var src = $('source');
    src.removeAttribute('src');
    var need = lib.loaded ? Promise.resolve() : loadLibrary();
    return need.then(function () { return api('GET', videoUrl(name)); }).then(function (info) {
      if (routeName() !== name) return;
      setupEditor(info);
    }, function (err) {
      showMessage(err.message);
      $('editor-facts').textContent = '';
    });
  }

  function setupEditor(info) {
    var shots = {};
    var maxScore = -Infinity, minScore = Infinity;
    info.shots.forEach(function (s) {
      shots[s.shot] = s;
      maxScore = Math.max(maxScore, Number(s.score) || 0);
      minScore = Math.min(minScore, Number(s.score) || 0);
    });
    var e = info.edits;
    editor = {
      name: info.name,
      info: info,
      shots: shots,
      maxScore: maxScore,
      minScore: minScore,
      base: e,
      work: copyWork({ length: e.length, model_selected: e.model_selected, kept: e.kept,
        aspect: e.aspect || 'keep', reframe: e.reframe || 'follow' }),
      paths: {},
      undo: [],
      redo: [],
      dirty: false,
      renders: 0
    };
    $('editor-title').textContent = info.file || info.name;
    $('editor-facts').textContent = clock(info.duration) + ' · ' + info.n_frames + ' frames at ' +
      round(info.fps, 3) + ' fps · ' + info.width + 'x' + info.height + ' · ' + info.shots.length + ' shots' +
      (info.constant_rate === false ? ' · variable frame rate' : '');
    var src = $('source');
    src.src = info.source_url;
    clear($('timeline'));
    drawEditor();
    drawSummary();
    drawRenderJob();
    document.body.setAttribute('data-editor', info.name);
  }

  /* Reload the video's data (after a 409: the other tab's version becomes this one's). */
  function reloadEditor() {
    if (!editor) return Promise.resolve();
    var name = editor.name;
    editor = null;
    return openEditor(name);
  }

  function editsBody() {
    var b = {};
    Object.keys(editor.base).forEach(function (key) { b[key] = editor.base[key]; });
    var w = copyWork(editor.work);
    b.length = w.length;
    b.model_selected = w.model_selected;
    b.kept = w.kept;
    if (w.aspect === 'keep') {  // absent: keep (the edits of a summary that is not reframed, as before)
      delete b.aspect;
      delete b.reframe;
      b.kept.forEach(function (k) { delete k.crop; });
    } else {
      b.aspect = w.aspect;
      b.reframe = w.reframe;
    }
    b.version = editor.base.version;
    return b;
  }

  function save() {
    if (!editor) return Promise.resolve(false);
    var name = editor.name;
    var body = editsBody();
    var sent = copyWork(editor.work);
    $('save').disabled = true;
    return api('PUT', videoUrl(name, '/edits'), body).then(function (saved) {
      $('save').disabled = false;
      if (!editor || editor.name !== name) return false;
      editor.base = saved;
      editor.dirty = !sameWork(sent, editor.work);
      clearMessage();
      drawEditState();
      loadLibrary();
      return true;
    }, function (err) {
      $('save').disabled = false;
      if (err.status === 409) {
        showMessage(err.message, 'error', { label: 'Reload', run: reloadEditor });
        document.body.setAttribute('data-conflict', '1');
      } else {
        showMessage(err.message);
      }
      return false;
    });
  }

  /* Render the saved edits (saving first what is not saved). */
  function render() {
    if (!editor) return Promise.resolve();
    var name = editor.name;
    var first = editor.dirty || editor.base.version === 0 ? save() : Promise.resolve(true);
    return first.then(function (ok) {
      if (!ok || !editor || editor.name !== name) return;
      $('render').disabled = true;
      return api('POST', videoUrl(name, '/render')).then(function (d) {
        if (d && d.job) noteJob(d.job);
        if (editor && editor.name === name) drawRenderJob();
      }, function (err) {
        $('render').disabled = false;
        showMessage(err.message);
      });
    });
  }

  /* A render finished: the new summary.mp4 (cache-busted) and what it was rendered from. */
  function refreshRendered() {
    var name = editor.name;
    return api('GET', videoUrl(name)).then(function (info) {
      if (!editor || editor.name !== name) return;
      editor.info.summary_url = info.summary_url;
      editor.info.rendered_version = info.rendered_version;
      editor.info.state = info.state;
      editor.renders += 1;
      drawSummary();
    }, function (err) { showMessage(err.message); });
  }

  /* ------------------------------------------------------------------ preview */

  var preview = { on: false, ranges: [], i: 0, seeking: false };
  var studio = window.studio = {
    previewLog: [],
    previewRanges: [],
    previewDone: false,
    keptRanges: keptRanges,
    keptSeconds: function () { return editor ? keptSeconds() : 0; },
    editor: function () { return editor; },
    jobs: jobs,
    library: lib
  };

  function startPreview() {
    var v = $('source');
    var ranges = keptRanges();
    if (!ranges.length) { showMessage('Nothing to preview: no shot is kept.', 'info'); return; }
    // stop a frame early rather than show one frame that is not kept
    var early = Math.min(0.015, 0.25 / fps());
    preview = { on: true, ranges: ranges, i: 0, early: early };
    studio.previewLog = [];
    studio.previewRanges = ranges.map(function (r) { return r.slice(); });
    studio.previewDone = false;
    $('preview').setAttribute('aria-pressed', 'true');
    $('preview').textContent = 'Stop the preview';
    $('preview-state').textContent = 'Playing the kept ranges: 1 of ' + ranges.length;
    v.currentTime = ranges[0][0];
    var p = v.play();
    if (p && p.catch) p.catch(function () {});
    requestAnimationFrame(tick);
  }

  function stopPreview(finished) {
    if (!preview.on) return;
    preview.on = false;
    studio.previewDone = !!finished;
    var v = $('source');
    v.pause();
    $('preview').setAttribute('aria-pressed', 'false');
    $('preview').textContent = 'Preview the cut';
    $('preview-state').textContent = finished ? 'Preview done.' : '';
  }

  function tick() {
    if (!preview.on) return;
    var v = $('source');
    var t = v.currentTime;
    studio.previewLog.push(t);
    var r = preview.ranges[preview.i];
    if (t >= r[1] - preview.early || v.ended) {
      preview.i += 1;
      if (preview.i >= preview.ranges.length) { stopPreview(true); return; }
      v.currentTime = preview.ranges[preview.i][0];
      $('preview-state').textContent = 'Playing the kept ranges: ' + (preview.i + 1) + ' of ' + preview.ranges.length;
      if (v.paused) { var p = v.play(); if (p && p.catch) p.catch(function () {}); }
    }
    requestAnimationFrame(tick);
  }

  function setupPlayer() {
    var v = $('source');
    v.addEventListener('timeupdate', movePlayhead);
    v.addEventListener('seeked', movePlayhead);
    v.addEventListener('pause', function () { if (preview.on && !v.ended) stopPreview(false); });
    $('preview').addEventListener('click', function () { if (preview.on) stopPreview(false); else startPreview(); });
  }

  function movePlayhead() {
    if (!editor) return;
    var d = editor.info.duration || 1;
    var x = Math.max(0, Math.min(1, $('source').currentTime / d));
    $('playhead').style.left = (x * 100) + '%';
  }

  /* ------------------------------------------------------------------ reframing: the crop frame */

  var ASPECT_RE = /^(keep|[1-9][0-9]{0,2}:[1-9][0-9]{0,2})$/;

  /* A preset's aspect when it names one ("9:16"), else null. */
  function aspectOf(text) {
    var a = String(text || '').trim().toLowerCase();
    return ASPECT_RE.test(a) ? a : null;
  }

  /* The aspect preset ``name`` names (null: none, or not one the page knows). */
  function presetAspect(name) {
    var p = lib.presets.filter(function (x) { return x.name === name; })[0];
    return p ? aspectOf(p.aspect) : null;
  }

  function pathsKey() { return editor.work.aspect + '|' + editor.work.reframe; }

  /* The planned paths of the current aspect and mode (null until they came). */
  function currentPaths() {
    var p = editor && editor.paths[pathsKey()];
    return p && p !== 'pending' ? p : null;
  }

  function drawAspect() {
    var w = editor.work;
    var sel = $('aspect');
    if (!Array.prototype.some.call(sel.options, function (o) { return o.value === w.aspect; })) {
      var o = el('option', null, w.aspect);  // an aspect of a preset or an edits file (W:H)
      o.value = w.aspect;
      sel.appendChild(o);
    }
    sel.value = w.aspect;
    $('reframe').value = w.reframe;
    $('reframe').disabled = w.aspect === 'keep';
    document.body.setAttribute('data-aspect', w.aspect);
    ensurePaths();
  }

  /* Fetch the planned paths of the current aspect and mode once (the server caches them too). */
  function ensurePaths() {
    if (!editor || editor.work.aspect === 'keep') return;
    var key = pathsKey(), name = editor.name, paths = editor.paths;
    if (paths[key]) return;
    paths[key] = 'pending';
    var parts = key.split('|');
    document.body.setAttribute('data-paths', 'pending');
    api('POST', videoUrl(name, '/reframe'), { aspect: parts[0], reframe: parts[1] }).then(function (d) {
      paths[key] = d;
      if (editor && editor.paths === paths && pathsKey() === key) document.body.setAttribute('data-paths', key);
    }, function (err) {
      delete paths[key];
      if (editor && editor.paths === paths) showMessage(err.message);
    });
  }

  function setAspect(aspect) {
    stopPreview();
    change(function (w) {
      if (w.aspect === aspect) return;
      w.aspect = aspect;
      w.kept.forEach(function (k) { delete k.crop; });  // windows of another aspect
    });
  }

  function setReframe(mode) {
    stopPreview();
    change(function (w) { w.reframe = mode; });
  }

  function setCrop(shot, crop) {
    change(function () {
      var e = keptEntry(shot);
      if (e) e.crop = crop;
    });
  }

  function clearCrop(shot) {
    change(function () {
      var e = keptEntry(shot);
      if (e) delete e.crop;
    });
  }

  /* The shot under time t (the last one at the very end). */
  function shotAt(t) {
    var shots = editor.info.shots;
    if (!shots.length) return null;
    var lo = 0, hi = shots.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (shots[mid].start_seconds <= t + 1e-6) lo = mid; else hi = mid - 1;
    }
    return shots[lo];
  }

  /* The window of shot s at time t in frame pixels {x, y, w, h, by}: the person's (the kept
   * entry's crop), else the planned path's (straight between keyframes, held outside them). */
  function windowAt(s, t) {
    var k = keptEntry(s.shot);
    if (k && k.crop) return { x: k.crop.x, y: k.crop.y, w: k.crop.w, h: k.crop.h, by: 'person' };
    var p = currentPaths();
    var keys = p && p.shots[String(s.shot)];
    if (!keys || !keys.length) return null;
    var i = 0;
    if (t <= keys[0][0]) i = -1;
    while (i >= 0 && i < keys.length - 1 && keys[i + 1][0] <= t) i++;
    var a, x, y;
    if (i < 0) { x = keys[0][1]; y = keys[0][2]; } else if (i >= keys.length - 1) {
      x = keys[keys.length - 1][1];
      y = keys[keys.length - 1][2];
    } else {
      var k0 = keys[i], k1 = keys[i + 1];
      a = k1[0] > k0[0] ? (t - k0[0]) / (k1[0] - k0[0]) : 0;
      x = k0[1] + (k1[1] - k0[1]) * a;
      y = k0[2] + (k1[2] - k0[2]) * a;
    }
    return { x: x, y: y, w: keys[0][3], h: keys[0][4], by: editor.work.reframe };
  }

  /* Where the video's picture lies inside the player element (object-fit: contain), in CSS
   * pixels relative to #player, and the scale from frame pixels to it. */
  function displayBox() {
    var v = $('source');
    var f = editor.info.frame || { width: editor.info.width, height: editor.info.height };
    var vw = v.videoWidth || f.width, vh = v.videoHeight || f.height;
    var cw = v.clientWidth, ch = v.clientHeight;
    if (!cw || !ch || !vw || !vh) return null;
    var s = Math.min(cw / vw, ch / vh);
    var dw = vw * s, dh = vh * s;
    return {
      left: v.offsetLeft + (cw - dw) / 2, top: v.offsetTop + (ch - dh) / 2, width: dw, height: dh,
      sx: dw / f.width, sy: dh / f.height, fw: f.width, fh: f.height
    };
  }

  var drag = null;     // {shot, pointer, startX, startY, x0, y0, w, h, x, y, moved}
  var drawn = '';      // what the frame shows now (to write the DOM only on a change)
  var frameNow = null; // {shot, x, y, w, h, by, kept}

  function drawCrop() {
    var layer = $('crop-layer');
    if (!editor || $('editor-view').hidden || editor.work.aspect === 'keep') {
      if (!layer.hidden) { layer.hidden = true; $('crop-state').hidden = true; drawn = ''; frameNow = null; }
      return;
    }
    var v = $('source');
    var s = shotAt(v.currentTime || 0);
    var box = displayBox();
    var win = null;
    if (s && drag && drag.shot === s.shot) {
      win = { x: drag.x, y: drag.y, w: drag.w, h: drag.h, by: 'person' };
    } else if (s) {
      win = windowAt(s, v.currentTime || 0);
    }
    if (!s || !box || !win) {
      if (!layer.hidden) { layer.hidden = true; drawn = ''; frameNow = null; }
      return;
    }
    var kept = !!keptEntry(s.shot);
    var key = [s.shot, win.x, win.y, win.w, win.h, win.by, kept, box.left, box.top, box.width, box.height].join(',');
    if (key === drawn) return;
    drawn = key;
    frameNow = { shot: s.shot, x: win.x, y: win.y, w: win.w, h: win.h, by: win.by, kept: kept };
    layer.hidden = false;
    layer.style.left = box.left + 'px';
    layer.style.top = box.top + 'px';
    layer.style.width = box.width + 'px';
    layer.style.height = box.height + 'px';
    var fr = $('crop-frame');
    fr.style.left = (win.x * box.sx) + 'px';
    fr.style.top = (win.y * box.sy) + 'px';
    fr.style.width = (win.w * box.sx) + 'px';
    fr.style.height = (win.h * box.sy) + 'px';
    fr.classList.toggle('person', win.by === 'person');
    fr.classList.toggle('removed', !kept);
    fr.classList.toggle('dragging', !!drag);
    fr.setAttribute('data-shot', String(s.shot));
    fr.setAttribute('data-by', win.by);
    $('crop-grab').classList.toggle('short', box.height > 160);
    var horizontal = win.w < box.fw;
    $('crop-grab').setAttribute('aria-orientation', horizontal ? 'horizontal' : 'vertical');
    $('crop-grab').setAttribute('aria-valuemin', '0');
    $('crop-grab').setAttribute('aria-valuemax', String(horizontal ? box.fw - win.w : box.fh - win.h));
    $('crop-grab').setAttribute('aria-valuenow', String(Math.round(horizontal ? win.x : win.y)));
    $('crop-grab').setAttribute('aria-valuetext', 'shot ' + (s.shot + 1) + ', left ' + Math.round(win.x) +
      ', top ' + Math.round(win.y) + ' of ' + box.fw + 'x' + box.fh);
    drawCropState(s, win, kept);
  }

  function drawCropState(s, win, kept) {
    var p = $('crop-state');
    var words = 'Shot ' + (s.shot + 1) + ': ' + win.w + 'x' + win.h + ' window, ';
    if (!kept) words += 'removed (keep the shot to set its window).';
    else if (win.by === 'person') words += 'yours (fixed).';
    else words += (win.by === 'center' ? 'centered' : 'follows the action') + ' (drag the frame to fix it).';
    var button = kept && win.by === 'person' && !drag;
    var said = words + (button ? '|b|' + editor.work.reframe : '');
    if (!p.hidden && p.getAttribute('data-said') === said) return;
    p.setAttribute('data-said', said);
    clear(p);
    p.hidden = false;
    p.appendChild(document.createTextNode(words));
    if (button) {
      var b = el('button', 'follow-again', editor.work.reframe === 'center' ? 'Center again' : 'Follow the action again');
      b.type = 'button';
      b.onclick = function () { clearCrop(s.shot); };
      p.appendChild(b);
    }
  }

  function cropLoop() {
    drawCrop();
    requestAnimationFrame(cropLoop);
  }

  /* A window (frame pixels) snapped to even pixels and clamped inside the frame. */
  function snapped(x, y, w, h, box) {
    function one(v, room) {
      var even = 2 * Math.round(v / 2);
      var top = room - (room % 2);
      return Math.max(0, Math.min(top, even));
    }
    return { x: one(x, box.fw - w), y: one(y, box.fh - h), w: w, h: h };
  }

  function dragTarget() {
    if (!editor || editor.work.aspect === 'keep' || !frameNow) return null;
    if (!keptEntry(frameNow.shot)) {
      showMessage('Shot ' + (frameNow.shot + 1) + ' is not kept: keep it to set its window.', 'info');
      return null;
    }
    return frameNow;
  }

  function setupCrop() {
    var grab = $('crop-grab');
    grab.addEventListener('pointerdown', function (ev) {
      if (ev.button !== 0) return;
      var now = dragTarget();
      var box = editor && displayBox();
      if (!now || !box) return;
      ev.preventDefault();
      stopPreview();
      $('source').pause();
      var start = snapped(now.x, now.y, now.w, now.h, box);
      drag = { shot: now.shot, pointer: ev.pointerId, startX: ev.clientX, startY: ev.clientY,
        x0: now.x, y0: now.y, w: now.w, h: now.h, x: start.x, y: start.y, moved: false };
      grab.setPointerCapture(ev.pointerId);
    });
    grab.addEventListener('pointermove', function (ev) {
      if (!drag || ev.pointerId !== drag.pointer) return;
      var box = displayBox();
      if (!box) return;
      var c = snapped(drag.x0 + (ev.clientX - drag.startX) / box.sx, drag.y0 + (ev.clientY - drag.startY) / box.sy,
        drag.w, drag.h, box);
      if (Math.abs(ev.clientX - drag.startX) + Math.abs(ev.clientY - drag.startY) >= 2) drag.moved = true;
      drag.x = c.x;
      drag.y = c.y;
    });
    function end(ev) {
      if (!drag || ev.pointerId !== drag.pointer) return;
      var d = drag;
      drag = null;
      drawn = '';
      if (grab.hasPointerCapture && grab.hasPointerCapture(ev.pointerId)) grab.releasePointerCapture(ev.pointerId);
      if (d.moved && ev.type === 'pointerup') setCrop(d.shot, { x: d.x, y: d.y, w: d.w, h: d.h });
    }
    grab.addEventListener('pointerup', end);
    grab.addEventListener('pointercancel', end);
    grab.addEventListener('keydown', function (ev) {
      var dx = { ArrowLeft: -1, ArrowRight: 1 }[ev.key] || 0, dy = { ArrowUp: -1, ArrowDown: 1 }[ev.key] || 0;
      if (!dx && !dy) return;
      var now = dragTarget();
      var box = editor && displayBox();
      if (!now || !box) return;
      ev.preventDefault();
      var step = ev.shiftKey ? 20 : 2;
      var c = snapped(now.x + dx * step, now.y + dy * step, now.w, now.h, box);
      setCrop(now.shot, c);
    });
    window.addEventListener('resize', function () { drawn = ''; });
    requestAnimationFrame(cropLoop);
  }

  function drawSummarySize() {
    var v = $('summary');
    var show = function () {
      if (!v.videoWidth) { $('summary-size').textContent = ''; v.removeAttribute('data-size'); return; }
      $('summary-size').textContent = 'Size: ' + v.videoWidth + 'x' + v.videoHeight + ' pixels.';
      v.setAttribute('data-size', v.videoWidth + 'x' + v.videoHeight);
    };
    v.onloadedmetadata = show;
    show();
  }

  studio.cropFrame = function () { return frameNow; };

  /* ------------------------------------------------------------------ views and routes */

  function routeName() {
    var m = /^#\/video\/(.+)$/.exec(location.hash);
    if (!m) return null;
    try { return decodeURIComponent(m[1]); } catch (e) { return null; }
  }

  function showView(which) {
    $('library-view').hidden = which !== 'library';
    $('editor-view').hidden = which !== 'editor';
    document.body.setAttribute('data-view', which);
  }

  function route() {
    var name = routeName();
    if (name === null) {
      stopPreview();
      showView('library');
      document.title = 'acsumgan studio';
      if (editor) { $('source').pause(); }
      return loadLibrary();
    }
    document.title = name + ' · acsumgan studio';
    return openEditor(name);
  }

  function setupEditorControls() {
    $('length-preset').addEventListener('change', function () {
      var name = this.value;
      if (!name) {  // custom: keep the current target as seconds
        setLength({ mode: 'seconds', value: targetSeconds(editor.work.length), preset: null });
        return;
      }
      var p = lib.presets.filter(function (x) { return x.name === name; })[0];
      if (p) setLength({ mode: 'preset', value: p.seconds, preset: p.name }, aspectOf(p.aspect));
    });
    $('length-seconds').addEventListener('change', function () {
      var x = parseFloat(this.value);
      if (!(x > 0)) { showMessage('The length in seconds must be a number above 0.'); drawLength(); return; }
      setLength({ mode: 'seconds', value: x, preset: null });
    });
    $('length-percent').addEventListener('change', function () {
      var x = parseFloat(this.value);
      if (!(x > 0 && x <= 100)) { showMessage('The percent must be above 0 and at most 100.'); drawLength(); return; }
      setLength({ mode: 'percent', value: x, preset: null });
    });
    $('trim-unit').addEventListener('change', function () { if (editor) drawKept(); });
    $('aspect').addEventListener('change', function () { if (editor) setAspect(this.value); });
    $('reframe').addEventListener('change', function () { if (editor) setReframe(this.value); });
    setupCrop();
    $('undo').addEventListener('click', undo);
    $('redo').addEventListener('click', redo);
    $('reset').addEventListener('click', backToModel);
    $('save').addEventListener('click', function () { save(); });
    $('render').addEventListener('click', function () { render(); });
    document.addEventListener('keydown', function (ev) {
      if (!editor || $('editor-view').hidden) return;
      if (!(ev.ctrlKey || ev.metaKey) || ev.altKey) return;
      var tag = ev.target && ev.target.tagName;
      if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return;  // their own undo
      var key = ev.key.toLowerCase();
      if (key === 'z' && !ev.shiftKey) { ev.preventDefault(); undo(); } else if ((key === 'z' && ev.shiftKey) || key === 'y') {
        ev.preventDefault();
        redo();
      }
    });
  }

  function start() {
    $('message-close').addEventListener('click', clearMessage);
    setupUploads();
    setupLibrary();
    setupPlayer();
    setupEditorControls();
    window.addEventListener('hashchange', route);
    // jobs first (a reload re-attaches to running ones), then their live events
    api('GET', '/api/jobs').then(function (d) {
      (d && d.jobs || []).forEach(function (j) { noteJob(j); });
    }, function () {}).then(function () {
      connectEvents();
      return route();
    }).then(function () { document.body.setAttribute('data-ready', '1'); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
