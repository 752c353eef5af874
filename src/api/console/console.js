// Kino's web console: a page of this server that speaks the same Admin and Upload APIs as the
// SDKs, with the account's API key and secret (kept for the tab's life in sessionStorage).
// Uploads are signed here, as an SDK signs them.
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  cloud: document.body.dataset.cloud, key: '', secret: '', folder: '', rt: 'image', cursor: null, asset: null,
};

// ------------------------------------------------------------------ API calls

async function api(method, path, body, base = `/v1_1/${state.cloud}`) {
  const headers = { Authorization: `Basic ${btoa(`${state.key}:${state.secret}`)}` };
  if (body) headers['Content-Type'] = 'application/json';
  const r = await fetch(base + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const json = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((json.error && json.error.message) || `HTTP ${r.status}`);
  return json;
}

function status(text) { $('status').textContent = text; }
function fail(e) { status(`Error: ${e.message}`); }

/** SHA-1 hex of a string (SubtleCrypto when the page is a secure context, else in JS). */
async function sha1(text) {
  const bytes = new TextEncoder().encode(text);
  if (crypto.subtle) {
    const digest = await crypto.subtle.digest('SHA-1', bytes);
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  return sha1Fallback(bytes);
}

function sha1Fallback(bytes) {
  const words = [];
  const length = bytes.length * 8;
  const padded = new Uint8Array(((bytes.length + 9 + 63) >> 6) << 6);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  new DataView(padded.buffer).setUint32(padded.length - 4, length);
  for (let i = 0; i < padded.length; i += 4) words.push(new DataView(padded.buffer).getUint32(i));
  let [a, b, c, d, e] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const rotl = (x, n) => (x << n) | (x >>> (32 - n));
  for (let i = 0; i < words.length; i += 16) {
    const w = words.slice(i, i + 16);
    for (let t = 16; t < 80; t += 1) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    let [A, B, C, D, E] = [a, b, c, d, e];
    for (let t = 0; t < 80; t += 1) {
      const [f, k] = t < 20 ? [(B & C) | (~B & D), 0x5a827999] : t < 40 ? [B ^ C ^ D, 0x6ed9eba1]
        : t < 60 ? [(B & C) | (B & D) | (C & D), 0x8f1bbcdc] : [B ^ C ^ D, 0xca62c1d6];
      const temp = (rotl(A, 5) + f + E + k + w[t]) | 0;
      [E, D, C, B, A] = [D, C, rotl(B, 30), A, temp];
    }
    [a, b, c, d, e] = [(a + A) | 0, (b + B) | 0, (c + C) | 0, (d + D) | 0, (e + E) | 0];
  }
  return [a, b, c, d, e].map((x) => (x >>> 0).toString(16).padStart(8, '0')).join('');
}

/** The delivery URL of `asset` with a transformation and a format. */
function deliveryUrl(asset, transformation, format) {
  const t = transformation ? `${transformation}/` : '';
  const ext = asset.resource_type === 'raw' ? '' : `.${format || asset.format}`;
  return `${location.origin}/${state.cloud}/${asset.resource_type}/${asset.type}/${t}${asset.public_id}${ext}`;
}

function thumbnail(asset) {
  if (asset.resource_type === 'image') return deliveryUrl(asset, 'c_fill,w_160,h_120', 'jpg');
  if (asset.resource_type === 'video') return deliveryUrl(asset, 'c_fill,w_160,h_120,so_0', 'jpg');
  return 'data:image/svg+xml,' + encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" width="160" height="120"><text x="50%" y="55%" text-anchor="middle" font-size="20" fill="#6b7280">raw</text></svg>');
}

// ------------------------------------------------------------------ sign in

async function signIn(key, secret) {
  state.key = key;
  state.secret = secret;
  await api('GET', '/ping');
  sessionStorage.setItem('kino-console', JSON.stringify({ key, secret }));
  $('login').hidden = true;
  $('app').hidden = false;
  showTab('media');
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('login-error').textContent = '';
  try {
    await signIn($('api-key').value.trim(), $('api-secret').value);
  } catch (err) {
    $('login-error').textContent = `Sign-in failed: ${err.message}`;
  }
});

$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem('kino-console');
  location.reload();
});

