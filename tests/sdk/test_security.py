"""Access control with URLs the official Python SDK builds: authenticated and private
delivery (SHA-1 and the SHA-256 long signature), strict transformations, and the account's
restrictions by format and by referrer. Each refusal and each acceptance is checked.

These tests run against a second server with the account's security settings on."""
import cloudinary.api as api
import cloudinary.uploader as uploader
import pytest
import requests
from cloudinary.utils import cloudinary_url

import conftest
from conftest import KINO_BIN, Server

ALLOWED_PAGE = "https://www.example.com/gallery"


@pytest.fixture(scope="module")
def secured(server, tmp_path_factory):
    srv = Server(KINO_BIN, tmp_path_factory.mktemp("kino-secured"), extra_env={
        "KINO_SECURITY__STRICT_TRANSFORMATIONS": "true",
        "KINO_SECURITY__RESTRICTED_FORMATS": "gif",
        "KINO_SECURITY__ALLOWED_REFERRERS": "example.com",
    })
    srv.start()
    yield srv
    srv.stop()
    server.configure_sdk()


@pytest.fixture
def sdk(secured):
    """The SDK pointed at the secured server for one test."""
    secured.configure_sdk()
    previous, conftest._current_server = conftest._current_server, secured
    yield secured
    conftest._current_server = previous


def get(url, referer=ALLOWED_PAGE):
    headers = {"Referer": referer} if referer else {}
    return requests.get(url, headers=headers, timeout=120)


def refused(url, message, referer=ALLOWED_PAGE):
    r = get(url, referer)
    assert r.status_code == 401, (url, r.status_code, r.text)
    assert message in r.json()["error"]["message"], r.text
    assert message in r.headers["X-Cld-Error"]


def test_authenticated_delivery_needs_a_valid_signature(sdk, media, unique):
    pid = unique("auth")
    uploader.upload(str(media("alpha-balloon.png")), public_id=pid, type="authenticated")
    tx = {"width": 40, "crop": "scale"}

    unsigned = cloudinary_url(pid, type="authenticated", format="png", transformation=tx)[0]
    sha1 = cloudinary_url(pid, type="authenticated", format="png", transformation=tx,
                          sign_url=True)[0]
    sha256 = cloudinary_url(pid, type="authenticated", format="png", transformation=tx,
                            sign_url=True, long_url_signature=True)[0]
    refused(unsigned, "Authenticated resource requires a signed URL")
    # A signature made for another transformation does not open this one.
    other = cloudinary_url(pid, type="authenticated", format="png",
                           transformation={"width": 41, "crop": "scale"}, sign_url=True)[0]
    forged = sha1.replace("/c_scale,w_40/", "/c_scale,w_99/")
    assert forged != sha1 and other != sha1
    refused(forged, "Invalid signature in the URL")

    for url, length in ((sha1, 8), (sha256, 32)):
        # The signature is the path segment `s--…--` (it may itself contain `-`).
        segment = next(seg for seg in url.split("/") if seg.startswith("s--"))
        assert segment.endswith("--") and len(segment) - 5 == length, segment
        r = get(url)
        assert r.status_code == 200, r.text
        assert r.content.startswith(b"\x89PNG")


def test_private_originals_need_a_signature_and_signed_derived_files_are_served(sdk, media,
                                                                                unique):
    pid = unique("priv")
    uploader.upload(str(media("alpha-balloon.png")), public_id=pid, type="private")

    refused(cloudinary_url(pid, type="private", format="png")[0],
            "Private resource requires a signed URL")
    assert get(cloudinary_url(pid, type="private", format="png", sign_url=True)[0]) \
        .status_code == 200
    signed_thumb = cloudinary_url(pid, type="private", format="png", sign_url=True,
                                  transformation={"width": 30, "crop": "scale"})[0]
    assert get(signed_thumb).status_code == 200


def test_strict_transformations_allow_only_what_the_account_allowed(sdk, media, unique):
    pid, name, hidden = unique("strict"), unique("allowed"), unique("hidden")
    uploader.upload(str(media("alpha-balloon.png")), public_id=pid,
                    eager=[{"width": 50, "crop": "scale"}])
    # New names are allowed for strict (the SDK's create sends no flag); `hidden` is not.
    api.create_transformation(name, "c_scale,w_60")
    api.create_transformation(hidden, "c_scale,w_70")
    api.update_transformation(hidden, allowed_for_strict=False)

    def url(**options):
        return cloudinary_url(pid, format="png", **options)[0]

    # Refused: made on the fly without the account's leave.
    refused(url(transformation={"width": 80, "crop": "scale"}),
            "Transformation c_scale,w_80 is not allowed: strict transformations are on")
    refused(url(transformation={"width": 70, "crop": "scale"}),
            "strict transformations are on")
    # Accepted: the original, an eager derived file, a named one, a definition allowed for
    # strict, and any transformation in a signed URL.
    for ok in (url(),
               url(transformation={"width": 50, "crop": "scale"}),
               url(transformation=name),
               url(transformation=hidden),
               url(transformation={"width": 60, "crop": "scale"}),
               url(transformation={"width": 80, "crop": "scale"}, sign_url=True)):
        r = get(ok)
        assert r.status_code == 200, (ok, r.text)
        assert r.content.startswith(b"\x89PNG")


def test_restricted_formats_need_a_signed_url(sdk, media, unique):
    pid = unique("fmt")
    uploader.upload(str(media("alpha-balloon.png")), public_id=pid)

    refused(cloudinary_url(pid, format="gif")[0],
            "Delivery of .gif files is restricted for this account; sign the URL")
    refused(cloudinary_url(pid, format="png", transformation={"fetch_format": "gif"})[0],
            "Delivery of .gif files is restricted")
    r = get(cloudinary_url(pid, format="gif", sign_url=True)[0])
    assert r.status_code == 200 and r.content.startswith(b"GIF8")
    assert get(cloudinary_url(pid, format="png")[0]).status_code == 200


def test_strict_referral_serves_only_pages_of_allowed_domains(sdk, media, unique):
    pid = unique("ref")
    uploader.upload(str(media("alpha-balloon.png")), public_id=pid)
    url = cloudinary_url(pid, format="png")[0]

    for page in ("https://example.com/", "http://cdn.example.com:8080/a/b"):
        assert get(url, referer=page).status_code == 200, page
    refused(url, "Requests from evil-example.com are not allowed (strict referral is on)",
            referer="https://evil-example.com/")
    refused(url, "A Referer from an allowed domain is required", referer=None)
    # The account's own signed URLs work from anywhere.
    assert get(cloudinary_url(pid, format="png", sign_url=True)[0], referer=None) \
        .status_code == 200
