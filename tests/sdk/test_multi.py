"""multi through the official SDK: the pictures carrying a tag become one animated GIF (or a
video) of type ``multi`` whose public id is the tag, frames in public id order, each fitted
into the first picture's size and shown for the ``dl_`` delay. A tag without pictures, urls
and formats that are not animations are clear 4xx errors."""
import re
import subprocess
import uuid

import cloudinary.api as api
import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
import requests


@pytest.fixture(scope="module")
def tagged(server, media):
    tag = f"multi-{uuid.uuid4().hex[:8]}"
    for name, source in [("a", "photo-denali.webp"), ("b", "alpha-balloon.png"),
                         ("c", "exif-orient-1.jpg")]:
        uploader.upload(str(media(source)), public_id=f"{tag}-{name}", tags=[tag])
    return tag


def _frames(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                          "-show_entries", "stream=nb_read_frames,width,height,codec_name",
                          "-show_entries", "format=duration", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    import json
    return json.loads(out)


def test_a_tag_becomes_an_animated_gif(tagged, tmp_path):
    result = uploader.multi(tagged, transformation={"width": 120, "crop": "scale"}, delay=250)
    assert result["public_id"] == tagged and result["type"] == "multi"
    assert "/image/multi/" in result["secure_url"] and result["format"] == "gif"
    got = requests.get(result["secure_url"], timeout=120)
    assert got.status_code == 200, got.headers.get("X-Cld-Error")
    (tmp_path / "multi.gif").write_bytes(got.content)
    info = _frames(tmp_path / "multi.gif")
    stream = info["streams"][0]
    # The first picture (denali, 600x315) scaled to 120 wide sets the size; three frames.
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("gif", 120, 62)
    assert int(stream["nb_read_frames"]) == 3
    assert 0.6 <= float(info["format"]["duration"]) <= 0.9
    listed = api.resources(type="multi", max_results=500)["resources"]
    assert tagged in [r["public_id"] for r in listed]


def test_a_tag_becomes_a_video(tagged, tmp_path):
    result = uploader.multi(tagged, format="mp4", public_id=f"{tagged}-video", delay=1000)
    assert result["resource_type"] == "video" and result["format"] == "mp4"
    got = requests.get(result["secure_url"], timeout=120)
    assert got.status_code == 200
    (tmp_path / "multi.mp4").write_bytes(got.content)
    info = _frames(tmp_path / "multi.mp4")
    assert info["streams"][0]["codec_name"] == "h264"
    assert 2.5 <= float(info["format"]["duration"]) <= 3.5, info


def test_a_tag_becomes_a_pdf(tagged, tmp_path, probe):
    result = uploader.multi(tagged, format="pdf", public_id=f"{tagged}-pdf",
                            transformation={"width": 200, "crop": "scale"})
    assert (result["resource_type"], result["format"], result["type"]) == ("image", "pdf", "multi")
    got = requests.get(result["secure_url"], timeout=120)
    assert got.status_code == 200 and got.headers["Content-Type"] == "application/pdf"
    pdf = got.content
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    # One page per picture, in public id order, each as wide as the transformation says.
    assert pdf.count(b"/Type /Page ") == 3 and b"/Count 3" in pdf
    boxes = re.findall(rb"/MediaBox \[0 0 (\d+) (\d+)\]", pdf)
    assert [int(w) for w, _ in boxes] == [200, 200, 200], boxes
    # Every cross-reference entry points at its object.
    start = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    entries = pdf[start:].split(b"\n")[3:3 + 11]
    for number, entry in enumerate(entries, start=1):
        offset = int(entry[:10])
        assert pdf[offset:].startswith(b"%d 0 obj" % number), (number, offset)
    # The page pictures are JPEGs that decode at the page's size.
    pictures = re.findall(rb"/Filter /DCTDecode /Length (\d+) >>\nstream\n", pdf)
    assert len(pictures) == 3
    first = pdf.index(b"stream\n", pdf.index(b"/DCTDecode")) + len(b"stream\n")
    (tmp_path / "page1.jpg").write_bytes(pdf[first:first + int(pictures[0])])
    stream = probe(tmp_path / "page1.jpg")["streams"][0]
    assert (stream["codec_name"], stream["width"]) == ("mjpeg", 200)
    assert (stream["height"], ) == (int(boxes[0][1]), )


def test_multi_refuses_what_it_cannot_make(tagged, unique):
    with pytest.raises(cloudinary.exceptions.NotFound, match="No pictures are tagged"):
        uploader.multi(unique("nothing-tagged"))
    with pytest.raises(cloudinary.exceptions.BadRequest, match="not jpg"):
        uploader.multi(tagged, format="jpg")
    with pytest.raises(cloudinary.exceptions.BadRequest, match="urls"):
        uploader.multi(urls=["http://example.com/a.png"])
