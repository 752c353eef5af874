// Plays a stream in Kino's player page in headless Chromium (Debian's, through
// playwright-core, which gives it a fresh temporary profile) and reports how it went.
//
//   node tests/browser/play.mjs <player page URL> [--timeout S] [--quality N] [--rate R]
//
// Waits until the page's `window.kino.state` is `ended` (exit 0, one JSON line on stdout) or
// `error` / the timeout (exit 1, with the page's console and failed requests on stderr).
// `--quality N` picks rendition N in the quality menu once the video plays; it must then
// end at that rendition's width. `--rate R` plays R times faster.
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const url = args.find((a) => !a.startsWith('--') && !/^\d+(\.\d+)?$/.test(a));
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};
const timeout = option('timeout', 120) * 1000;
const quality = option('quality', -1);
const rate = option('rate', 1);
const live = url && new URL(url).searchParams.has('live');
if (!url) {
  console.error('usage: node play.mjs <player page URL> [--timeout S] [--quality N] [--rate R]');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
  ],
});
const logs = [];
const recent = [];
const fetched = new Map();
let failed = 1;
let page = null;
try {
  page = await browser.newPage();
  page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => logs.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  const start = Date.now();
  page.on('response', (r) => {
    if (r.status() >= 400) logs.push(`HTTP ${r.status()}: ${r.url()}`);
    // The last requests, in order, say where a stalled player stopped.
    recent.push(`${((Date.now() - start) / 1000).toFixed(2)}s ${r.status()} ${r.url().replace(/^https?:\/\/[^/]+/, '')}`);
    if (recent.length > 40) recent.shift();
  });
  page.on('request', (r) => fetched.set(r.url(), (fetched.get(r.url()) || 0) + 1));
  await page.goto(url);
  await page.waitForFunction(() => window.kino && window.kino.state !== 'loading' && window.kino.state !== 'idle', null, { timeout });
  let chosen = null;
  if (quality >= 0) {
    // As a viewer would: once it plays.
    await page.waitForFunction(() => ['playing', 'ended', 'error'].includes(window.kino.state), null, { timeout });
    chosen = await page.evaluate((q) => window.kino.levels[q] || null, quality);
    if (!chosen) throw new Error(`no rendition ${quality}: ${JSON.stringify(await page.evaluate(() => window.kino.levels))}`);
    await page.selectOption('#quality', String(quality));
  }
  if (rate !== 1) await page.evaluate((r) => { document.getElementById('video').playbackRate = r; }, rate);
  await page.waitForFunction(() => ['ended', 'error'].includes(window.kino.state), null, { timeout });
  const result = await page.evaluate(() => {
    const v = document.getElementById('video');
    return {
      state: window.kino.state,
      error: window.kino.error,
      protocol: window.kino.protocol,
      levels: window.kino.levels.length,
      currentTime: v.currentTime,
      duration: v.duration,
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
      decodedFrames: v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : null,
    };
  });
  if (result.state !== 'ended') throw new Error(`player error: ${result.error}`);
  // A player that keeps asking for the same part at the end is stuck, even if it said
  // "ended" once. Not for live streams: hls.js looks for the next LL-HLS part with no
  // tolerance, and in a part with muxed sound the last AAC frame ends a few milliseconds off
  // the picture's end, so at the live edge it may re-read the last part (from its cache, not
  // from Kino) until the next one is listed. Playback is not affected.
  await page.waitForTimeout(1500);
  const again = [...fetched].filter(([, n]) => n > 3);
  if (again.length && !live) throw new Error(`fetched over and over: ${JSON.stringify(again)}`);
  if (again.length) console.error(`re-read (live): ${JSON.stringify(again)}`);
  if (chosen && result.videoWidth !== chosen.width) {
    throw new Error(`ended at ${result.videoWidth}x${result.videoHeight}, not the chosen ${chosen.width}x${chosen.height}`);
  }
  console.log(JSON.stringify(result));
  failed = 0;
} catch (err) {
  console.error(String(err && err.stack ? err.stack : err));
  if (page) {
    const snapshot = await page
      .evaluate(() => {
        const v = document.getElementById('video');
        const ranges = [];
        for (let i = 0; i < v.buffered.length; i++) ranges.push([v.buffered.start(i), v.buffered.end(i)]);
        return { kino: window.kino && { ...window.kino, player: undefined }, currentTime: v.currentTime, paused: v.paused, readyState: v.readyState, buffered: ranges };
      })
      .catch((e) => String(e));
    console.error('page state: ' + JSON.stringify(snapshot));
  }
  console.error(logs.join('\n'));
  console.error(`last responses:\n${recent.join('\n')}`);
} finally {
  await browser.close();
}
process.exit(failed);
