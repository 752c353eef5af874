"""Delivery URLs built by the SDK, and persistence across a server restart."""

import cloudinary.api as api
import cloudinary.uploader as uploader
import requests
from cloudinary.utils import cloudinary_url


def test_foldered_public_id_delivers_with_sdk_v1(server, media, unique, download, digest):
    # Arrange: the SDK inserts "/v1/" for public ids that contain "/"
    src, pid = media("alpha-balloon.png"), f"{unique('dir')}/{unique('img')}"
    uploader.upload(str(src), public_id=pid)

    # Act
    url, _ = cloudinary_url(pid, format="png")

    # Assert
    assert f"/image/upload/v1/{pid}.png" in url
    assert digest(download(url)) == digest(src)


def test_content_types(server, media, unique):
    # Arrange
    image, video = unique("img"), unique("vid")
    uploader.upload(str(media("alpha-balloon.png")), public_id=image)
    uploader.upload(str(media("portrait-720x1080-h264-aac.mp4")), public_id=video,
                    resource_type="video")

    # Act
    png = requests.get(cloudinary_url(image, format="png")[0], timeout=60)
    mp4 = requests.get(cloudinary_url(video, resource_type="video", format="mp4")[0], timeout=60)

    # Assert
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    assert mp4.status_code == 200 and mp4.headers["Content-Type"] == "video/mp4"


def test_video_range_request(server, media, unique):
    # Arrange
    src, pid = media("portrait-720x1080-h264-aac.mp4"), unique("vid")
    uploader.upload(str(src), public_id=pid, resource_type="video")
    url, _ = cloudinary_url(pid, resource_type="video", format="mp4")

    # Act
    resp = requests.get(url, headers={"Range": "bytes=100-1099"}, timeout=60)

    # Assert
    assert resp.status_code == 206
    assert resp.headers["Content-Range"] == f"bytes 100-1099/{src.stat().st_size}"
    assert resp.content == src.read_bytes()[100:1100]


def test_missing_asset_is_404(server, unique):
    # Act
    resp = requests.get(cloudinary_url(unique("nothing"), format="png")[0], timeout=60)

    # Assert
    assert resp.status_code == 404


def test_private_original_needs_signed_url(server, media, unique, download, digest):
    # Arrange
    src, pid = media("alpha-balloon.png"), unique("priv")
    uploader.upload(str(src), public_id=pid, type="private")

    # Act
    unsigned, _ = cloudinary_url(pid, type="private", format="png")
    signed, _ = cloudinary_url(pid, type="private", format="png", sign_url=True)

    # Assert
    assert requests.get(unsigned, timeout=60).status_code in (401, 403, 404)
    assert "/s--" in signed
    assert digest(download(signed)) == digest(src)


def test_restart_keeps_everything(server, media, unique, download, digest):
    # Arrange
    src, pid, tag = media("face-astronaut.png"), unique("persist"), unique("persist")
    uploaded = uploader.upload(str(src), public_id=pid, tags=[tag])

    # Act: SIGTERM, start on the same data dir; the SDK is reconfigured to the new port
    exit_code = server.restart()

    # Assert
    assert exit_code == 0, "kino should exit 0 on SIGTERM"
    assert api.ping()["status"] == "ok"
    listed = api.resources_by_ids([pid])["resources"]
    assert [r["asset_id"] for r in listed] == [uploaded["asset_id"]]
    assert [r["public_id"] for r in api.resources_by_tag(tag)["resources"]] == [pid]
    url, _ = cloudinary_url(pid, format="png")
    assert url.startswith(f"{server.base_url}/")
    assert digest(download(url)) == digest(src)
