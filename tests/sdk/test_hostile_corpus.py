"""A corpus of hostile and broken media, uploaded through the official SDK and then
transformed: truncated and bit-flipped copies of real files, wrong extensions, empty and random
files, decompression bombs and a video whose timestamps jump three hours (an endless stream for
anything that fills gaps). Every answer must be media or a clear 4xx JSON error, the server
must keep serving, and its memory must stay bounded (the decoding happens in worker processes)."""
import json
import random
import struct
import subprocess
import zlib

import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
import requests
from cloudinary.utils import cloudinary_url

import conftest
from conftest import KINO_BIN, Server

SOURCES = ["portrait-720x1080-h264-aac.mp4", "mkv-h264-ac3-srt.mkv",
           "webm-vp9-opus-chrome-mediarecorder-noduration.webm", "exif-orient-1.jpg",
           "alpha-balloon.png", "photo-denali.webp", "anim-rotating-earth.gif",
           "opus-bear.opus", "t-rex-roar.mp3"]

MAGIC = {"mp4": lambda b: b[4:8] == b"ftyp", "jpg": lambda b: b[:2] == b"\xff\xd8",
         "png": lambda b: b[:4] == b"\x89PNG", "mp3": lambda b: b[:3] == b"ID3" or b[0] == 0xFF}


@pytest.fixture(scope="module")
def tight(server, tmp_path_factory):
    """A server with tight limits, so the endless cases end in seconds."""
    srv = Server(KINO_BIN, tmp_path_factory.mktemp("kino-hostile"), extra_env={
        "KINO_ISOLATION__MAX_TRANSFORM_SECONDS": "20",
        "KINO_ISOLATION__MAX_SECONDS": "20",
        "KINO_LIMITS__MAX_OUTPUT_BYTES": str(40 * 1024 * 1024),
    })
    srv.start()
    srv.configure_sdk()
    previous, conftest._current_server = conftest._current_server, srv
    yield srv
    conftest._current_server = previous
    srv.stop()
    server.configure_sdk()


def png_claiming(width, height):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\0" * 65536, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def gif_claiming(width, height):
    return (b"GIF89a" + struct.pack("<HH", width, height) + b"\x80\x00\x00" + b"\x00" * 6
            + b"," + struct.pack("<HHHH", 0, 0, width, height) + b"\x00\x02\x02\x44\x01\x00;")


def jpeg_claiming(jpeg, width, height):
    """A real JPEG whose frame header (SOF0) claims other dimensions."""
    at = jpeg.find(b"\xff\xc0")
    return jpeg[:at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9:]