// ------------------------------------------------------------------ tabs

function showTab(name) {
  for (const b of document.querySelectorAll('header nav button')) b.classList.toggle('active', b.dataset.tab === name);
  for (const s of document.querySelectorAll('section')) s.hidden = s.id !== `tab-${name}`;
  clearInterval(state.jobsTimer);
  if (name === 'jobs') state.jobsTimer = setInterval(() => loadJobs().catch(fail), 1500);
  ({ media: loadMedia, presets: loadPresets, profiles: loadProfiles, live: loadLive, jobs: loadJobs })[name]().catch(fail);
}
for (const b of document.querySelectorAll('header nav button')) b.addEventListener('click', () => showTab(b.dataset.tab));

// ------------------------------------------------------------------ media

async function loadMedia(more = false) {
  const crumbs = $('crumbs');
  crumbs.replaceChildren();
  const parts = state.folder ? state.folder.split('/') : [];
  const root = document.createElement('a');
  root.textContent = 'Home';
  root.onclick = () => openFolder('');
  crumbs.append(root);
  parts.forEach((p, i) => {
    const a = document.createElement('a');
    a.textContent = p;
    a.onclick = () => openFolder(parts.slice(0, i + 1).join('/'));
    crumbs.append(' / ', a);
  });
  if (!more) {
    const folders = await api('GET', state.folder ? `/folders/${state.folder}` : '/folders');
    $('folders').replaceChildren(...folders.folders.map((f) => {
      const li = document.createElement('li');
      li.textContent = `${f.name}/`;
      li.dataset.path = f.path;
      li.onclick = () => openFolder(f.path);
      return li;
    }));
    $('assets').replaceChildren();
    state.cursor = null;
  }
  const typed = $('search').value.trim();
  let page;
  if (/[:=<>]/.test(typed)) {
    // A search expression (tags:cat AND bytes>100000): the Search API, across folders.
    const body = { expression: `resource_type:${state.rt} AND (${typed})`, max_results: 60, with_field: ['tags'] };
    if (state.cursor) body.next_cursor = state.cursor;
    page = await api('POST', '/resources/search', body);
  } else {
    const query = new URLSearchParams({ max_results: '60', prefix: (state.folder ? `${state.folder}/` : '') + typed });
    if (state.cursor) query.set('next_cursor', state.cursor);
    page = await api('GET', `/resources/${state.rt}/upload?${query}`);
  }
  const searching = typed !== '';
  for (const asset of page.resources) {
    if (!searching && asset.folder !== state.folder) continue;
    const li = document.createElement('li');
    li.dataset.publicId = asset.public_id;
    const img = document.createElement('img');
    img.src = thumbnail(asset);
    img.alt = asset.public_id;
    img.loading = 'lazy';
    const name = document.createElement('div');
    name.className = 'name';
    name.textContent = asset.public_id.split('/').pop();
    li.append(img, name);
    li.onclick = () => showDetails(asset).catch(fail);
    $('assets').append(li);
  }
  state.cursor = page.next_cursor || null;
  $('more').hidden = !state.cursor;
  status(`${$('assets').children.length} ${state.rt} assets in ${state.folder || 'Home'}`);
}

function openFolder(path) {
  state.folder = path;
  $('search').value = '';
  loadMedia().catch(fail);
}

$('more').addEventListener('click', () => loadMedia(true).catch(fail));
$('resource-type').addEventListener('change', (e) => { state.rt = e.target.value; loadMedia().catch(fail); });
let searchTimer = null;
$('search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => loadMedia().catch(fail), 250);
});

// ------------------------------------------------------------------ details and transformation builder

