"""Product environments through the official Python SDK's provisioning module: a new
environment is a cloud of its own (its keys, its assets, its settings), listed, filtered,
changed, disabled and deleted with the account-level key; bad requests change nothing."""
import re

import cloudinary.api as api
import cloudinary.exceptions
import cloudinary.provisioning as provisioning
import cloudinary.uploader as uploader
import pytest
import requests
from cloudinary.utils import cloudinary_url

from conftest import ACCOUNT_ID, CLOUD, HEX32, PROVISIONING_KEY, PROVISIONING_SECRET


@pytest.fixture
def primary(server):
    """Configures the account-level key; returns the primary environment's id."""
    provisioning.account_config().update(
        account_id=ACCOUNT_ID, provisioning_api_key=PROVISIONING_KEY,
        provisioning_api_secret=PROVISIONING_SECRET)
    listed = provisioning.sub_accounts()["sub_accounts"]
    return next(e["id"] for e in listed if e["cloud_name"] == CLOUD)


def as_environment(env):
    """The SDK options that point a call at `env` with its main key."""
    key = env["api_access_keys"][0]
    return {"cloud_name": env["cloud_name"], "api_key": key["key"], "api_secret": key["secret"]}


def listed_ids(**filters):
    return [e["id"] for e in provisioning.sub_accounts(**filters)["sub_accounts"]]


def test_a_new_environment_is_a_cloud_of_its_own(primary, media, unique, download, probe,
                                                tmp_path):
    # Arrange: a new environment
    name = unique("Brand")
    cloud = unique("brand").replace("-", "_")
    env = provisioning.create_sub_account(name, cloud_name=cloud,
                                          custom_attributes={"team": "web"}, enabled=True)
    assert (env["name"], env["cloud_name"], env["enabled"]) == (name, cloud, True)
    assert HEX32.match(env["id"]) and env["custom_attributes"] == {"team": "web"}
    assert len(env["api_access_keys"]) == 1 and env["api_access_keys"][0]["enabled"] is True
    opts = as_environment(env)

    # Act: upload with its key, deliver from its cloud
    up = uploader.upload(str(media("photo-denali.webp")), public_id="hero", **opts)
    assert f"/{cloud}/image/upload/" in up["secure_url"]
    url, _ = cloudinary_url("hero", width=50, crop="scale", format="png", **opts)
    picture = tmp_path / "hero.png"
    picture.write_bytes(download(url))
    assert probe(picture)["streams"][0]["width"] == 50

    # Assert: the asset is its own; keys open their own environment only
    assert api.resource("hero", **opts)["public_id"] == "hero"
    assert "hero" not in [r["public_id"] for r in api.resources(max_results=500)["resources"]]
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired):
        api.ping(cloud_name=cloud)
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired):
        api.ping(cloud_name=CLOUD, api_key=opts["api_key"], api_secret=opts["api_secret"])

    # Listing and its filters
    assert env["id"] in listed_ids() and primary in listed_ids()
    assert listed_ids(ids=[env["id"]]) == [env["id"]]
    assert env["id"] in listed_ids(prefix=name[:7].upper())
    assert env["id"] not in listed_ids(prefix="zzz")
    assert env["id"] not in listed_ids(enabled=False)

    # Its own access keys
    second = provisioning.generate_access_key(env["id"], name="ci")
    assert api.ping(cloud_name=cloud, api_key=second["api_key"],
                    api_secret=second["api_secret"])["status"] == "ok"
    assert second["api_key"] in [k["api_key"] for k in
                                 provisioning.access_keys(env["id"])["access_keys"]]

    # Disabled: refused until enabled again; attributes replaced
    disabled = provisioning.update_sub_account(env["id"], enabled=False)
    assert disabled["enabled"] is False and env["id"] in listed_ids(enabled=False)
    with pytest.raises(cloudinary.exceptions.NotAllowed, match="disabled"):
        api.ping(**opts)
    assert requests.get(url, timeout=30).status_code == 403
    provisioning.update_sub_account(env["id"], enabled=True, custom_attributes={"team": "app"})
    assert provisioning.sub_account(env["id"])["custom_attributes"] == {"team": "app"}
    assert api.ping(**opts)["status"] == "ok"

    # Deleted: gone with its assets and keys
    assert provisioning.delete_sub_account(env["id"]) == {"message": "ok"}
    with pytest.raises(cloudinary.exceptions.NotFound):
        provisioning.sub_account(env["id"])
    assert requests.get(url, timeout=30).status_code == 404
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired):
        api.ping(**opts)
    assert api.ping()["status"] == "ok"


def test_settings_are_copied_from_a_base_environment(primary, media, unique):
    preset = unique("preset")
    api.create_upload_preset(name=preset, unsigned=True, tags="from-base")
    name = unique("copy")
    env = provisioning.create_sub_account(name, base_account=primary)
    assert re.fullmatch(rf"{name}-[0-9a-f]{{6}}", env["cloud_name"]), env["cloud_name"]
    opts = as_environment(env)
    try:
        up = uploader.unsigned_upload(str(media("alpha-balloon.png")), preset,
                                      cloud_name=env["cloud_name"])
        assert up["tags"] == ["from-base"]
        # A copy, not a link: the base's preset can go
        api.delete_upload_preset(preset)
        assert api.upload_preset(preset, **opts)["name"] == preset
    finally:
        provisioning.delete_sub_account(env["id"])


def test_bad_requests_change_nothing(primary, unique):
    before = listed_ids()
    with pytest.raises(cloudinary.exceptions.BadRequest, match="cloud_name"):
        provisioning.create_sub_account(unique("x"), cloud_name="no spaces allowed")
    with pytest.raises(cloudinary.exceptions.AlreadyExists):
        provisioning.create_sub_account(unique("x"), cloud_name=CLOUD)
    with pytest.raises(cloudinary.exceptions.NotFound):
        provisioning.create_sub_account(unique("x"), base_account="0" * 32)
    with pytest.raises(cloudinary.exceptions.BadRequest, match="primary"):
        provisioning.delete_sub_account(primary)
    with pytest.raises(cloudinary.exceptions.BadRequest, match="primary"):
        provisioning.update_sub_account(primary, enabled=False)
    with pytest.raises(cloudinary.exceptions.NotFound):
        provisioning.update_sub_account("0" * 32, name="y")
    with pytest.raises(cloudinary.exceptions.NotFound, match="Unknown account"):
        provisioning.sub_accounts(account_id="someone-else")
    assert listed_ids() == before
    assert api.ping()["status"] == "ok"
