"""Incoming transformations through the official SDK: an upload's ``transformation`` (or its
top-level ``width``/``crop``… options) and ``format`` change the file before it is stored, for
pictures and videos; what is stored, listed and delivered is the transformed file. A bad
transformation is a clear 400 and nothing is stored."""
import cloudinary.api as api
import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
import requests
from cloudinary.utils import cloudinary_url


def _stored(public_id, fmt, tmp_path, probe, resource_type="image"):
    got = requests.get(cloudinary_url(public_id, format=fmt, resource_type=resource_type)[0],
                       timeout=60)
    assert got.status_code == 200, got.headers.get("X-Cld-Error")
    path = tmp_path / f"stored.{fmt}"
    path.write_bytes(got.content)
    return got.content, probe(path)


def test_a_picture_is_resized_and_converted_before_it_is_stored(server, media, unique, probe,
                                                                tmp_path):
    public_id = unique("incoming")
    result = uploader.upload(str(media("photo-denali.webp")), public_id=public_id,
                             transformation={"width": 200, "crop": "scale"}, format="png")
    assert (result["width"], result["format"]) == (200, "png")
    body, info = _stored(public_id, "png", tmp_path, probe)
    assert info["streams"][0]["codec_name"] == "png" and info["streams"][0]["width"] == 200
    assert len(body) == result["bytes"] == api.resource(public_id)["bytes"]


def test_top_level_options_are_the_incoming_transformation(server, media, unique, probe,
                                                           tmp_path):
    public_id = unique("filled")
    result = uploader.upload(str(media("alpha-balloon.png")), public_id=public_id,
                             width=64, height=48, crop="fill")
    assert (result["width"], result["height"], result["format"]) == (64, 48, "png")
    _, info = _stored(public_id, "png", tmp_path, probe)
    assert (info["streams"][0]["width"], info["streams"][0]["height"]) == (64, 48)


def test_a_video_is_cut_and_scaled_before_it_is_stored(server, media, unique, probe, tmp_path):
    public_id = unique("clip")
    result = uploader.upload(str(media("landscape-540p-h264-aac-flower.mp4")),
                             resource_type="video", public_id=public_id,
                             transformation=[{"width": 320, "crop": "scale"},
                                             {"start_offset": 1, "duration": 2}])
    assert result["width"] == 320 and result["format"] == "mp4"
    assert 1.8 <= result["duration"] <= 2.3
    _, info = _stored(public_id, "mp4", tmp_path, probe, "video")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert video["width"] == 320
    assert 1.8 <= float(info["format"]["duration"]) <= 2.3


@pytest.mark.parametrize("transformation, says", [
    ("w_abc", "w_abc"),
    ("e_nonsense", "nonsense"),
    ("t_no_such_named", "Unknown named transformation"),
])
def test_a_bad_incoming_transformation_stores_nothing(server, media, unique, transformation,
                                                      says):
    public_id = unique("refused")
    with pytest.raises(cloudinary.exceptions.BadRequest, match=says):
        uploader.upload(str(media("alpha-balloon.png")), public_id=public_id,
                        transformation=transformation)
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.resource(public_id)