async function showDetails(asset) {
  const d = await api('GET', `/resources/${asset.resource_type}/${asset.type}/${asset.public_id}`);
  state.asset = d;
  $('details').hidden = false;
  $('details-title').textContent = d.public_id;
  $('transformation').value = '';
  $('format').value = d.format;
  const facts = [['Type', `${d.resource_type} / ${d.type}`], ['Format', d.format], ['Bytes', d.bytes],
    ['Size', d.width ? `${d.width}×${d.height}` : '—'], ['Duration', d.duration ? `${d.duration} s` : '—'],
    ['Created', d.created_at], ['Tags', (d.tags || []).join(', ') || '—']];
  $('facts').replaceChildren(...facts.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = String(v);
    return [dt, dd];
  }));
  $('derived').replaceChildren(...(d.derived || []).map((x) => {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = x.secure_url;
    a.target = '_blank';
    a.textContent = `${x.transformation}.${x.format} (${x.bytes} bytes)`;
    li.append(a);
    return li;
  }));
  updatePreview();
}

function updatePreview() {
  const asset = state.asset;
  if (!asset) return;
  const t = $('transformation').value.trim();
  const format = $('format').value.trim() || asset.format;
  const url = deliveryUrl(asset, t, format);
  $('delivery-url').value = url;
  const still = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'avif', 'bmp'].includes(format);
  let el;
  if (asset.resource_type === 'raw') {
    el = document.createElement('a');
    el.href = url;
    el.textContent = 'Download';
  } else if (asset.resource_type === 'video' && !still) {
    el = document.createElement('video');
    el.controls = true;
    el.muted = true;
    el.src = url;
  } else {
    el = document.createElement('img');
    el.src = url;
    el.alt = 'preview';
    el.onerror = async () => {
      const r = await fetch(url);
      status(`Preview: ${r.headers.get('x-cld-error') || `HTTP ${r.status}`}`);
    };
  }
  el.id = 'preview-media';
  $('preview').replaceChildren(el);
}

let previewTimer = null;
for (const id of ['transformation', 'format']) {
  $(id).addEventListener('input', () => {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(updatePreview, 300);
  });
}
$('close-details').addEventListener('click', () => { $('details').hidden = true; state.asset = null; });
$('copy-url').addEventListener('click', async () => {
  const text = $('delivery-url').value;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    $('delivery-url').select();
    document.execCommand('copy');
  }
  $('copied').textContent = 'Copied';
  setTimeout(() => { $('copied').textContent = ''; }, 2000);
});

// ------------------------------------------------------------------ upload

