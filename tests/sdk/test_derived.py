"""Transformed delivery through SDK-built URLs, and removing derived files with the SDK's
``delete_resources(keep_original=True, transformations=…)`` and ``delete_derived_resources``."""

import cloudinary.api as api
import cloudinary.uploader as uploader
from cloudinary.utils import cloudinary_url


def _derived(pid):
    return api.resource(pid, resource_type="video")["derived"]


def test_sdk_video_urls_are_transformed_cached_and_removable(server, media, unique, download,
                                                             probe, tmp_path):
    # Arrange: a video and two transformed URLs built by the SDK
    pid = unique("vid")
    uploader.upload(str(media("portrait-720x1080-h264-aac.mp4")), public_id=pid,
                    resource_type="video")
    small, _ = cloudinary_url(pid, resource_type="video", format="mp4",
                              transformation=[{"width": 160, "crop": "scale"}])
    square, _ = cloudinary_url(pid, resource_type="video", format="webm",
                               transformation=[{"width": 120, "height": 120, "crop": "fill",
                                                "gravity": "auto"}])

    # Act
    out = tmp_path / "small.mp4"
    out.write_bytes(download(small))
    (tmp_path / "square.webm").write_bytes(download(square))

    # Assert: the output is what was asked, and both are listed as derived files
    video = next(s for s in probe(out)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (160, 240)
    derived = _derived(pid)
    assert sorted(d["transformation"] for d in derived) == ["c_fill,g_auto,h_120,w_120",
                                                           "c_scale,w_160"]

    # Act / Assert: keep_original with a transformation filter drops just that one
    result = api.delete_resources([pid], resource_type="video", keep_original=True,
                                  transformations="c_scale,w_160/mp4")
    assert result["deleted"] == {pid: "deleted"}
    assert result["deleted_counts"][pid] == {"original": 0, "derived": 1}
    remaining = _derived(pid)
    assert [d["transformation"] for d in remaining] == ["c_fill,g_auto,h_120,w_120"]

    # Act / Assert: delete_derived_resources by id; unknown ids are not_found
    result = api.delete_derived_resources([remaining[0]["id"], "0" * 32])
    assert result["deleted"] == {remaining[0]["id"]: "deleted", "0" * 32: "not_found"}
    assert _derived(pid) == []

    # Assert: the original is untouched and still delivers; a new request transforms again
    assert api.resource(pid, resource_type="video")["bytes"] > 0
    download(small)
    assert len(_derived(pid)) == 1
