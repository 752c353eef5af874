"""sprite through the official SDK: the pictures carrying a tag stacked into one PNG, each at
its own size, with a CSS class and a JSON entry per picture that point at its place; the
parts cut back out of the sprite are the pictures. A tag without pictures is a 404."""
import subprocess
import uuid

import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
import requests


def _rgba(path, crop=None):
    vf = ["-vf", f"crop={crop}"] if crop else []
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), *vf, "-f", "rawvideo",
                           "-pix_fmt", "rgba", "-"], capture_output=True, check=True).stdout


def test_a_tag_becomes_a_sprite_with_css_and_json(server, media, probe, tmp_path):
    tag = f"sprite-{uuid.uuid4().hex[:8]}"
    uploader.upload(str(media("alpha-balloon.png")), public_id=f"{tag}-a", tags=[tag])  # 150x150
    uploader.upload(str(media("photo-denali.webp")), public_id=f"{tag}-b", tags=[tag])  # 600x315
    made = uploader.generate_sprite(tag, width=100, crop="scale")
    infos = made["image_infos"]
    assert infos[f"{tag}-a"] == {"x": 0, "y": 0, "width": 100, "height": 100}
    assert infos[f"{tag}-b"] == {"x": 0, "y": 100, "width": 100, "height": 53}

    got = requests.get(made["secure_image_url"], timeout=60)
    assert got.status_code == 200
    (tmp_path / "sprite.png").write_bytes(got.content)
    stream = probe(tmp_path / "sprite.png")["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("png", 100, 153)
    # The balloon's corner is transparent in the original and in the sprite.
    assert _rgba(tmp_path / "sprite.png", "1:1:0:0")[3] == 0
    # The second picture is opaque where it sits.
    assert _rgba(tmp_path / "sprite.png", "1:1:50:120")[3] == 255

    css = requests.get(made["secure_css_url"], timeout=60)
    assert css.status_code == 200
    assert f".{tag}-b {{" in css.text and "background-position: -0px -100px" in css.text
    assert made["image_url"].split("://")[1] in css.text
    listed = requests.get(made["secure_json_url"], timeout=60).json()
    assert listed["image_infos"] == infos


def test_a_sprite_of_nothing_is_refused(server):
    with pytest.raises(cloudinary.exceptions.NotFound, match="No pictures are tagged"):
        uploader.generate_sprite(f"none-{uuid.uuid4().hex[:8]}")