async function upload(file) {
  const row = document.createElement('div');
  row.className = 'upload';
  const name = document.createElement('span');
  name.textContent = file.name;
  const bar = document.createElement('progress');
  bar.max = file.size || 1;
  bar.value = 0;
  const note = document.createElement('span');
  row.append(name, bar, note);
  $('uploads').append(row);

  const params = { timestamp: String(Math.floor(Date.now() / 1000)), use_filename: 'true', unique_filename: 'false' };
  if (state.folder) params.folder = state.folder;
  const toSign = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join('&');
  const form = new FormData();
  for (const [k, v] of Object.entries(params)) form.append(k, v);
  form.append('api_key', state.key);
  form.append('signature', await sha1(toSign + state.secret));
  form.append('file', file);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1_1/${state.cloud}/auto/upload`);
    xhr.upload.onprogress = (e) => { bar.max = e.total; bar.value = e.loaded; };
    xhr.onload = () => {
      const json = JSON.parse(xhr.responseText || '{}');
      if (xhr.status === 200) {
        bar.value = bar.max;
        note.textContent = `done: ${json.public_id}`;
        row.dataset.publicId = json.public_id;
      } else {
        note.textContent = `failed: ${(json.error && json.error.message) || xhr.status}`;
        note.className = 'error';
      }
      resolve(json);
    };
    xhr.onerror = () => { note.textContent = 'failed: network error'; resolve(null); };
    xhr.send(form);
  });
}

async function uploadAll(files) {
  for (const f of files) await upload(f);
  await loadMedia();
}

const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  uploadAll([...e.dataTransfer.files]).catch(fail);
});
$('file-input').addEventListener('change', (e) => uploadAll([...e.target.files]).catch(fail));

// ------------------------------------------------------------------ presets, profiles, live streams

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function button(text, action) {
  const td = document.createElement('td');
  const b = document.createElement('button');
  b.textContent = text;
  b.onclick = () => action().catch(fail);
  td.append(b);
  return td;
}

async function loadPresets() {
  const list = await api('GET', '/upload_presets?max_results=100');
  $('presets').replaceChildren(...list.presets.map((p) => {
    const tr = document.createElement('tr');
    tr.dataset.name = p.name;
    tr.append(cell(p.name), cell(p.unsigned ? 'yes' : 'no'), cell(JSON.stringify(p.settings)),
      button('Delete', async () => { await api('DELETE', `/upload_presets/${p.name}`); await loadPresets(); }));
    return tr;
  }));
}

$('preset-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = { name: $('preset-name').value.trim(), unsigned: $('preset-unsigned').checked };
  if ($('preset-folder').value.trim()) body.folder = $('preset-folder').value.trim();
  try {
    await api('POST', '/upload_presets', body);
    e.target.reset();
    await loadPresets();
  } catch (err) { fail(err); }
});

async function loadProfiles() {
  const list = await api('GET', '/streaming_profiles');
  $('profiles').replaceChildren(...list.data.map((p) => {
    const tr = document.createElement('tr');
    tr.dataset.name = p.name;
    tr.append(cell(p.name), cell(p.display_name || '—'),
      cell(p.predefined ? 'predefined' : 'custom'),
      p.predefined ? cell('') : button('Delete', async () => { await api('DELETE', `/streaming_profiles/${p.name}`); await loadProfiles(); }));
    return tr;
  }));
}

$('profile-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const representations = $('profile-renditions').value.split('\n').map((l) => l.trim()).filter(Boolean)
    .map((transformation) => ({ transformation }));
  try {
    await api('POST', '/streaming_profiles', { name: $('profile-name').value.trim(), representations: JSON.stringify(representations) });
    e.target.reset();
    await loadProfiles();
  } catch (err) { fail(err); }
});

async function loadLive() {
  const list = await api('GET', '/live_streams', undefined, `/v2/video/${state.cloud}`);
  $('live').replaceChildren(...list.data.map((s) => {
    const tr = document.createElement('tr');
    tr.dataset.name = s.name;
    const hls = (s.outputs || []).find((o) => o.type === 'hls');
    tr.append(cell(s.name), cell(s.status), cell(`${s.input.uri} key ${s.input.stream_key}`),
      cell(hls ? hls.uri : '—'),
      button('Delete', async () => { await api('DELETE', `/live_streams/${s.id}`, undefined, `/v2/video/${state.cloud}`); await loadLive(); }));
    return tr;
  }));
}

$('live-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await api('POST', '/live_streams', { name: $('live-name').value.trim() }, `/v2/video/${state.cloud}`);
    e.target.reset();
    await loadLive();
  } catch (err) { fail(err); }
});

// Background jobs (eager transformations, ladders, notifications) and how far they have got;
// refreshed while the tab is open.
async function loadJobs() {
  const list = await api('GET', '/jobs?max_results=50');
  $('jobs').replaceChildren(...list.jobs.map((j) => {
    const tr = document.createElement('tr');
    tr.dataset.id = j.id;
    tr.dataset.state = j.state;
    const bar = document.createElement('progress');
    bar.max = 1;
    bar.value = j.progress;
    const td = document.createElement('td');
    td.append(bar, ` ${Math.round(j.progress * 100)}%`);
    tr.append(cell(j.id.slice(0, 12)), cell(j.kind), cell(j.public_id || '—'),
      cell(j.last_error ? `${j.state}: ${j.last_error}` : j.state), td, cell(j.updated_at));
    return tr;
  }));
}

// ------------------------------------------------------------------ start

$('cloud-name').textContent = state.cloud;
const saved = JSON.parse(sessionStorage.getItem('kino-console') || 'null');
if (saved) signIn(saved.key, saved.secret).catch(() => sessionStorage.removeItem('kino-console'));
