// Plays a Kino stream in a third-party player in headless Chromium (Debian's, through
// playwright-core) and reports how it went: video.js (HLS and DASH through VHS), Shaka Player
// and the Cloudinary Video Player, each from its npm package, served from a small static
// server of this script's own (the player pages live in ./pages).
//
//   node tests/browser/players.mjs <page> <query> [--timeout S]
//     page: videojs | shaka | cloudinary     query: the page's parameters (src=…&type=hls)
//
// Exits 0 with one JSON line (the page's `window.result`) when the video ended, 1 with the
// page's console, failed requests and last responses on stderr otherwise.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const [page, query] = process.argv.slice(2);
const timeoutAt = process.argv.indexOf('--timeout');
const timeout = (timeoutAt > 0 ? Number(process.argv[timeoutAt + 1]) : 120) * 1000;
if (!['videojs', 'shaka', 'cloudinary'].includes(page) || query === undefined) {
  console.error('usage: node players.mjs videojs|shaka|cloudinary <query> [--timeout S]');
  process.exit(2);
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  const file = path.startsWith('/node_modules/') ? join(HERE, path) : join(HERE, 'pages', path);
  if (!file.startsWith(HERE)) { res.writeHead(403).end(); return; }
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});
const logs = [];
const recent = [];
const external = [];
let code = 1;
let tab;
try {
  tab = await browser.newPage();
  tab.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  tab.on('pageerror', (e) => logs.push(`page error: ${e.message}`));
  tab.on('requestfailed', (r) => logs.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  // Everything must come from this machine: the pages' server and Kino.
  tab.on('request', (r) => {
    const host = new URL(r.url()).hostname;
    if (!['127.0.0.1', ''].includes(host) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) {
      external.push(r.url());
    }
  });
  tab.on('response', (r) => {
    if (r.url().startsWith(origin)) return;
    recent.push(`${r.status()} ${r.url()}`);
    if (recent.length > 40) recent.shift();
  });
  await tab.goto(`${origin}/${page}.html?${query}`);
  await tab.waitForFunction(() => window.result !== null, null, { timeout });
  const result = await tab.evaluate(() => window.result);
  result.kinoResponses = recent.length;
  result.external = external;
  console.log(JSON.stringify(result));
  code = result.state === 'ended' ? 0 : 1;
  if (code) console.error(`the ${page} page reported ${result.state}: ${result.error}`);
} catch (e) {
  console.error(`${page}: ${e.message}`);
  // Where the video element stood when the page gave up: what a stall looks like.
  const state = await tab?.evaluate(() => {
    const v = document.querySelector('video');
    if (!v) return null;
    const ranges = (r) => Array.from({ length: r.length }, (_, i) => [r.start(i), r.end(i)]);
    return { currentTime: v.currentTime, duration: v.duration, paused: v.paused, ended: v.ended,
      readyState: v.readyState, networkState: v.networkState, buffered: ranges(v.buffered),
      error: v.error && v.error.message };
  }).catch(() => null);
  if (state) console.error(`video element: ${JSON.stringify(state)}`);
} finally {
  if (code) {
    console.error(logs.join('\n'));
    console.error(`last responses:\n${recent.join('\n')}`);
  }
  await browser.close();
  server.close();
}
process.exit(code);
