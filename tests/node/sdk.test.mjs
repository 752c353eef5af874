// The official Node SDK against Kino: the same upload, admin and delivery round trips as the
// Python suite, plus what only Node has (upload_stream, upload_large's chunking).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CLOUD, bytesOf, download, media, probe, sha256, startKino, unique,
} from './kino.mjs';

let kino;
let cloudinary;
before(async () => {
  kino = await startKino();
  ({ cloudinary } = kino);
});
after(() => kino?.stop());

/** The promise's rejection (the SDK rejects with `{ error: { message, http_code } }`). */
async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e.error || e;
  }
  assert.fail('expected the call to be refused');
}

describe('upload', () => {
  test('an image round-trips byte for byte', async () => {
    const path = media('alpha-balloon.png');
    const pid = unique('node-img');
    const r = await cloudinary.uploader.upload(path, { public_id: pid, tags: ['node', 'kino'] });
    assert.equal(r.public_id, pid);
    assert.equal(r.resource_type, 'image');
    assert.equal(r.format, 'png');
    assert.equal(r.type, 'upload');
    assert.deepEqual([...r.tags].sort(), ['kino', 'node']);
    assert.ok(r.width > 0 && r.height > 0);
    assert.match(r.etag, /^[0-9a-f]{32}$/);
    const got = await download(r.secure_url);
    assert.equal(got.status, 200);
    assert.equal(sha256(got.body), sha256(bytesOf(path)));
  });

  test('a video is probed and transformed by URL', async () => {
    const pid = unique('node-video');
    const r = await cloudinary.uploader.upload(media('portrait-720x1080-h264-aac.mp4'), {
      public_id: pid, resource_type: 'video',
    });
    assert.equal(r.resource_type, 'video');
    assert.equal(r.width, 720);
    assert.ok(r.duration > 0);
    const url = cloudinary.url(pid, {
      resource_type: 'video', format: 'mp4',
      transformation: [{ width: 160, crop: 'scale' }, { effect: 'volume:mute' }],
    });
    const host = kino.base.replace('http://', '');
    assert.ok(url.startsWith(`https://${host}/${CLOUD}/video/upload/c_scale,w_160/e_volume:mute/`), url);
    const got = await download(url);
    assert.equal(got.status, 200);
    const info = probe(got.body, kino.dir);
    const video = info.streams.find((s) => s.codec_type === 'video');
    assert.equal(video.width, 160);
    assert.equal(info.streams.filter((s) => s.codec_type === 'audio').length, 0);
  });

  test('upload_stream takes a stream', async () => {
    const path = media('exif-orient-1.jpg');
    const pid = unique('node-stream');
    const r = await new Promise((ok, fail) => {
      const sink = cloudinary.uploader.upload_stream({ public_id: pid }, (e, res) => (e ? fail(e) : ok(res)));
      Readable.from([bytesOf(path)]).pipe(sink);
    });
    assert.equal(r.public_id, pid);
    assert.equal(r.format, 'jpg');
    assert.equal(r.bytes, bytesOf(path).length);
  });

  test('upload_large sends chunks that become one file', async () => {
    const path = join(kino.dir, 'large.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25',
      '-t', '8', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '12M', '-pix_fmt', 'yuv420p', path]);
    const size = bytesOf(path).length;
    assert.ok(size > 4 * 1024 * 1024, `${size} bytes make three chunks`);
    const pid = unique('node-large');
    const r = await new Promise((ok, fail) => {
      cloudinary.uploader.upload_large(path, { public_id: pid, resource_type: 'video', chunk_size: 2 * 1024 * 1024 },
        (e, res) => (e ? fail(e) : ok(res)));
    });
    assert.equal(r.public_id, pid);
    assert.equal(r.bytes, size);
    assert.equal(r.width, 640);
    const got = await download(r.secure_url);
    assert.equal(sha256(got.body), sha256(bytesOf(path)));
  });

  test('a wrong signature is refused with the SDK error shape', async () => {
    const e = await rejection(cloudinary.uploader.upload(media('alpha-balloon.png'), {
      public_id: unique('node-bad'), api_secret: 'not-the-secret',
    }));
    assert.equal(e.http_code, 401);
    assert.match(e.message, /Invalid Signature/);
  });

  test('an unsigned preset uploads without a signature', async () => {
    const name = unique('node-preset');
    await cloudinary.api.create_upload_preset({ name, unsigned: true, folder: 'node-unsigned' });
    const r = await cloudinary.uploader.unsigned_upload(media('alpha-balloon.png'), name);
    assert.ok(r.public_id.startsWith('node-unsigned/'), r.public_id);
    await cloudinary.api.delete_upload_preset(name);
  });
});

