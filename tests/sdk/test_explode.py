"""explode through the official SDK: every frame of an animated picture becomes a derived
file (``pg_1`` … ``pg_N`` with the rest of the transformation), made in the background as one
job whose progress the jobs API shows. Assets without pages and transformations without
``pg_all`` are clear 400s."""
import time

import cloudinary.api as api
import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
import requests
from cloudinary.utils import cloudinary_url

from conftest import API_KEY, API_SECRET


def _wait_for_job(server, batch_id, timeout=180):
    url = f"{server.base_url}/v1_1/{server.cloud}/jobs/{batch_id}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = requests.get(url, auth=(API_KEY, API_SECRET), timeout=30).json()
        if job.get("state") in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {batch_id} did not finish: {job}")


def test_every_frame_of_an_animation_becomes_a_picture(server, media, unique, probe, tmp_path):
    public_id = unique("earth")
    uploader.upload(str(media("anim-rotating-earth.gif")), public_id=public_id)  # 44 frames
    result = uploader.explode(public_id, page="all", width=50, crop="scale", format="png")
    assert result["status"] == "processing"
    job = _wait_for_job(server, result["batch_id"])
    assert job["state"] == "done" and job["progress"] == 1, job

    derived = api.resource(public_id, max_results=100)["derived"]
    assert len(derived) == 44
    assert {d["transformation"] for d in derived} == {f"c_scale,pg_{n},w_50" for n in
                                                      range(1, 45)}
    frames = []
    for page in (1, 23):
        url = cloudinary_url(public_id, format="png", page=page, width=50, crop="scale")[0]
        got = requests.get(url, timeout=60)
        assert got.status_code == 200
        (tmp_path / f"{page}.png").write_bytes(got.content)
        info = probe(tmp_path / f"{page}.png")["streams"][0]
        assert (info["codec_name"], info["width"]) == ("png", 50)
        frames.append(got.content)
    assert frames[0] != frames[1], "different frames"


def test_explode_refuses_what_it_cannot_do(server, media, unique):
    clip = unique("clip")
    uploader.upload(str(media("landscape-540p-h264-aac-flower.mp4")), public_id=clip,
                    resource_type="video")
    with pytest.raises(cloudinary.exceptions.BadRequest, match="not a picture with pages"):
        uploader.explode(clip, page="all", resource_type="video")
    still = unique("still")
    uploader.upload(str(media("alpha-balloon.png")), public_id=still)
    with pytest.raises(cloudinary.exceptions.BadRequest, match="pg_all"):
        uploader.explode(still, width=50, crop="scale")
    with pytest.raises(cloudinary.exceptions.NotFound):
        uploader.explode(unique("missing"), page="all")
