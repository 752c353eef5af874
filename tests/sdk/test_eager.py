"""Eager transformations through the official SDK: made during ``upload`` and ``explicit``,
listed in the response with their URLs, stored as derived files."""

import json
import subprocess
import time

import cloudinary.api as api
import cloudinary.exceptions
import cloudinary.uploader as uploader
import cloudinary.utils
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


def _verified(notice):
    """The notification's JSON, after checking its signature the way the SDK documents."""
    headers = {k.lower(): v for k, v in notice["headers"].items()}
    assert headers["content-type"] == "application/json"
    assert cloudinary.utils.verify_notification_signature(
        notice["body"], headers["x-cld-timestamp"], headers["x-cld-signature"])
    assert not cloudinary.utils.verify_notification_signature(
        notice["body"] + " ", headers["x-cld-timestamp"], headers["x-cld-signature"])
    return json.loads(notice["body"])


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """A 12 s 640x360 clip with sound: three segments per track of a stream."""
    path = tmp_path_factory.mktemp("eager") / "long.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000",
         "-t", "12", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-shortest", str(path)],
        check=True, capture_output=True)
    return path


def test_eager_async_answers_at_once_and_notifies_when_done(server, media, unique, webhooks,
                                                           tmp_path):
    # Arrange
    pid = unique("async")
    hook = unique("hook")

    # Act
    result = uploader.upload(str(media("portrait-720x1080-h264-aac.mp4")), public_id=pid,
                             resource_type="video",
                             eager=[{"streaming_profile": "sd", "format": "m3u8"},
                                    {"width": 120, "crop": "scale", "format": "mp4"}],
                             eager_async=True, eager_notification_url=webhooks.url(hook),
                             notification_url=webhooks.url(hook + "-upload"))

    # Assert: the response lists the work as processing under one batch
    listed = result["eager"]
    assert [e["status"] for e in listed] == ["processing", "processing"]
    batch = listed[0]["batch_id"]
    assert len(batch) == 64 and listed[1]["batch_id"] == batch
    # the upload notification carries the upload response
    upload = _verified(webhooks.wait_for(hook + "-upload"))
    assert upload["notification_type"] == "upload"
    assert upload["public_id"] == pid and upload["asset_id"] == result["asset_id"]
    # the eager notification, signed, lists what was made
    eager = _verified(webhooks.wait_for(hook))
    assert eager["notification_type"] == "eager"
    assert (eager["public_id"], eager["batch_id"]) == (pid, batch)
    made = {e["transformation"]: e for e in eager["eager"]}
    assert set(made) == {"sp_sd", "c_scale,w_120"}
    assert all(e["status"] == "processed" for e in made.values())
    assert made["c_scale,w_120"]["width"] == 120
    # the stream plays without making anything: every segment is already a derived file
    before = len(api.resource(pid, resource_type="video")["derived"])
    assert before > 3
    out = tmp_path / "played.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", made["sp_sd"]["url"], "-c", "copy",
                    str(out)], check=True, capture_output=True, timeout=120)
    assert len(api.resource(pid, resource_type="video")["derived"]) == before


def test_a_notification_is_retried_until_the_receiver_takes_it(server, media, unique, webhooks):
    pid = unique("retry")
    hook = unique("hook")
    with webhooks.lock:
        webhooks.fail_first = webhooks.answered + 2

    uploader.upload(str(media("photo-denali.webp")), public_id=pid,
                    notification_url=webhooks.url(hook))

    notice = webhooks.wait_for(hook, timeout=60)
    assert _verified(notice)["public_id"] == pid
    assert webhooks.answered >= 3


def test_an_eager_job_survives_a_crash(server, long_clip, unique, webhooks, tmp_path):
    # Arrange: a job with a dozen segments to make
    pid = unique("crash")
    hook = unique("hook")
    uploader.upload(str(long_clip), public_id=pid, resource_type="video",
                    eager=[{"streaming_profile": "sd", "format": "mpd"}], eager_async=True,
                    eager_notification_url=webhooks.url(hook))

    # Act: kill -9 while it works, start again
    time.sleep(1.0)
    assert not [r for r in webhooks.received if r["path"] == f"/{hook}"], "finished too soon"
    server.crash_and_restart()

    # Assert: the job is taken again and finishes; its notification arrives once it has
    notice = _verified(webhooks.wait_for(hook, timeout=180))
    [made] = notice["eager"]
    assert made["status"] == "processed" and made["format"] == "mpd"
    assert "/sp_sd/" in made["url"] and made["url"].endswith(f"/{pid}.mpd")
    # and the stream is whole: the MPD plays to the end
    out = tmp_path / "played.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i",
                    f"{server.base_url}/demo/video/upload/sp_sd/{pid}.mpd",
                    "-map", "0:v:0", "-map", "0:a:0", "-c", "copy", str(out)],
                   check=True, capture_output=True, timeout=120)
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(out)],
        check=True, capture_output=True).stdout)
    assert abs(float(probe["format"]["duration"]) - 12.0) < 0.2


def test_explicit_queues_eager_work_too(server, media, unique, webhooks):
    pid = unique("explicit")
    hook = unique("hook")
    uploader.upload(str(media("photo-denali.webp")), public_id=pid)

    result = uploader.explicit(pid, type="upload", eager=[{"width": 64, "crop": "scale"}],
                               eager_async=True, eager_notification_url=webhooks.url(hook))

    assert result["eager"][0]["status"] == "processing"
    notice = _verified(webhooks.wait_for(hook))
    assert notice["eager"][0]["width"] == 64
    assert len(api.resource(pid)["derived"]) == 1


def test_a_bad_notification_url_stores_nothing(server, media, unique):
    pid = unique("badhook")
    with pytest.raises(cloudinary.exceptions.BadRequest) as err:
        uploader.upload(str(media("photo-denali.webp")), public_id=pid,
                        notification_url="file:///etc/passwd")
    assert "notification URL" in str(err.value)
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.resource(pid)


def test_explicit_invalidate_drops_the_derived_files(server, media, unique, download):
    pid = unique("inval")
    uploader.upload(str(media("photo-denali.webp")), public_id=pid,
                    eager=[{"width": 40, "crop": "scale"}, {"width": 30, "crop": "scale"}])
    assert len(api.resource(pid)["derived"]) == 2

    result = uploader.explicit(pid, type="upload", invalidate=True,
                               eager=[{"width": 20, "crop": "scale"}])

    assert [d["transformation"] for d in api.resource(pid)["derived"]] == ["c_scale,w_20"]
    assert len(download(result["eager"][0]["secure_url"])) == result["eager"][0]["bytes"]