describe('admin', () => {
  test('listing pages with next_cursor, details, tags, rename and destroy', async () => {
    const prefix = unique('node-list');
    for (const i of [0, 1, 2]) {
      await cloudinary.uploader.upload(media('alpha-balloon.png'), { public_id: `${prefix}/${i}` });
    }
    const first = await cloudinary.api.resources({ type: 'upload', prefix, max_results: 2 });
    assert.equal(first.resources.length, 2);
    assert.ok(first.next_cursor);
    const second = await cloudinary.api.resources({ type: 'upload', prefix, max_results: 2, next_cursor: first.next_cursor });
    const ids = [...first.resources, ...second.resources].map((r) => r.public_id).sort();
    assert.deepEqual(ids, [`${prefix}/0`, `${prefix}/1`, `${prefix}/2`]);

    const pid = `${prefix}/0`;
    await cloudinary.uploader.add_tag('node-tagged', [pid]);
    const tagged = await cloudinary.api.resources_by_tag('node-tagged');
    assert.ok(tagged.resources.some((r) => r.public_id === pid));
    const details = await cloudinary.api.resource(pid);
    assert.deepEqual(details.tags, ['node-tagged']);
    assert.ok(Array.isArray(details.derived));

    const renamed = await cloudinary.uploader.rename(pid, `${prefix}/renamed`);
    assert.equal(renamed.public_id, `${prefix}/renamed`);
    assert.equal((await cloudinary.uploader.destroy(`${prefix}/renamed`)).result, 'ok');
    const e = await rejection(cloudinary.api.resource(`${prefix}/renamed`));
    assert.equal(e.http_code, 404);
    assert.match(e.message, /Resource not found/);
  });

  test('named transformations are created, used by URL and deleted', async () => {
    const name = unique('node-thumb');
    await cloudinary.api.create_transformation(name, { width: 48, height: 48, crop: 'fill' });
    const shown = await cloudinary.api.transformation(name);
    assert.equal(shown.name, name);
    const pid = unique('node-named');
    await cloudinary.uploader.upload(media('alpha-balloon.png'), { public_id: pid });
    const got = await download(cloudinary.url(pid, { transformation: name, format: 'png' }));
    assert.equal(got.status, 200);
    const info = probe(got.body, kino.dir);
    assert.equal(info.streams[0].width, 48);
    assert.equal(info.streams[0].height, 48);
    assert.equal((await cloudinary.api.delete_transformation(name)).message, 'deleted');
  });

  test('explicit makes eager derived files', async () => {
    const pid = unique('node-eager');
    await cloudinary.uploader.upload(media('alpha-balloon.png'), { public_id: pid });
    const r = await cloudinary.uploader.explicit(pid, { type: 'upload', eager: [{ width: 30, crop: 'scale', format: 'jpg' }] });
    assert.equal(r.eager.length, 1);
    assert.equal(r.eager[0].transformation, 'c_scale,w_30');
    assert.equal(r.eager[0].format, 'jpg');
    const got = await download(r.eager[0].secure_url);
    assert.equal(got.status, 200);
    assert.equal(probe(got.body, kino.dir).streams[0].width, 30);
  });

  test('streaming profiles and usage answer', async () => {
    const profiles = await cloudinary.api.list_streaming_profiles();
    assert.ok(profiles.data.some((p) => p.name === 'hd'));
    const usage = await cloudinary.api.usage();
    assert.ok(usage.resources >= 1);
    assert.equal((await cloudinary.api.ping()).status, 'ok');
  });
});

describe('search', () => {
  test('the search builder finds by tags and comparisons, pages and aggregates', async () => {
    const tag = unique('node-search');
    for (const [i, file] of [[0, 'alpha-balloon.png'], [1, 'alpha-balloon.png'], [2, 'exif-orient-1.jpg']]) {
      await cloudinary.uploader.upload(media(file), { public_id: `${tag}/${i}`, tags: [tag] });
    }
    const first = await cloudinary.search.expression(`tags:${tag} AND format:png`)
      .sort_by('public_id', 'asc').max_results(1).execute();
    assert.equal(first.total_count, 2);
    assert.deepEqual(first.resources.map((r) => r.public_id), [`${tag}/0`]);
    const second = await cloudinary.search.expression(`tags:${tag} AND format:png`)
      .sort_by('public_id', 'asc').max_results(1).next_cursor(first.next_cursor).execute();
    assert.deepEqual(second.resources.map((r) => r.public_id), [`${tag}/1`]);
    assert.equal(second.next_cursor, undefined);
    const counted = await cloudinary.search.expression(`tags:${tag}`).aggregate('format').max_results(0).execute();
    assert.deepEqual(counted.aggregations.format, { png: 2, jpg: 1 });
    const e = await rejection(cloudinary.search.expression('colour:red').execute());
    assert.equal(e.http_code, 400);
    assert.match(e.message, /unknown field "colour"/);
  });
});

describe('delivery', () => {
  test('a private original needs the signed URL the SDK builds', async () => {
    const pid = unique('node-private');
    const path = media('alpha-balloon.png');
    await cloudinary.uploader.upload(path, { public_id: pid, type: 'private' });
    const unsigned = await download(cloudinary.url(pid, { type: 'private', format: 'png' }));
    assert.equal(unsigned.status, 401);
    assert.ok(unsigned.headers.get('x-cld-error'));
    const signed = cloudinary.url(pid, { type: 'private', format: 'png', sign_url: true });
    assert.match(signed, /\/s--[A-Za-z0-9_-]{8}--\//);
    const got = await download(signed);
    assert.equal(got.status, 200);
    assert.equal(sha256(got.body), sha256(bytesOf(path)));
  });

  test('an adaptive stream from a streaming profile', async () => {
    const pid = unique('node-hls');
    await cloudinary.uploader.upload(media('portrait-720x1080-h264-aac.mp4'), { public_id: pid, resource_type: 'video' });
    const url = cloudinary.url(pid, { resource_type: 'video', streaming_profile: 'sd', format: 'm3u8' });
    assert.ok(url.includes('/sp_sd/'), url);
    const got = await download(url);
    assert.equal(got.status, 200);
    const text = got.body.toString();
    assert.ok(text.startsWith('#EXTM3U'));
    assert.ok(text.includes('#EXT-X-STREAM-INF'));
  });
});
