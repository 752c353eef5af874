"""Conditional transformations and variables in URLs the official SDK builds: ``if`` blocks
with ``if_else``/``if_end`` and inline conditions chosen by the asset's size, duration and
tags; ``variables`` and arithmetic (``iw / 4``) as parameter values; on pictures and videos.
Malformed conditions and unset variables are clear 400s."""
import subprocess

import cloudinary.uploader as uploader
import pytest
import requests
from cloudinary.utils import cloudinary_url


@pytest.fixture(scope="module")
def assets(server, media):
    import uuid
    suffix = uuid.uuid4().hex[:8]
    wide = uploader.upload(str(media("photo-denali.webp")), public_id=f"wide-{suffix}",
                           tags=["sale"])  # 600x315
    square = uploader.upload(str(media("alpha-balloon.png")), public_id=f"square-{suffix}")
    clip = uploader.upload(str(media("landscape-540p-h264-aac-flower.mp4")),
                           public_id=f"clip-{suffix}", resource_type="video")  # 960x540, 5 s
    return wide["public_id"], square["public_id"], clip["public_id"]


def _probe(url, probe, tmp_path, name):
    got = requests.get(url, timeout=120)
    assert got.status_code == 200, (url, got.headers.get("X-Cld-Error"))
    path = tmp_path / name
    path.write_bytes(got.content)
    return probe(path)


def _is_gray(path):
    """Every decoded pixel has equal red, green and blue (within rounding)."""
    rgb = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return all(max(rgb[i:i + 3]) - min(rgb[i:i + 3]) <= 2 for i in range(0, len(rgb), 3))


def _size(info):
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    return video["width"], video["height"]


def test_if_blocks_choose_by_the_assets_shape(assets, probe, tmp_path):
    wide, square, _ = assets
    chain = [{"if": "aspect_ratio > 1.2", "width": 100, "crop": "scale"},
             {"if": "else", "width": 40, "crop": "scale"},
             {"if": "end"}]
    url = cloudinary_url(wide, format="png", transformation=chain)[0]
    assert "/if_ar_gt_1.2,c_scale,w_100/if_else,c_scale,w_40/if_end/" in url
    assert _size(_probe(url, probe, tmp_path, "wide.png"))[0] == 100
    url = cloudinary_url(square, format="png", transformation=chain)[0]
    assert _size(_probe(url, probe, tmp_path, "square.png")) == (40, 40)


def test_inline_conditions_and_tags(assets, probe, tmp_path):
    wide, square, _ = assets
    chain = [{"width": 80, "crop": "scale"},
             {"if": "!sale!_in_tags", "effect": "grayscale"},
             {"if": "width < 200", "height": 30, "width": 30, "crop": "fill"}]
    info = _probe(cloudinary_url(wide, format="png", transformation=chain)[0], probe, tmp_path,
                  "tagged.png")
    # Conditions see the source's size: 600 wide, so the fill (width < 200) is skipped; the
    # picture is tagged sale, so the grayscale applies. The square is 150 wide and untagged.
    assert _size(info) == (80, 42)
    assert _is_gray(tmp_path / "tagged.png")
    info = _probe(cloudinary_url(square, format="png", transformation=chain)[0], probe,
                  tmp_path, "untagged.png")
    assert _size(info) == (30, 30)
    assert not _is_gray(tmp_path / "untagged.png")


def test_variables_and_arithmetic(assets, probe, tmp_path):
    wide, _, _ = assets
    url = cloudinary_url(wide, format="png", variables=[["$side", "24"]],
                         width="$side", height="$side_mul_2", crop="fill")[0]
    assert "$side_24" in url
    assert _size(_probe(url, probe, tmp_path, "var.png")) == (24, 48)
    url = cloudinary_url(wide, format="png", width="iw / 4", crop="scale")[0]
    assert "w_iw_div_4" in url
    assert _size(_probe(url, probe, tmp_path, "quarter.png"))[0] == 150


def test_conditions_on_a_video(assets, probe, tmp_path):
    _, _, clip = assets
    url = cloudinary_url(clip, resource_type="video", format="mp4", transformation=[
        {"if": "duration > 4 && width > 900", "duration": 2},
        {"width": "iw / 3", "crop": "scale"}])[0]
    info = _probe(url, probe, tmp_path, "clip.mp4")
    assert _size(info) == (320, 180)
    assert 1.8 <= float(info["format"]["duration"]) <= 2.3
    url = cloudinary_url(clip, resource_type="video", format="mp4", transformation=[
        {"if": "duration > 60", "duration": 1}, {"width": 160, "crop": "scale"}])[0]
    assert float(_probe(url, probe, tmp_path, "whole.mp4")["format"]["duration"]) > 4.5


@pytest.mark.parametrize("transformation, says", [
    ("if_w_bigger_100,w_50", '"bigger" is not an operator'),
    ("c_scale,w_$nope", "variable $nope is used before it is set"),
    ("if_w_gt_100/w_50/if_else/w_20", "not closed with if_end"),
    ("if_fc_gt_1,w_50", "not supported"),
])
def test_malformed_conditions_and_variables_are_400s(assets, server, transformation, says):
    wide, _, _ = assets
    url = f"{server.base_url}/{server.cloud}/image/upload/{transformation}/{wide}.png"
    got = requests.get(url, timeout=60)
    assert got.status_code == 400
    assert says in got.json()["error"]["message"]
    assert says in got.headers["X-Cld-Error"]
