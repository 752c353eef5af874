"""kill -9 while an upload streams in and while a transformation streams out, then a restart:
no half-visible asset, no half-written blob, nothing left in staging, and the interrupted
transformation is made whole when asked again."""
import json
import subprocess
import threading
import time
import uuid

import cloudinary
import cloudinary.api as api
import cloudinary.utils
import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
import requests
from cloudinary.utils import cloudinary_url

from conftest import CLOUD


def slow_multipart(public_id, release):
    """A signed-upload body that sends half a file, then waits until `release` is set."""
    boundary = uuid.uuid4().hex
    params = cloudinary.utils.build_upload_params(public_id=public_id)
    signed = cloudinary.utils.sign_request(params, {})
    head = b"".join(
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
        for k, v in signed.items() if v is not None)
    head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
             f"filename=\"half.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()

    def body():
        yield head
        yield b"x" * 1_000_000
        release.wait(30)
        yield b"never sent"
    return boundary, body()


def test_kill_9_mid_upload_and_mid_transform_leaves_nothing_half_done(server, tmp_path, unique):
    # Arrange: a video whose transformation takes seconds, uploaded whole
    source = tmp_path / "long.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi",
                    "-i", "testsrc2=size=1280x720:rate=30", "-t", "20",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    str(source)], check=True)
    video = unique("crash-video")
    asset = uploader.upload(str(source), public_id=video, resource_type="video")
    transform_url = cloudinary_url(video, resource_type="video", format="mp4",
                                   transformation=[{"width": 1920, "height": 1080,
                                                    "crop": "pad", "background": "blurred:400:15"}])[0]

    # Act: an upload half sent and a transformation half made when the server is killed
    partial = unique("crash-upload")
    release = threading.Event()
    boundary, body = slow_multipart(partial, release)
    upload_url = f"{server.base_url}/v1_1/{CLOUD}/raw/upload"
    sender = threading.Thread(target=lambda: _post_ignoring_errors(
        upload_url, body, boundary), daemon=True)
    sender.start()
    made = requests.get(transform_url, stream=True, timeout=60)
    assert made.status_code == 200, made.headers.get("x-cld-error")
    first = next(made.iter_content(65536))
    assert first, "the transformation streams while it is made"
    time.sleep(0.5)
    server.crash_and_restart()
    release.set()
    sender.join(10)
    server.configure_sdk()

    # Assert: nothing half done is visible, and nothing half written stays behind
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.resource(partial, resource_type="raw")
    assert list((server.data_dir / "tmp").iterdir()) == []
    derived_dir = server.data_dir / "blobs" / "derived" / asset["asset_id"]
    assert not derived_dir.exists() or list(derived_dir.iterdir()) == []
    assert api.resource(video, resource_type="video")["derived"] == []
    # The transformation asked again (on the restarted server) is made whole.
    again = requests.get(cloudinary_url(video, resource_type="video", format="mp4",
                                        transformation=[{"width": 1920, "height": 1080,
                                                         "crop": "pad",
                                                         "background": "blurred:400:15"}])[0],
                         timeout=300)
    assert again.status_code == 200
    (tmp_path / "again.mp4").write_bytes(again.content)
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         str(tmp_path / "again.mp4")], check=True, capture_output=True, text=True).stdout)
    assert probe["streams"][0]["width"] == 1920
    assert abs(float(probe["format"]["duration"]) - 20) < 0.5
    assert len(api.resource(video, resource_type="video")["derived"]) == 1


def _post_ignoring_errors(url, body, boundary):
    try:
        requests.post(url, data=body, timeout=60,
                      headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    except requests.RequestException:
        pass
