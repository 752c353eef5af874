"""Backups, restore and auto-upload mappings through the official SDK: overwritten and
deleted assets come back with ``api.restore`` / ``restore_by_asset_ids``, versions are listed
with ``versions=True``, backed-up files download from ``download_backedup_asset`` URLs, and a
mapped folder pulls missing assets from its origin. Bad input is a clear 4xx that changes
nothing."""
import cloudinary.api as api
import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
import requests
from cloudinary.utils import cloudinary_url, download_backedup_asset


def _delivered(public_id, fmt):
    got = requests.get(cloudinary_url(public_id, format=fmt)[0], timeout=60)
    return got.status_code, got.content


def test_an_overwritten_asset_is_restored_from_its_backup(server, media, unique, digest):
    public_id = unique("backed")
    first = uploader.upload(str(media("alpha-balloon.png")), public_id=public_id, backup=True)
    second = uploader.upload(str(media("photo-denali.webp")), public_id=public_id, backup=True,
                             overwrite=True)

    details = api.resource(public_id, versions=True)
    assert [v["version_id"] for v in details["versions"]] == [second["version_id"],
                                                             first["version_id"]]
    assert [v["restorable"] for v in details["versions"]] == [False, True]
    assert details["versions"][1]["size"] == first["bytes"]

    restored = api.restore([public_id])[public_id]
    assert restored["format"] == "png" and restored["etag"] == first["etag"]
    assert restored["version"] > second["version"]
    status, body = _delivered(public_id, "png")
    assert status == 200 and digest(body) == digest(media("alpha-balloon.png"))

    # Back to the second one by naming its version.
    restored = api.restore([public_id], versions=[second["version_id"]])[public_id]
    assert restored["format"] == "webp"
    status, body = _delivered(public_id, "webp")
    assert status == 200 and digest(body) == digest(media("photo-denali.webp"))


def test_a_deleted_asset_is_restored_by_asset_id(server, media, unique, digest):
    public_id = unique("deleted")
    first = uploader.upload(str(media("photo-denali.webp")), public_id=public_id, backup=True)
    assert uploader.destroy(public_id)["result"] == "ok"
    assert _delivered(public_id, "webp")[0] == 404
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.resource(public_id)

    restored = api.restore_by_asset_ids([first["asset_id"]])[first["asset_id"]]
    assert restored["public_id"] == public_id and restored["asset_id"] == first["asset_id"]
    status, body = _delivered(public_id, "webp")
    assert status == 200 and digest(body) == digest(media("photo-denali.webp"))


def test_backed_up_versions_download_and_can_be_deleted(server, media, unique, digest):
    public_id = unique("download")
    first = uploader.upload(str(media("alpha-balloon.png")), public_id=public_id, backup=True)
    uploader.upload(str(media("photo-denali.webp")), public_id=public_id, backup=True,
                    overwrite=True)

    url = download_backedup_asset(first["asset_id"], first["version_id"])
    got = requests.get(url, timeout=60)
    assert got.status_code == 200, got.text
    assert digest(got.content) == digest(media("alpha-balloon.png"))
    assert "attachment" in got.headers["Content-Disposition"]
    forged = url.replace("signature=", "signature=0")
    assert requests.get(forged, timeout=60).status_code == 401

    result = api.delete_backed_up_assets(first["asset_id"], [first["version_id"]])
    assert result["deleted_version_ids"] == [first["version_id"]]
    assert [v["restorable"] for v in api.resource(public_id, versions=True)["versions"]] == [False]
    assert requests.get(url, timeout=60).status_code == 404


def test_restoring_what_was_never_kept_is_refused_and_changes_nothing(server, media, unique):
    public_id = unique("unkept")
    uploader.upload(str(media("alpha-balloon.png")), public_id=public_id, backup=False)
    current = uploader.upload(str(media("photo-denali.webp")), public_id=public_id,
                              backup=False, overwrite=True)
    assert api.resource(public_id, versions=True)["versions"] == []
    assert api.restore([public_id]) == {public_id: {"error": "no_backup"}}

    with pytest.raises(cloudinary.exceptions.NotFound, match="never-was"):
        api.restore([public_id], versions=["never-was"])
    details = api.resource(public_id)
    assert (details["version"], details["etag"]) == (current["version"], current["etag"])
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.delete_backed_up_assets(current["asset_id"], ["never-was"])


def test_a_mapped_folder_pulls_missing_assets_from_its_origin(server, media, remote_files,
                                                              unique, probe, tmp_path):
    folder = unique("mapped")
    name = unique("balloon")
    origin = remote_files.serve(media("alpha-balloon.png"), f"{name}.png").rsplit("/", 1)[0]
    assert api.create_upload_mapping(folder, template=origin + "/")["message"] == "created"
    assert api.upload_mapping(folder) == {"folder": folder, "template": origin + "/"}
    assert folder in [m["folder"] for m in api.upload_mappings(max_results=500)["mappings"]]

    url = cloudinary_url(f"{folder}/{name}", format="png", width=32, crop="scale")[0]
    got = requests.get(url, timeout=60)
    assert got.status_code == 200, got.headers.get("X-Cld-Error")
    (tmp_path / "small.png").write_bytes(got.content)
    assert probe(tmp_path / "small.png")["streams"][0]["width"] == 32
    assert api.resource(f"{folder}/{name}")["bytes"] == media("alpha-balloon.png").stat().st_size

    assert api.update_upload_mapping(folder, template="https://elsewhere.example/")[
        "message"] == "updated"
    assert api.delete_upload_mapping(folder)["message"] == "deleted"
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.upload_mapping(folder)


@pytest.mark.parametrize("template", ["file:///etc/", "not a url", "ftp://origin.example/"])
def test_a_mapping_to_something_other_than_a_web_origin_is_refused(server, unique, template):
    folder = unique("badmap")
    with pytest.raises(cloudinary.exceptions.BadRequest, match="template"):
        api.create_upload_mapping(folder, template=template)
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.upload_mapping(folder)
