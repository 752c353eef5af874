"""The fetch delivery type with URLs the official SDK builds (``type="fetch"``): media at a
URL delivered as it is and transformed, fetched once and listed as an asset of type fetch; a
URL to a private address is a clear 400 and nothing is kept."""
import cloudinary.api as api
import pytest
import requests
from cloudinary.utils import cloudinary_url


def test_a_fetched_picture_is_delivered_and_transformed(server, media, remote_files, unique,
                                                        digest, probe, tmp_path):
    source = media("alpha-balloon.png")
    remote = remote_files.serve(source, f"{unique('fetched')}.png")

    original = cloudinary_url(remote, type="fetch")[0]
    resized = cloudinary_url(remote, type="fetch", transformation={"width": 40, "crop": "scale"},
                             fetch_format="jpg")[0]
    assert "/image/fetch/" in original and "f_jpg" in resized

    got = requests.get(original, timeout=60)
    assert got.status_code == 200 and digest(got.content) == digest(source)
    got = requests.get(resized, timeout=60)
    assert got.status_code == 200, got.headers.get("X-Cld-Error")
    (tmp_path / "small.jpg").write_bytes(got.content)
    info = probe(tmp_path / "small.jpg")
    assert info["streams"][0]["width"] == 40 and info["streams"][0]["codec_name"] == "mjpeg"

    fetched = api.resources(type="fetch", max_results=500)["resources"]
    assert [r["public_id"] for r in fetched].count(remote) == 1


@pytest.mark.parametrize("url", ["http://10.0.0.7/a.png", "http://[::ffff:127.0.0.2]/a.png"])
def test_a_fetch_url_to_a_private_address_is_refused(server, url):
    got = requests.get(cloudinary_url(url, type="fetch")[0], timeout=60)
    assert got.status_code == 400
    assert "which Kino does not fetch from" in got.json()["error"]["message"]
    assert got.headers["X-Cld-Error"]
    fetched = api.resources(type="fetch", max_results=500)["resources"]
    assert url not in [r["public_id"] for r in fetched]


def test_explicit_on_a_fetched_asset_fetches_it_again(server, media, remote_files, unique,
                                                      digest):
    import shutil
    import cloudinary.uploader as uploader
    name = f"{unique('refreshed')}.png"
    remote = remote_files.serve(media("alpha-balloon.png"), name)
    url = cloudinary_url(remote, type="fetch")[0]
    assert digest(requests.get(url, timeout=60).content) == digest(media("alpha-balloon.png"))
    uploader.add_tag("kept-tag", [remote], type="fetch")
    before = api.resource(remote, type="fetch")

    # The origin changes; delivery still serves the kept copy until it is refreshed.
    shutil.copyfile(media("exif-orient-1.jpg"), remote_files.root / name)
    assert digest(requests.get(url, timeout=60).content) == digest(media("alpha-balloon.png"))
    refreshed = uploader.explicit(remote, type="fetch")
    assert refreshed["version"] > before["version"] and refreshed["format"] == "jpg"
    assert digest(requests.get(url, timeout=60).content) == digest(media("exif-orient-1.jpg"))
    assert api.resource(remote, type="fetch")["tags"] == ["kept-tag"]