def corpus(media, tmp_path):
    rng = random.Random(20261129)
    items = []

    def add(name, data):
        path = tmp_path / name
        path.write_bytes(data)
        items.append(path)

    for source in SOURCES:
        data = media(source).read_bytes()
        stem, ext = source.rsplit(".", 1)
        add(f"{stem}-half.{ext}", data[:len(data) // 2])
        add(f"{stem}-2k.{ext}", data[:2048])
        flipped = bytearray(data)
        for _ in range(64):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        add(f"{stem}-flipped.{ext}", bytes(flipped))
        header = bytearray(data)
        for _ in range(16):
            header[rng.randrange(min(512, len(header)))] = rng.randrange(256)
        add(f"{stem}-header.{ext}", bytes(header))
        zeroed = bytearray(data)
        mid = len(zeroed) // 3
        zeroed[mid:mid + len(zeroed) // 4] = bytes(len(zeroed) // 4)
        add(f"{stem}-zeroed.{ext}", bytes(zeroed))
        add(f"{stem}-wrong.{'jpg' if ext in ('mp4', 'mkv', 'webm', 'opus', 'mp3') else 'mp4'}",
            data)
    add("empty.mp4", b"")
    add("random.mp4", rng.randbytes(100_000))
    add("random.jpg", rng.randbytes(100_000))
    add("bomb.png", png_claiming(100_000, 100_000))
    add("bomb.gif", gif_claiming(65_535, 65_535))
    add("bomb.jpg", jpeg_claiming(media("exif-orient-1.jpg").read_bytes(), 65_000, 65_000))
    gap = tmp_path / "gap.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=10", "-frames:v", "20",
                    "-vf", "setpts='if(gt(N,10),PTS+10800/TB,PTS)'", "-fps_mode", "passthrough",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    str(gap)], check=True)
    items.append(gap)
    return items


def outcome(url, ext):
    """'media', 'error <status>' for a clear JSON error, or 'cut' for a response stopped by a
    limit after it started streaming; anything else fails the test."""
    response = requests.get(url, timeout=120, stream=True)
    if response.status_code == 200:
        try:
            body = response.content
        except requests.exceptions.ChunkedEncodingError:
            return "cut"
        assert MAGIC[ext](body), f"{url}: 200 but not {ext}: {body[:16]!r}"
        return "media"
    assert 400 <= response.status_code < 500, f"{response.url}: {response.status_code} {response.text}"
    message = response.json()["error"]["message"]
    assert message and message != "Internal server error", response.text
    assert response.headers.get("X-Cld-Error"), response.headers
    return f"error {response.status_code}"


def peak_rss_mb(srv):
    with open(f"/proc/{srv.proc.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_every_hostile_file_gets_media_or_a_clear_error(tight, media, tmp_path, unique):
    items = corpus(media, tmp_path)
    pid_before, rss_before = tight.proc.pid, peak_rss_mb(tight)
    results = {}
    for path in items:
        pid = unique(path.stem)
        try:
            asset = uploader.upload(str(path), public_id=pid, resource_type="auto")
        except cloudinary.exceptions.BadRequest as e:
            assert str(e), path
            results[path.name] = ["refused"]
            continue
        if asset["resource_type"] == "raw":
            # Not media by its content: kept as a file, never decoded. Declared as media, it
            # is refused with a reason.
            declared = "image" if path.suffix in (".jpg", ".png", ".webp", ".gif") else "video"
            with pytest.raises(cloudinary.exceptions.BadRequest) as refused:
                uploader.upload(str(path), public_id=unique("declared"), resource_type=declared)
            assert str(refused.value), path
            results[path.name] = ["raw"]
            continue
        if asset["resource_type"] == "image":
            asks = [("png", {"width": 100, "crop": "scale"})]
        elif asset.get("width"):
            asks = [("mp4", {"width": 160, "crop": "scale", "fps": 25}),
                    ("jpg", {"width": 100, "crop": "scale", "start_offset": 1})]
        else:
            asks = [("mp3", {"effect": "volume:50"})]
        got = []
        for ext, tx in asks:
            url = cloudinary_url(pid, resource_type=asset["resource_type"], format=ext,
                                 transformation=tx)[0]
            got.append(outcome(url, ext))
        results[path.name] = got
        assert requests.get(f"{tight.base_url}/healthz", timeout=10).status_code == 200

    print(json.dumps(results, indent=1))
    print(f"server peak RSS {rss_before:.0f} MB before the corpus, {peak_rss_mb(tight):.0f} MB after")
    assert tight.proc.poll() is None and tight.proc.pid == pid_before, "the server lives"
    assert peak_rss_mb(tight) - rss_before < 300, "the server's memory stays bounded"
    # The bombs never got in; some broken files were refused, some made into media.
    for bomb in ("bomb.png", "bomb.gif", "bomb.jpg"):
        assert results[bomb] == ["refused"], (bomb, results[bomb])
    # The three-hour gap filled at 25 fps is more work than the 20 s a transformation may
    # take: the stream is stopped (the frame taken from it is fine).
    assert results["gap.mp4"] == ["cut", "media"], results["gap.mp4"]
    cut = [name for name, rs in results.items() if "cut" in rs]
    assert cut == ["gap.mp4"], cut
    flat = [r for rs in results.values() for r in rs]
    assert {"refused", "raw", "media"} <= set(flat), flat
