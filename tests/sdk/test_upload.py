"""Upload API through the official SDK: every source kind, the main upload params,
and the other Upload-API methods (rename, destroy, tags, context, explicit)."""

import base64
import re

import cloudinary.api as api
import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
from cloudinary.utils import cloudinary_url


def in_folder(result, folder):
    """Fixed-folder mode prefixes the public_id; dynamic-folder mode sets asset_folder."""
    return (result["public_id"].startswith(folder + "/")
            or result.get("asset_folder") == folder)


# --------------------------------------------------------------------------- sources


def test_upload_image_file(server, media, unique, check_upload, download, digest):
    # Arrange
    src, pid, tag = media("face-astronaut.png"), unique("img"), unique("tag")

    # Act
    result = uploader.upload(str(src), public_id=pid, tags=[tag])

    # Assert
    check_upload(result, src, resource_type="image", public_id=pid, fmt="png", tags=[tag],
                 original_filename="face-astronaut")
    built, _ = cloudinary_url(pid, resource_type="image", format="png")
    for url in (result["secure_url"], result["url"], built):
        assert digest(download(url)) == digest(src), url


def test_upload_video_file(server, media, unique, check_upload, check_video, download, digest):
    # Arrange
    src, pid = media("landscape-540p-h264-aac-flower.mp4"), unique("vid")

    # Act
    result = uploader.upload(str(src), public_id=pid, resource_type="video")

    # Assert
    check_upload(result, src, resource_type="video", public_id=pid, fmt="mp4",
                 original_filename="landscape-540p-h264-aac-flower")
    check_video(result, src)
    built, _ = cloudinary_url(pid, resource_type="video", format="mp4")
    for url in (result["secure_url"], result["url"], built):
        assert digest(download(url)) == digest(src), url


def test_upload_raw_file(server, tmp_path, unique, check_upload, download, digest):
    # Arrange
    stem = unique("blob")
    src = tmp_path / f"{stem}.bin"
    src.write_bytes(bytes(range(256)) * 200 + b"kino raw payload")
    pid = unique("raw") + ".bin"

    # Act
    result = uploader.upload(str(src), public_id=pid, resource_type="raw")

    # Assert
    check_upload(result, src, resource_type="raw", public_id=pid, original_filename=stem)
    assert "width" not in result and "height" not in result
    built, _ = cloudinary_url(pid, resource_type="raw")
    for url in (result["secure_url"], result["url"], built):
        assert digest(download(url)) == digest(src), url


def test_upload_remote_url(server, media, unique, remote_files, check_upload, download, digest):
    # Arrange
    src, name = media("exif-orient-1.jpg"), unique("remote")
    remote_url = remote_files.serve(src, f"{name}.jpg")
    pid = unique("img")

    # Act
    result = uploader.upload(remote_url, public_id=pid)

    # Assert
    check_upload(result, src, resource_type="image", public_id=pid, fmt="jpg",
                 original_filename=name)
    built, _ = cloudinary_url(pid, format="jpg")
    for url in (result["secure_url"], result["url"], built):
        assert digest(download(url)) == digest(src), url


def test_upload_data_uri(server, media, unique, check_upload, download, digest):
    # Arrange
    src, pid = media("alpha-balloon.png"), unique("img")
    data_uri = "data:image/png;base64," + base64.b64encode(src.read_bytes()).decode()

    # Act
    result = uploader.upload(data_uri, public_id=pid)

    # Assert
    check_upload(result, src, resource_type="image", public_id=pid, fmt="png")
    built, _ = cloudinary_url(pid, format="png")
    for url in (result["secure_url"], result["url"], built):
        assert digest(download(url)) == digest(src), url


def test_upload_large_in_chunks(server, chunked_video, unique, check_upload, check_video,
                                download, digest):
    # Arrange: 1 MB chunks force several requests (SDK default is 20 MB)
    pid = unique("chunked")

    # Act
    result = uploader.upload_large(str(chunked_video), public_id=pid, resource_type="video",
                                   chunk_size=1_000_000)

    # Assert
    check_upload(result, chunked_video, resource_type="video", public_id=pid, fmt="mp4",
                 original_filename=chunked_video.stem)
    check_video(result, chunked_video)
    built, _ = cloudinary_url(pid, resource_type="video", format="mp4")
    for url in (result["secure_url"], result["url"], built):
        assert digest(download(url)) == digest(chunked_video), url


# --------------------------------------------------------------------------- upload params


def test_folder_param(server, media, unique):
    # Arrange
    folder, name = unique("fold"), unique("img")

    # Act
    result = uploader.upload(str(media("alpha-balloon.png")), folder=folder, public_id=name)

    # Assert
    assert in_folder(result, folder), result
    assert result["public_id"].endswith(name)
    assert api.resource(result["public_id"])["asset_id"] == result["asset_id"]
    names = [f["name"] for f in api.root_folders(max_results=500)["folders"]]
    assert folder in names


def test_use_filename_without_unique_suffix(server, media, tmp_path, unique):
    # Arrange
    stem = unique("named")
    src = tmp_path / f"{stem}.png"
    src.write_bytes(media("alpha-balloon.png").read_bytes())

    # Act
    result = uploader.upload(str(src), use_filename=True, unique_filename=False)

    # Assert
    assert result["public_id"] == stem
    assert result["original_filename"] == stem


