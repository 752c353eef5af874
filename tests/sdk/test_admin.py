"""Admin API through the official SDK: listing, details, updates, deletes, folders,
usage and upload presets."""

import cloudinary.api as api
import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest


def upload_small(media, public_id, **options):
    return uploader.upload(str(media("alpha-balloon.png")), public_id=public_id, **options)


def tag_list(value):
    """Preset settings may carry tags as a list or as a comma-separated string."""
    return value if isinstance(value, list) else [t for t in value.split(",") if t]


def in_folder(result, folder):
    """Fixed-folder mode prefixes the public_id; dynamic-folder mode sets asset_folder."""
    return (result["public_id"].startswith(folder + "/")
            or result.get("asset_folder") == folder)


# --------------------------------------------------------------------------- basics


def test_ping(server):
    # Act
    result = api.ping()

    # Assert
    assert result["status"] == "ok"


def test_usage_counts_objects_and_storage(server, media, unique):
    # Arrange
    uploaded = upload_small(media, unique("usage"))

    # Act
    usage = api.usage()

    # Assert
    assert usage["objects"]["usage"] >= 1
    assert usage["storage"]["usage"] >= uploaded["bytes"]


# --------------------------------------------------------------------------- listing


def test_resources_paging_with_next_cursor(server, media, unique):
    # Arrange
    prefix = unique("page") + "-"
    expected = [f"{prefix}{i}" for i in range(5)]
    for pid in expected:
        upload_small(media, pid)

    # Act
    seen, pages, cursor = [], 0, None
    while True:
        options = {"next_cursor": cursor} if cursor else {}
        page = api.resources(type="upload", resource_type="image", prefix=prefix,
                             max_results=2, **options)
        pages += 1
        assert len(page["resources"]) <= 2
        seen += [r["public_id"] for r in page["resources"]]
        cursor = page.get("next_cursor")
        if not cursor or pages > 10:
            break

    # Assert: every asset exactly once, over at least three pages
    assert sorted(seen) == sorted(expected)
    assert pages >= 3


def test_resources_by_tag(server, media, unique):
    # Arrange
    tag = unique("bytag")
    tagged = [unique("img"), unique("img")]
    for pid in tagged:
        upload_small(media, pid, tags=[tag])
    upload_small(media, unique("img"), tags=[unique("other")])

    # Act
    result = api.resources_by_tag(tag)

    # Assert
    assert sorted(r["public_id"] for r in result["resources"]) == sorted(tagged)


def test_resources_by_ids(server, media, unique):
    # Arrange
    ids = [unique("img"), unique("img")]
    for pid in ids:
        upload_small(media, pid)

    # Act
    result = api.resources_by_ids(ids + [unique("missing")])

    # Assert
    assert sorted(r["public_id"] for r in result["resources"]) == sorted(ids)


def test_resource_details(server, media, unique):
    # Arrange
    src, pid, tag = media("alpha-balloon.png"), unique("img"), unique("tag")
    uploaded = upload_small(media, pid, tags=[tag])

    # Act
    details = api.resource(pid)

    # Assert
    for key in ("asset_id", "public_id", "version", "format", "resource_type", "type",
                "created_at", "bytes", "width", "height", "url", "secure_url"):
        assert details[key] == uploaded[key], key
    assert details["bytes"] == src.stat().st_size
    assert details["tags"] == [tag]


def test_tags_lists_new_tag(server, media, unique):
    # Arrange
    tag = unique("listed")
    upload_small(media, unique("img"), tags=[tag])

    # Act
    result = api.tags(prefix=tag, max_results=500)

    # Assert
    assert tag in result["tags"]


# --------------------------------------------------------------------------- update and delete


def test_update_tags_and_context(server, media, unique):
    # Arrange
    pid, old, new = unique("img"), unique("old"), [unique("new1"), unique("new2")]
    upload_small(media, pid, tags=[old])

    # Act
    result = api.update(pid, tags=new, context={"alt": "updated"})

    # Assert: tags are replaced, context is set
    assert sorted(result["tags"]) == sorted(new)
    details = api.resource(pid)
    assert sorted(details["tags"]) == sorted(new)
    assert details["context"]["custom"]["alt"] == "updated"


def test_delete_resources(server, media, unique):
    # Arrange
    pid, missing = unique("img"), unique("missing")
    upload_small(media, pid)

    # Act
    result = api.delete_resources([pid, missing])

    # Assert
    assert result["deleted"] == {pid: "deleted", missing: "not_found"}
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.resource(pid)


