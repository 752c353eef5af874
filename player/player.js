// Kino's player: plays `sp_<profile>` HLS (hls.js) or DASH (dash.js) streams of a public id, or
// a live stream's low-latency HLS (`?live=<stream id>`),
// with a quality menu. State is kept in `window.kino` so tests (and people) can read it:
// { state: 'idle'|'loading'|'ready'|'playing'|'ended'|'error', error, levels, protocol, url }.
(function () {
  'use strict';

  const params = new URLSearchParams(location.search);
  const meta = document.querySelector('meta[name="kino-cloud"]');
  const cloud = params.get('cloud') || (meta && !meta.content.startsWith('{{') ? meta.content : 'demo');
  const video = document.getElementById('video');
  const menu = document.getElementById('quality');
  const status = document.getElementById('status');
  const form = document.getElementById('pick');
  const kino = (window.kino = { state: 'idle', error: null, levels: [], protocol: null, url: null });

  function show(text, isError) {
    status.textContent = text;
    status.className = isError ? 'error' : '';
  }

  function setState(state, detail) {
    kino.state = state;
    if (state === 'error') {
      kino.error = detail || 'playback failed';
      show('Error: ' + kino.error, true);
    } else {
      show(detail || state);
    }
  }

  function streamUrl(publicId, profile, protocol, transformation) {
    const base = (params.get('base') || location.origin).replace(/\/$/, '');
    const parts = [base, cloud, 'video', 'upload'];
    if (transformation) parts.push(transformation);
    parts.push('sp_' + profile);
    const id = publicId.split('/').map(encodeURIComponent).join('/');
    return parts.join('/') + '/' + id + (protocol === 'dash' ? '.mpd' : '.m3u8');
  }

  function fillMenu(levels, choose) {
    kino.levels = levels;
    menu.length = 1;
    levels.forEach((l, i) => {
      const o = document.createElement('option');
      o.value = String(i);
      const mbps = l.bitrate ? ' · ' + (l.bitrate / 1e6).toFixed(2) + ' Mbps' : '';
      o.textContent = (l.height ? l.height + 'p' : 'level ' + i) + mbps;
      menu.appendChild(o);
    });
    menu.onchange = () => choose(Number(menu.value));
  }

  function playHls(url, live) {
    if (!window.Hls || !Hls.isSupported()) {
      // Browsers that play HLS themselves (Safari): no quality menu.
      video.src = url;
      return;
    }
    // Live streams: low-latency mode (parts, blocking playlist reloads, preload hints).
    const hls = new Hls({ enableWorker: true, debug: params.has('debug'), lowLatencyMode: !!live });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      const levels = hls.levels.map((l) => ({ width: l.width, height: l.height, bitrate: l.bitrate }));
      // At the next segment: an immediate switch (currentLevel) flushes the sound too.
      fillMenu(levels, (i) => { hls.nextLevel = i; });
      setState('ready', levels.length + ' renditions');
    });
    hls.on(Hls.Events.ERROR, (_, d) => {
      if (d.fatal) setState('error', 'hls.js: ' + d.type + ' ' + d.details + (d.response ? ' (HTTP ' + d.response.code + ')' : ''));
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    kino.player = hls;
  }

  function playDash(url) {
    const player = dashjs.MediaPlayer().create();
    const events = dashjs.MediaPlayer.events;
    // No clock on the internet: the streams are static, and a page may be offline.
    player.updateSettings({
      streaming: {
        utcSynchronization: {
          defaultTimingSource: { scheme: 'urn:mpeg:dash:utc:http-head:2014', value: url },
        },
      },
    });
    // dash.js may pause the element at the end itself, and then no `ended` event fires.
    player.on(events.PLAYBACK_ENDED, () => {
      if (kino.state !== 'error') setState('ended', 'finished');
    });
    player.on(events.STREAM_INITIALIZED, () => {
      const reps = player.getRepresentationsByType('video') || [];
      const levels = reps.map((r) => ({ width: r.width, height: r.height, bitrate: r.bandwidth }));
      fillMenu(levels, (i) => {
        player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: i < 0 } } } });
        if (i >= 0) player.setRepresentationForTypeByIndex('video', i, true);
      });
      setState('ready', levels.length + ' renditions');
    });
    player.on(events.ERROR, (e) => {
      const err = e && e.error ? e.error : e;
      setState('error', 'dash.js: ' + (err && (err.message || err.code) ? (err.code + ' ' + (err.message || '')) : JSON.stringify(err)));
    });
    player.initialize(video, url, true);
    kino.player = player;
  }

  video.addEventListener('playing', () => { if (kino.state !== 'error') setState('playing'); });
  video.addEventListener('ended', () => { if (kino.state !== 'error') setState('ended', 'finished'); });
  video.addEventListener('error', () => {
    const e = video.error;
    setState('error', 'media element: ' + (e ? e.code + ' ' + (e.message || '') : 'unknown'));
  });

  for (const key of ['public_id', 'profile', 'protocol', 'transformation']) {
    if (params.get(key)) form.elements[key].value = params.get(key);
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams(location.search);
    for (const key of ['public_id', 'profile', 'protocol', 'transformation']) {
      const v = form.elements[key].value.trim();
      if (v) next.set(key, v); else next.delete(key);
    }
    location.search = next.toString();
  });

  // `live=<stream id>` plays a live stream's LL-HLS output instead of a public id.
  const live = params.get('live');
  const publicId = params.get('public_id');
  if (!publicId && !live) return;
  const profile = params.get('profile') || 'auto';
  const protocol = !live && params.get('protocol') === 'dash' ? 'dash' : 'hls';
  const base = (params.get('base') || location.origin).replace(/\/$/, '');
  const url = live
    ? base + '/' + cloud + '/video/live/live_stream_' + encodeURIComponent(live) + '_hls.m3u8'
    : streamUrl(publicId, profile, protocol, params.get('transformation'));
  kino.protocol = protocol;
  kino.url = url;
  const link = document.getElementById('source');
  link.href = url;
  link.textContent = url;
  video.muted = true;
  setState('loading', 'loading ' + protocol.toUpperCase() + '…');
  try {
    if (protocol === 'dash') playDash(url); else playHls(url, live);
  } catch (err) {
    setState('error', String(err));
  }
})();
