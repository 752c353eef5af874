"""Streaming profiles through the official SDK: the predefined ladders, and a custom profile's
create / read / update / delete, with representations sent as the SDK sends them."""

import cloudinary.api as api
import cloudinary.exceptions
import pytest

PREDEFINED = ["4k", "full_hd", "hd", "sd", "full_hd_wifi", "full_hd_lean", "hd_lean"]


def test_the_predefined_profiles_are_listed_and_readable(server):
    # Act
    listed = api.list_streaming_profiles()["data"]

    # Assert: every predefined name, marked predefined
    by_name = {p["name"]: p for p in listed}
    for name in PREDEFINED:
        assert by_name[name]["predefined"] is True, name
    hd = api.get_streaming_profile("hd")["data"]
    assert hd["name"] == "hd" and hd["predefined"] is True
    top = hd["representations"][0]["transformation"][0]
    assert top["width"] == 1280 and top["height"] == 720 and top["crop"] == "limit"
    assert isinstance(top["bit_rate"], str)

    # Act / Assert: predefined profiles cannot be deleted
    with pytest.raises(cloudinary.exceptions.BadRequest):
        api.delete_streaming_profile("hd")


def test_a_custom_profile_lifecycle(server, unique):
    name = unique("ladder").replace("-", "_")

    # Act: create with representations as the SDK documents them (it sends a JSON string of
    # URL-syntax transformations)
    created = api.create_streaming_profile(
        name, display_name="Two rungs",
        representations=[{"transformation": {"crop": "limit", "width": 1280, "height": 720,
                                              "bit_rate": "3m"}},
                         {"transformation": {"crop": "limit", "width": 640, "height": 360,
                                             "bit_rate": "800k"}}])

    # Assert
    assert created["data"]["name"] == name
    got = api.get_streaming_profile(name)["data"]
    assert got["display_name"] == "Two rungs" and got["predefined"] is False
    rungs = [r["transformation"][0] for r in got["representations"]]
    assert [(r["width"], r["height"], r["bit_rate"]) for r in rungs] == [
        (1280, 720, "3m"), (640, 360, "800k")]
    with pytest.raises(cloudinary.exceptions.AlreadyExists):
        api.create_streaming_profile(name, representations=[{"transformation": {"width": 10}}])

    # Act / Assert: update the display name and the ladder
    api.update_streaming_profile(name, display_name="One rung",
                                 representations=[{"transformation": {"crop": "limit",
                                                                      "width": 320,
                                                                      "bit_rate": "300k"}}])
    got = api.get_streaming_profile(name)["data"]
    assert got["display_name"] == "One rung"
    assert len(got["representations"]) == 1

    # Act / Assert: bad ladders are refused and nothing changes
    with pytest.raises(cloudinary.exceptions.BadRequest):
        api.update_streaming_profile(name,
                                     representations=[{"transformation": {"width": "abc"}}])
    assert len(api.get_streaming_profile(name)["data"]["representations"]) == 1

    # Act / Assert: delete, then it is gone
    assert api.delete_streaming_profile(name)["message"] == "deleted"
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.get_streaming_profile(name)
    assert name not in [p["name"] for p in api.list_streaming_profiles()["data"]]
