"""API keys through the official Python SDK's provisioning module: a second key is made,
used for uploads, Admin API calls and signed URLs, disabled (then refused), renamed and deleted;
the main key cannot be disabled or deleted."""
import cloudinary
import cloudinary.api as api
import cloudinary.exceptions
import cloudinary.provisioning as provisioning
import cloudinary.uploader as uploader
import pytest
import requests
from cloudinary.utils import cloudinary_url

from conftest import (ACCOUNT_ID, API_KEY, API_SECRET, CLOUD, PROVISIONING_KEY,
                      PROVISIONING_SECRET)


@pytest.fixture
def account(server):
    """The account-level credentials, as CLOUDINARY_ACCOUNT_URL would give them; returns the
    id of the primary product environment (the one of CLOUDINARY_URL)."""
    provisioning.account_config().update(
        account_id=ACCOUNT_ID, provisioning_api_key=PROVISIONING_KEY,
        provisioning_api_secret=PROVISIONING_SECRET)
    listed = provisioning.sub_accounts()["sub_accounts"]
    return next(e["id"] for e in listed if e["cloud_name"] == CLOUD)


def as_key(key):
    return {"api_key": key["api_key"], "api_secret": key["api_secret"]}


def test_a_second_key_works_until_it_is_disabled_or_deleted(account, media, unique):
    # Arrange: a new key
    key = provisioning.generate_access_key(account, name=unique("ci"), enabled=True)
    assert len(key["api_key"]) == 15 and key["enabled"] is True and key["api_secret"]
    listed = provisioning.access_keys(account, sort_by="created_at", sort_order="asc")
    assert listed["total"] >= 2
    assert [k["api_key"] for k in listed["access_keys"]][0] == API_KEY
    assert key["api_key"] in [k["api_key"] for k in listed["access_keys"]]

    # Act + assert: the key signs uploads, opens the Admin API and signs delivery URLs
    pid = unique("by-second-key")
    up = uploader.upload(str(media("photo-denali.webp")), public_id=pid, type="private",
                         **as_key(key))
    assert up["public_id"] == pid
    assert api.resource(pid, type="private", **as_key(key))["public_id"] == pid
    url, _ = cloudinary_url(pid, type="private", format="webp", sign_url=True, **as_key(key))
    assert requests.get(url, timeout=30).status_code == 200

    # Disabled: refused everywhere, with a message that says so
    changed = provisioning.update_access_key(account, key["api_key"], enabled=False)
    assert changed["enabled"] is False
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired, match="is disabled"):
        uploader.upload(str(media("photo-denali.webp")), **as_key(key))
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired, match="is disabled"):
        api.ping(**as_key(key))
    assert requests.get(url, timeout=30).status_code == 401

    # Renamed and enabled again, then deleted: unknown from then on
    renamed = provisioning.update_access_key(account, key["api_key"], name="renamed",
                                             enabled=True)
    assert (renamed["name"], renamed["enabled"]) == ("renamed", True)
    assert api.ping(**as_key(key))["status"] == "ok"
    assert provisioning.delete_access_key(account, api_key=key["api_key"]) == {"message": "ok"}
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired, match="Unknown API key"):
        api.ping(**as_key(key))
    with pytest.raises(cloudinary.exceptions.NotFound):
        provisioning.delete_access_key(account, api_key=key["api_key"])


def test_keys_are_deleted_by_name_and_the_main_key_is_kept(account, unique):
    name = unique("by-name")
    key = provisioning.generate_access_key(account, name=name)
    assert provisioning.delete_access_key(account, name=name) == {"message": "ok"}
    assert key["api_key"] not in [k["api_key"] for k in provisioning.access_keys(account)["access_keys"]]
    with pytest.raises(cloudinary.exceptions.BadRequest, match="main API key"):
        provisioning.update_access_key(account, API_KEY, enabled=False)
    with pytest.raises(cloudinary.exceptions.BadRequest, match="main API key"):
        provisioning.delete_access_key(account, api_key=API_KEY)
    assert api.ping()["status"] == "ok"


def test_provisioning_needs_the_account_credentials(account):
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired):
        provisioning.access_keys(account, provisioning_api_key=PROVISIONING_KEY,
                                 provisioning_api_secret="wrong")
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired):
        provisioning.access_keys(account, provisioning_api_key=API_KEY,
                                 provisioning_api_secret=API_SECRET)
    with pytest.raises(cloudinary.exceptions.NotFound, match="Unknown product environment"):
        provisioning.access_keys("someone-else")
    with pytest.raises(cloudinary.exceptions.NotFound, match="Unknown account other"):
        provisioning.access_keys(account, account_id="other")
