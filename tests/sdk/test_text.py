"""text through the official SDK: a picture of a text in a bundled font, sized to the text,
transparent or on a background colour, kept as an asset of type ``text``. Empty text, absurd
sizes and bad colours are clear 400s."""
import subprocess

import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
import requests


def _rgba(path):
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo",
                           "-pix_fmt", "rgba", "-"], capture_output=True, check=True).stdout


def test_a_text_becomes_a_picture_sized_to_it(server, unique, probe, tmp_path):
    short = uploader.text("Hi", public_id=unique("hi"), font_family="Arial", font_size=40,
                          font_color="red")
    assert short["type"] == "text" and short["format"] == "png"
    longer = uploader.text("Hello, Kino!", public_id=unique("hello"), font_size=40,
                           font_color="red", font_weight="bold")
    assert longer["width"] > 3 * short["width"]
    assert short["height"] == longer["height"] and 40 <= short["height"] <= 60

    got = requests.get(short["secure_url"], timeout=60)
    assert got.status_code == 200
    (tmp_path / "hi.png").write_bytes(got.content)
    assert probe(tmp_path / "hi.png")["streams"][0]["width"] == short["width"]
    pixels = _rgba(tmp_path / "hi.png")
    alphas = pixels[3::4]
    assert min(alphas) == 0, "a transparent background"
    reds = [pixels[i:i + 4] for i in range(0, len(pixels), 4) if pixels[i + 3] == 255]
    assert reds and all(p[0] > 200 and p[1] < 60 and p[2] < 60 for p in reds), "red text"


def test_a_background_colour_fills_the_picture(server, unique, tmp_path):
    made = uploader.text("Ok", public_id=unique("ok"), font_size=30, font_color="white",
                         background="blue")
    got = requests.get(made["secure_url"], timeout=60)
    (tmp_path / "ok.png").write_bytes(got.content)
    pixels = _rgba(tmp_path / "ok.png")
    assert pixels[:4] == bytes([0, 0, 255, 255]), "the corner is the background"


@pytest.mark.parametrize("text, options, says", [
    ("", {}, "text"),
    ("x", {"font_size": 100000}, "font_size"),
    ("x", {"font_color": "notacolour"}, "font_color"),
    ("W" * 900, {"font_size": 400}, "over the maximum"),
])
def test_bad_text_requests_are_refused(server, unique, text, options, says):
    with pytest.raises(cloudinary.exceptions.BadRequest, match=says):
        uploader.text(text, public_id=unique("bad"), **options)
