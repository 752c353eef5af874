"""Live streams end to end, as a user drives them: the Live Streaming API over plain HTTP (no
official SDK wraps it), the ``ffmpeg`` CLI publishing over RTMP, hls.js in headless Chromium
playing the low-latency HLS while it is live, signed webhooks for the session, and the
recording read back through the Python SDK as an ordinary video asset."""

import json
import subprocess
import time

import cloudinary
import cloudinary.api as api
import requests

from conftest import API_KEY, API_SECRET, CLOUD
from test_player import PLAY


def play_live(server, stream_id):
    """hls.js in headless Chromium plays the stream from the player page, at normal speed."""
    url = f"{server.base_url}/player/?live={stream_id}"
    done = subprocess.run(["node", str(PLAY), url, "--timeout", "90"],
                          capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        # Where the player stood, and what Kino listed last.
        playlists = [requests.get(f"{server.base_url}/{CLOUD}/video/live/live_stream_{stream_id}"
                                  f"_hls.m3u8?r={r}", timeout=30).text for r in range(2)]
        raise AssertionError(f"{url}\n{done.stdout}\n{done.stderr}\n" + "\n".join(playlists))
    return json.loads(done.stdout.strip().splitlines()[-1])


def live(server, method, path, **kwargs):
    r = requests.request(method, f"{server.base_url}/v2/video/{CLOUD}{path}",
                         auth=(API_KEY, API_SECRET), timeout=30, **kwargs)
    return r.status_code, r.json()


def events(webhooks, path, count, timeout=60.0):
    """The first ``count`` notifications posted to ``path``, verified and decoded."""
    deadline = time.monotonic() + timeout
    with webhooks.lock:
        while True:
            got = [r for r in webhooks.received if r["path"] == f"/{path}"]
            if len(got) >= count:
                break
            left = deadline - time.monotonic()
            assert left > 0, f"{len(got)} of {count} notifications: {got}"
            webhooks.lock.wait(left)
    decoded = []
    for notice in got:
        headers = {k.lower(): v for k, v in notice["headers"].items()}
        assert cloudinary.utils.verify_notification_signature(
            notice["body"], headers["x-cld-timestamp"], headers["x-cld-signature"])
        decoded.append(json.loads(notice["body"]))
    return decoded


def test_a_live_stream_plays_in_the_browser_and_its_recording_is_an_asset(server, webhooks,
                                                                          unique, tmp_path):
    # Arrange: a stream whose webhooks go to our receiver
    hook = unique("live-hook")
    status, created = live(server, "POST", "/live_streams",
                           json={"name": "browser", "idle_timeout_sec": 10,
                                 "notification_url": webhooks.url(hook)})
    assert status == 200, created
    stream = created["data"]
    publish_url = f"{stream['input']['uri']}/{stream['input']['stream_key']}"

    # Act: publish 12 s in real time and play it live in the browser at the same time
    publisher = subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "12",
         "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", publish_url],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        result = play_live(server, stream["id"])
    finally:
        _, err = publisher.communicate(timeout=60)
    assert publisher.returncode == 0, err

    # Assert: hls.js played the live stream to its end, both renditions offered
    assert result["state"] == "ended" and result["levels"] == 2, result
    assert result["videoWidth"] in (640, 426)
    assert result["decodedFrames"] > 150, result
    # the session's webhooks, signed: started, ended, recording ready
    started, ended, ready = events(webhooks, hook, 3)
    assert [e["event"] for e in (started, ended, ready)] == \
        ["stream_started", "stream_ended", "recording_ready"]
    assert all(e["notification_type"] == "live_stream" and e["live_stream_id"] == stream["id"]
               for e in (started, ended, ready))
    assert abs(ended["duration"] - 12) < 1.0, ended
    # the recording is an ordinary video asset, read through the SDK
    asset = api.resource(ready["public_id"], resource_type="video")
    assert ready["public_id"] == f"live_stream_{stream['id']}_archive"
    assert abs(asset["duration"] - 12) < 1.0, asset
    assert (asset["width"], asset["height"]) == (640, 360)
    # and it transforms like any other video
    url = cloudinary.utils.cloudinary_url(ready["public_id"], resource_type="video",
                                          transformation=[{"width": 160, "crop": "scale"}],
                                          format="mp4")[0]
    small = requests.get(url, timeout=120)
    assert small.status_code == 200, small.text
    (tmp_path / "small.mp4").write_bytes(small.content)
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
         str(tmp_path / "small.mp4")], check=True, capture_output=True, text=True).stdout)
    assert [s["width"] for s in probe["streams"] if s["codec_type"] == "video"] == [160]
    status, shown = live(server, "GET", f"/live_streams/{stream['id']}")
    assert shown["data"]["status"] == "idle"


def test_a_recording_survives_a_server_crash_mid_session(server, unique):
    # Arrange: a session running for a few seconds
    status, created = live(server, "POST", "/live_streams", json={"name": unique("crash")})
    assert status == 200, created
    stream = created["data"]
    publisher = subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "30",
         "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv",
         f"{stream['input']['uri']}/{stream['input']['stream_key']}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    playlist = stream["outputs"][0]["uri"].replace(".m3u8", ".m3u8?r=0")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = requests.get(playlist, timeout=20)
        if r.status_code == 200 and r.text.count("#EXTINF:") >= 2:
            break
        time.sleep(0.3)
    else:
        raise AssertionError("the session never listed two segments")

    # Act: the server dies (SIGKILL: no shutdown work at all) and starts again
    try:
        server.crash_and_restart()
    finally:
        publisher.kill()
        publisher.wait()

    # Assert: what was recorded before the crash became the stream's recording
    public_id = f"live_stream_{stream['id']}_archive"
    deadline = time.monotonic() + 60
    while True:
        try:
            asset = api.resource(public_id, resource_type="video")
            break
        except cloudinary.exceptions.NotFound:
            assert time.monotonic() < deadline, "the recording was not recovered"
            time.sleep(0.5)
    assert asset["duration"] >= 3.5, asset
    assert (asset["width"], asset["height"]) == (640, 360)
    status, shown = live(server, "GET", f"/live_streams/{stream['id']}")
    assert shown["data"]["status"] == "idle"
