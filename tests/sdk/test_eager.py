"""Eager transformations through the official SDK: made during ``upload`` and ``explicit``,
listed in the response with their URLs, stored as derived files."""

import cloudinary.api as api
import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
import requests


def test_eager_on_upload_makes_and_lists_the_derived_files(server, media, unique, download,
                                                          probe, tmp_path):
    # Arrange
    pid = unique("img")

    # Act
    result = uploader.upload(str(media("photo-denali.webp")), public_id=pid,
                             eager=[{"width": 100, "crop": "scale"},
                                    {"width": 50, "crop": "scale", "format": "png"}])

    # Assert: the response lists both, with sizes and working URLs
    eager = result["eager"]
    assert [e["transformation"] for e in eager] == ["c_scale,w_100", "c_scale,w_50"]
    assert [(e["width"], e["format"]) for e in eager] == [(100, "webp"), (50, "png")]
    for e in eager:
        body = download(e["secure_url"])
        assert len(body) == e["bytes"]
    png = requests.get(eager[1]["url"], timeout=60)
    assert png.headers["Content-Type"] == "image/png"
    assert len(api.resource(pid)["derived"]) == 2


def test_eager_on_explicit_for_a_video(server, media, unique, probe, tmp_path, download):
    # Arrange
    pid = unique("vid")
    uploader.upload(str(media("portrait-720x1080-h264-aac.mp4")), public_id=pid,
                    resource_type="video")

    # Act
    result = uploader.explicit(pid, type="upload", resource_type="video",
                               eager=[{"width": 160, "crop": "scale", "format": "mp4"}])

    # Assert
    made = result["eager"][0]
    assert (made["width"], made["height"], made["format"]) == (160, 240, "mp4")
    out = tmp_path / "e.mp4"
    out.write_bytes(download(made["url"]))
    video = next(s for s in probe(out)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (160, 240)


def test_a_bad_eager_transformation_stores_nothing(server, media, unique):
    pid = unique("img")
    with pytest.raises(cloudinary.exceptions.BadRequest) as err:
        uploader.upload(str(media("photo-denali.webp")), public_id=pid,
                        eager=[{"width": "abc"}])
    assert "Invalid eager transformation" in str(err.value)
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.resource(pid)
