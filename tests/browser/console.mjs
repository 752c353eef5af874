// Drives Kino's web console in headless Chromium as a user would: a wrong secret, signing in,
// uploading a file with the file picker (progress bar to the end), opening a folder, the
// asset's details, a transformation previewed live, copying the URL, and creating an upload
// preset and a live stream. Screenshots of each step go to the given directory.
//
//   node tests/browser/console.mjs <base URL> <api key> <api secret> <file> <folder> <shots dir>
//
// Exits 0 with one JSON line of what it saw, 1 with the page's console on stderr.
import { chromium } from 'playwright-core';

const [base, key, secret, file, folder, shots] = process.argv.slice(2);
if (!shots) {
  console.error('usage: node console.mjs <base> <key> <secret> <file> <folder> <shots dir>');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const logs = [];
const seen = {};
let code = 1;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = await context.newPage();
  page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`page error: ${e.message}`));
  const shot = (name) => page.screenshot({ path: `${shots}/${name}.png` });

  await page.goto(`${base}/console/`);
  seen.cloud = await page.textContent('#cloud-name');
  await page.fill('#api-key', key);
  await page.fill('#api-secret', 'wrong');
  await page.click('#login button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent !== '');
  seen.refused = await page.textContent('#login-error');
  await shot('1-refused');

  await page.fill('#api-secret', secret);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForSelector(`#folders li[data-path="${folder}"]`);
  await shot('2-home');

  // Upload with the file picker; the progress bar runs to its end.
  await page.setInputFiles('#file-input', file);
  const row = await page.waitForSelector('.upload[data-public-id]', { timeout: 60000 });
  // And one dropped on the drop zone, as a file dragged from the desktop.
  const dropped = await page.evaluateHandle(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 40;
    canvas.height = 30;
    canvas.getContext('2d').fillRect(0, 0, 40, 30);
    const png = await new Promise((done) => canvas.toBlob(done, 'image/png'));
    const transfer = new DataTransfer();
    transfer.items.add(new File([png], 'dropped-square.png', { type: 'image/png' }));
    return transfer;
  });
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: dropped });
  const droppedRow = await page.waitForSelector('.upload:nth-child(2) span:last-child:not(:empty)', { timeout: 60000 });
  seen.dropped = await droppedRow.textContent();
  seen.uploaded = await row.getAttribute('data-public-id');
  seen.progress = await page.$eval('.upload progress', (p) => [p.value, p.max]);
  const tile = `#assets li[data-public-id="${seen.uploaded}"]`;
  await page.waitForSelector(tile);
  await page.waitForFunction((sel) => document.querySelector(`${sel} img`).naturalWidth > 0, tile, { timeout: 60000 });
  seen.thumbnail = await page.$eval(`${tile} img`, (i) => [i.naturalWidth, i.naturalHeight]);
  await shot('3-uploaded');

  // A folder, then back home.
  await page.click(`#folders li[data-path="${folder}"]`);
  await page.waitForFunction((f) => document.getElementById('crumbs').textContent.includes(f), folder);
  await page.waitForSelector(`#assets li[data-public-id^="${folder}/"]`);
  seen.inFolder = await page.$$eval('#assets li', (l) => l.map((x) => x.dataset.publicId));
  await shot('4-folder');
  await page.click('#crumbs a');
  await page.waitForSelector(tile);
  // A search expression goes to the Search API, across folders.
  await page.fill('#search', `public_id:${folder}/*`);
  await page.waitForSelector(`#assets li[data-public-id="${folder}/inside"]`);
  seen.searched = await page.$$eval('#assets li', (l) => l.map((x) => x.dataset.publicId));
  await page.fill('#search', '');
  await page.waitForSelector(tile);

  // Details, a transformation previewed live, the URL copied.
  await page.click(tile);
  await page.waitForSelector('#details:not([hidden])');
  seen.details = await page.textContent('#details-title');
  await page.fill('#transformation', 'c_scale,w_50');
  await page.waitForFunction(() => {
    const m = document.getElementById('preview-media');
    return m && m.src.includes('/c_scale,w_50/') && m.complete && m.naturalWidth > 0;
  }, null, { timeout: 60000 });
  seen.preview = await page.$eval('#preview-media', (m) => [m.naturalWidth, m.naturalHeight]);
  seen.url = await page.inputValue('#delivery-url');
  await page.click('#copy-url');
  await page.waitForFunction(() => document.getElementById('copied').textContent === 'Copied');
  seen.clipboard = await page.evaluate(() => navigator.clipboard.readText());
  await shot('5-details');
  await page.click('#close-details');

  // An upload preset and a live stream.
  await page.click('header button[data-tab=presets]');
  await page.fill('#preset-name', 'console-preset');
  await page.fill('#preset-folder', 'from-console');
  await page.check('#preset-unsigned');
  await page.click('#preset-form button[type=submit]');
  await page.waitForSelector('#presets tr[data-name="console-preset"]');
  seen.preset = await page.textContent('#presets tr[data-name="console-preset"]');
  await shot('6-presets');
  await page.click('header button[data-tab=profiles]');
  await page.waitForSelector('#profiles tr[data-name="hd"]');
  await page.fill('#profile-name', 'console-profile');
  await page.fill('#profile-renditions', 'w_640,h_360,c_limit,vc_h264,br_1m\nw_320,h_180,c_limit,vc_h264,br_400k');
  await page.click('#profile-form button[type=submit]');
  await page.waitForSelector('#profiles tr[data-name="console-profile"]');
  seen.profiles = await page.$$eval('#profiles tr', (rows) => rows.map((r) => r.dataset.name));
  await page.click('header button[data-tab=live]');
  await page.fill('#live-name', 'console-live');
  await page.click('#live-form button[type=submit]');
  await page.waitForSelector('#live tr[data-name="console-live"]');
  seen.live = await page.textContent('#live tr[data-name="console-live"]');
  await shot('7-live');
  // The jobs, with their progress (the test queued an eager ladder before).
  await page.click('header button[data-tab=jobs]');
  await page.waitForSelector('#jobs tr[data-state="done"]', { timeout: 120000 });
  seen.jobs = await page.$$eval('#jobs tr', (rows) => rows.map((r) => [r.dataset.state, r.querySelector('progress').value]));
  await shot('8-jobs');
  console.log(JSON.stringify(seen));
  code = 0;
} catch (e) {
  console.error(`console: ${e.message}\nseen so far: ${JSON.stringify(seen)}`);
  console.error(logs.join('\n'));
} finally {
  await browser.close();
}
process.exit(code);