def test_use_filename_with_unique_suffix(server, media, tmp_path, unique):
    # Arrange
    stem = unique("named")
    src = tmp_path / f"{stem}.png"
    src.write_bytes(media("alpha-balloon.png").read_bytes())

    # Act
    first = uploader.upload(str(src), use_filename=True)
    second = uploader.upload(str(src), use_filename=True)

    # Assert: "<filename>_<random>", different each time
    for result in (first, second):
        assert re.fullmatch(re.escape(stem) + r"_[A-Za-z0-9]+", result["public_id"]), result
    assert first["public_id"] != second["public_id"]


def test_overwrite_false_returns_existing(server, media, unique, download, digest):
    # Arrange
    pid, original = unique("img"), media("alpha-balloon.png")
    first = uploader.upload(str(original), public_id=pid)

    # Act
    again = uploader.upload(str(media("exif-orient-1.jpg")), public_id=pid, overwrite=False)

    # Assert
    assert again["existing"] is True
    assert again["public_id"] == pid
    assert again["asset_id"] == first["asset_id"]
    assert again["version"] == first["version"]
    assert again["bytes"] == first["bytes"] == original.stat().st_size
    built, _ = cloudinary_url(pid, format="png")
    assert digest(download(built)) == digest(original)


def test_tags_and_context_round_trip(server, media, unique):
    # Arrange
    pid, tags = unique("img"), [unique("t1"), unique("t2")]
    context = {"alt": "x|y", "caption": "a=b"}

    # Act
    result = uploader.upload(str(media("alpha-balloon.png")), public_id=pid, tags=tags,
                             context=context)
    details = api.resource(pid)

    # Assert
    assert sorted(result["tags"]) == sorted(tags)
    assert sorted(details["tags"]) == sorted(tags)
    assert details["context"]["custom"] == context


def test_private_type(server, media, unique):
    # Arrange
    pid = unique("priv")

    # Act
    result = uploader.upload(str(media("alpha-balloon.png")), public_id=pid, type="private")

    # Assert
    assert result["type"] == "private"
    assert f"/{server.cloud}/image/private/" in result["url"]
    assert api.resource(pid, type="private")["public_id"] == pid
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.resource(pid)  # type=upload


# --------------------------------------------------------------------------- other Upload-API methods


def test_rename(server, media, unique, download, digest):
    # Arrange
    src, old, new = media("alpha-balloon.png"), unique("old"), unique("new")
    uploader.upload(str(src), public_id=old)

    # Act
    result = uploader.rename(old, new)

    # Assert
    assert result["public_id"] == new
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.resource(old)
    assert api.resource(new)["public_id"] == new
    built, _ = cloudinary_url(new, format="png")
    assert digest(download(built)) == digest(src)


def test_destroy(server, media, unique):
    # Arrange
    pid = unique("gone")
    uploader.upload(str(media("alpha-balloon.png")), public_id=pid)

    # Act
    first = uploader.destroy(pid)
    second = uploader.destroy(pid)

    # Assert
    assert first["result"] == "ok"
    assert second["result"] == "not found"
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.resource(pid)


def test_add_remove_replace_tag(server, media, unique):
    # Arrange
    a, b = unique("img"), unique("img")
    base, extra, final = unique("base"), unique("extra"), unique("final")
    for pid in (a, b):
        uploader.upload(str(media("alpha-balloon.png")), public_id=pid, tags=[base])

    # Act / Assert: add
    added = uploader.add_tag(extra, [a, b])
    assert sorted(added["public_ids"]) == sorted([a, b])
    assert sorted(api.resource(a)["tags"]) == sorted([base, extra])

    # Act / Assert: remove
    uploader.remove_tag(extra, [a])
    assert api.resource(a)["tags"] == [base]
    assert sorted(api.resource(b)["tags"]) == sorted([base, extra])

    # Act / Assert: replace drops every other tag
    uploader.replace_tag(final, [b])
    assert api.resource(b)["tags"] == [final]


def test_add_context(server, media, unique):
    # Arrange
    pid = unique("img")
    uploader.upload(str(media("alpha-balloon.png")), public_id=pid, context={"alt": "one"})

    # Act
    result = uploader.add_context({"caption": "two"}, [pid])

    # Assert
    assert result["public_ids"] == [pid]
    assert api.resource(pid)["context"]["custom"] == {"alt": "one", "caption": "two"}


def test_explicit_sets_tags(server, media, unique):
    # Arrange
    pid, tag = unique("img"), unique("explicit")
    uploaded = uploader.upload(str(media("alpha-balloon.png")), public_id=pid)

    # Act
    result = uploader.explicit(pid, type="upload", tags=[tag])

    # Assert
    assert result["public_id"] == pid
    assert result["asset_id"] == uploaded["asset_id"]
    assert result["resource_type"] == "image" and result["type"] == "upload"
    assert tag in result["tags"]
    assert tag in api.resource(pid)["tags"]


# --------------------------------------------------------------------------- auth errors


def test_upload_with_wrong_secret_is_401(server, media, unique):
    # Arrange
    pid = unique("img")

    # Act
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired) as err:
        uploader.upload(str(media("alpha-balloon.png")), public_id=pid,
                        api_secret="not-the-secret")

    # Assert
    assert "signature" in str(err.value).lower()
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.resource(pid)


def test_upload_with_unknown_api_key_is_401(server, media, unique):
    # Act / Assert
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired):
        uploader.upload(str(media("alpha-balloon.png")), public_id=unique("img"),
                        api_key="999999999999999")
