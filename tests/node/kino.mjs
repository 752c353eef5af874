// Starts a Kino server for the Node suite (port 0, a fresh data dir) and points the official
// Node SDK at it by configuration alone: CLOUDINARY_URL with `upload_prefix` for the APIs (the
// SDK picks http or https from it when it is first loaded, so it is loaded after the server
// starts), and `secure_distribution` for delivery URLs. The Node SDK always builds https URLs;
// in production a TLS proxy fronts Kino, here `download` talks plain HTTP to the same host.
// KINO_BIN names the server binary (default: target/debug/kino).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MEDIA = process.env.KINO_MEDIA_DIR || '/work/shared/media';
export const CLOUD = 'demo';
export const API_KEY = '123456789012345';
export const API_SECRET = randomBytes(15).toString('base64url');

export async function startKino() {
  const bin = process.env.KINO_BIN || join(REPO, 'target', 'debug', 'kino');
  const dir = mkdtempSync(join(tmpdir(), 'kino-node-'));
  const env = { ...process.env, CLOUDINARY_URL: `cloudinary://${API_KEY}:${API_SECRET}@${CLOUD}` };
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--rtmp-listen', '', '--srt-listen', '',
    '--data-dir', join(dir, 'data')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log = (log + d).slice(-20000); });
  const base = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`kino did not start:\n${log}`)), 60000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/kino listening on (http:\/\/127\.0\.0\.1:(\d+))/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    child.on('exit', (code) => fail(new Error(`kino exited (${code}):\n${log}`)));
  });
  process.env.CLOUDINARY_URL = `cloudinary://${API_KEY}:${API_SECRET}@${CLOUD}?upload_prefix=${base}`;
  const { v2: cloudinary } = await import('cloudinary');
  cloudinary.config({ secure_distribution: base.replace('http://', ''), private_cdn: false });
  return {
    base, dir, cloudinary, log: () => log,
    stop() { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); },
  };
}

export function unique(prefix) {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/** GETs a delivery URL; `https://127.0.0.1:…` (the SDK's secure URL) is fetched over HTTP. */
export async function download(url, headers = {}) {
  const plain = url.replace(/^https:\/\/127\.0\.0\.1:/, 'http://127.0.0.1:');
  const r = await fetch(plain, { headers });
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
}

/** ffprobe's JSON for media bytes. */
export function probe(bytes, dir) {
  const path = join(dir, `probe-${randomBytes(4).toString('hex')}`);
  writeFileSync(path, bytes);
  const out = execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format',
    '-show_streams', path]);
  return JSON.parse(out.toString());
}

export function media(name) {
  return join(MEDIA, name);
}

export function bytesOf(path) {
  return readFileSync(path);
}