def test_delete_resources_by_prefix(server, media, unique):
    # Arrange
    prefix = unique("delpre") + "-"
    ids = [f"{prefix}{i}" for i in range(3)]
    for pid in ids:
        upload_small(media, pid)

    # Act
    result = api.delete_resources_by_prefix(prefix)

    # Assert
    assert result["deleted"] == {pid: "deleted" for pid in ids}
    assert api.resources(type="upload", prefix=prefix)["resources"] == []


def test_delete_resources_by_tag(server, media, unique):
    # Arrange
    tag, keep = unique("deltag"), unique("keep")
    ids = [unique("img"), unique("img")]
    for pid in ids:
        upload_small(media, pid, tags=[tag])
    upload_small(media, keep)

    # Act
    result = api.delete_resources_by_tag(tag)

    # Assert
    assert result["deleted"] == {pid: "deleted" for pid in ids}
    assert api.resources_by_tag(tag)["resources"] == []
    assert api.resource(keep)["public_id"] == keep


# --------------------------------------------------------------------------- folders


def test_create_list_and_delete_folders(server, unique):
    # Arrange
    parent = unique("dir")
    child = f"{parent}/child"

    # Act
    created = api.create_folder(parent)
    api.create_folder(child)
    roots = api.root_folders(max_results=500)["folders"]
    subs = api.subfolders(parent)["folders"]
    deleted = api.delete_folder(child)

    # Assert
    assert created["success"] is True and created["path"] == parent
    assert {"name": parent, "path": parent} in [
        {"name": f["name"], "path": f["path"]} for f in roots]
    assert [(f["name"], f["path"]) for f in subs] == [("child", child)]
    assert deleted["deleted"] == [child]
    assert api.subfolders(parent)["folders"] == []


# --------------------------------------------------------------------------- upload presets


def test_upload_preset_lifecycle(server, media, unique):
    # Arrange
    name = unique("preset")

    # Act / Assert: create, read, list
    created = api.create_upload_preset(name=name, unsigned=True, folder="presetfolder",
                                       tags="ptag")
    assert created["message"] == "created" and created["name"] == name
    preset = api.upload_preset(name)
    assert preset["name"] == name and preset["unsigned"] is True
    assert preset["settings"]["folder"] == "presetfolder"
    assert tag_list(preset["settings"]["tags"]) == ["ptag"]
    assert name in [p["name"] for p in api.upload_presets(max_results=500)["presets"]]

    # Act / Assert: update, then an unsigned upload applies the preset
    updated = api.update_upload_preset(name, unsigned=True, folder="presetfolder",
                                       tags="ptag,ptag2")
    assert updated["message"] == "updated"
    assert sorted(tag_list(api.upload_preset(name)["settings"]["tags"])) == ["ptag", "ptag2"]
    result = uploader.unsigned_upload(str(media("alpha-balloon.png")), name)
    assert in_folder(result, "presetfolder"), result
    assert sorted(result["tags"]) == ["ptag", "ptag2"]

    # Act / Assert: delete
    assert api.delete_upload_preset(name)["message"] == "deleted"
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.upload_preset(name)


def test_unsigned_upload_without_valid_preset_is_rejected(server, media, unique):
    # Arrange
    pid, signed_only = unique("img"), unique("signedpreset")
    api.create_upload_preset(name=signed_only, unsigned=False)

    # Act / Assert: unknown preset
    with pytest.raises(cloudinary.exceptions.BadRequest):
        uploader.unsigned_upload(str(media("alpha-balloon.png")), unique("nopreset"),
                                 public_id=pid)
    # Act / Assert: a preset that is not enabled for unsigned uploads
    with pytest.raises(cloudinary.exceptions.Error):
        uploader.unsigned_upload(str(media("alpha-balloon.png")), signed_only, public_id=pid)

    # Assert: nothing was stored
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.resource(pid)


# --------------------------------------------------------------------------- errors


def test_admin_with_wrong_secret_is_401(server):
    # Act / Assert
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired) as err:
        api.ping(api_secret="not-the-secret")
    assert "401" in str(err.value)
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired):
        api.resources(api_secret="not-the-secret")


def test_missing_resource_is_not_found(server, unique):
    # Act / Assert
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.resource(unique("does-not-exist"))
