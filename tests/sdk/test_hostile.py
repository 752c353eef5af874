"""Hostile pictures through the official SDK, with the server's memory watched: a
decompression bomb is refused from its header, before any decoder allocates it, and a picture
just under the pixel limit is transformed with memory in proportion to it."""

import subprocess
import zlib
import struct

import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
import requests


def peak_rss_mb(server):
    """The server process's peak resident memory (VmHWM), in MB."""
    with open(f"/proc/{server.proc.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def png_claiming(width, height):
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_a_bomb_is_refused_before_it_costs_memory(server, unique, tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_claiming(60_000, 60_000))
    before = peak_rss_mb(server)

    with pytest.raises(cloudinary.exceptions.BadRequest) as err:
        uploader.upload(str(bomb), public_id=unique("bomb"))

    assert "Resolution too large" in str(err.value)
    assert peak_rss_mb(server) - before < 50, "no decoder allocated the picture"
    assert requests.get(f"{server.base_url}/healthz", timeout=10).status_code == 200


def test_a_big_picture_costs_memory_in_proportion(server, unique, tmp_path, download):
    # 8000 x 6000 = 48 megapixels of one colour: a 100 KB file, 144 MB as RGB.
    big = tmp_path / "big.jpg"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "color=c=0x336699:s=8000x6000", "-frames:v", "1", "-q:v", "8", str(big)],
                   check=True)
    pid = unique("big")
    before = peak_rss_mb(server)

    result = uploader.upload(str(big), public_id=pid)
    thumb = download(result["secure_url"].replace("/upload/", "/upload/w_400/"))

    assert (result["width"], result["height"]) == (8000, 6000)
    assert thumb[:2] == b"\xff\xd8"
    grew = peak_rss_mb(server) - before
    assert grew < 400, f"peak memory grew by {grew:.0f} MB for a 48 MP picture"
