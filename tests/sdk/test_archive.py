"""generate_archive through the official SDK: ZIPs of assets chosen by tags, public ids and
prefixes, of originals or of derived versions (``transformations``), kept as a raw asset
(``create_zip``) or downloaded from signed URLs (``download_zip_url``, ``download_folder``).
Missing assets, forged signatures and unsupported formats are clear 4xx errors."""
import io
import zipfile

import cloudinary.api as api
import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
import requests
from cloudinary.utils import download_folder, download_zip_url


@pytest.fixture(scope="module")
def shelf(server, media):
    import uuid
    tag = f"zip-{uuid.uuid4().hex[:8]}"
    made = [
        uploader.upload(str(media("alpha-balloon.png")), public_id=f"{tag}/balloon", tags=[tag]),
        uploader.upload(str(media("photo-denali.webp")), public_id=f"{tag}/sub/denali",
                        tags=[tag]),
        uploader.upload(str(media("t-rex-roar.mp3")), public_id=f"{tag}/roar", tags=[tag],
                        resource_type="video"),
    ]
    return tag, made


def _zip(content):
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.testzip() is None
    return archive


def test_a_zip_of_originals_is_kept_as_a_raw_asset(shelf, media, digest):
    tag, _ = shelf
    result = uploader.create_zip(tags=[tag], resource_type="image",
                                 target_public_id=f"{tag}-originals")
    assert result["resource_type"] == "raw" and result["public_id"] == f"{tag}-originals.zip"
    assert (result["resource_count"], result["file_count"]) == (2, 2)
    got = requests.get(result["secure_url"], timeout=60)
    assert got.status_code == 200 and len(got.content) == result["bytes"]
    archive = _zip(got.content)
    assert sorted(archive.namelist()) == [f"{tag}/balloon.png", f"{tag}/sub/denali.webp"]
    assert digest(archive.read(f"{tag}/balloon.png")) == digest(media("alpha-balloon.png"))
    assert api.resource(f"{tag}-originals.zip", resource_type="raw")["bytes"] == result["bytes"]


def test_a_signed_download_url_sends_derived_versions(shelf, server, tmp_path, probe):
    tag, made = shelf
    url = download_zip_url(public_ids=[made[0]["public_id"], made[1]["public_id"]],
                           transformations=[{"width": 20, "crop": "scale", "format": "jpg"}],
                           flatten_folders=True)
    got = requests.get(url, timeout=120)
    assert got.status_code == 200, got.text
    assert got.headers["Content-Type"] == "application/zip"
    archive = _zip(got.content)
    assert sorted(archive.namelist()) == ["c_scale,w_20/balloon.jpg", "c_scale,w_20/denali.jpg"]
    (tmp_path / "small.jpg").write_bytes(archive.read("c_scale,w_20/denali.jpg"))
    info = probe(tmp_path / "small.jpg")["streams"][0]
    assert (info["codec_name"], info["width"]) == ("mjpeg", 20)

    forged = url.replace("signature=", "signature=00")
    assert requests.get(forged, timeout=60).status_code == 401


def test_download_folder_covers_every_resource_type(shelf):
    tag, _ = shelf
    got = requests.get(download_folder(f"{tag}/"), timeout=120)
    assert got.status_code == 200, got.text
    assert sorted(_zip(got.content).namelist()) == [
        f"{tag}/balloon.png", f"{tag}/roar.mp3", f"{tag}/sub/denali.webp"]


def test_missing_assets_and_bad_requests_are_refused(shelf, unique):
    tag, made = shelf
    with pytest.raises(cloudinary.exceptions.NotFound, match="nope"):
        uploader.create_zip(public_ids=[made[0]["public_id"], f"{tag}/nope"])
    partial = uploader.create_zip(public_ids=[made[0]["public_id"], f"{tag}/nope"],
                                  allow_missing=True)
    assert partial["file_count"] == 1 and partial["missing_public_ids"] == [f"{tag}/nope"]
    with pytest.raises(cloudinary.exceptions.BadRequest, match="tgz"):
        uploader.create_archive(tags=[tag], target_format="tgz")
    with pytest.raises(cloudinary.exceptions.BadRequest, match="public_ids, prefixes or tags"):
        uploader.create_zip()
    with pytest.raises(cloudinary.exceptions.NotFound):
        uploader.create_zip(tags=[unique("empty-tag")])
    expired = download_zip_url(tags=[tag], expires_at=1000)
    got = requests.get(expired, timeout=60)
    assert got.status_code == 400 and "expired" in got.json()["error"]["message"]
