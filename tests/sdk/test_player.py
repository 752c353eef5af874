"""The player page in a real browser: headless Chromium (Debian's) loads ``/player/`` and plays
a stream uploaded through the SDK to the end, over HLS (hls.js) and DASH (dash.js), also after
a rendition is picked in the quality menu. Driven by ``tests/browser/play.mjs``."""

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import cloudinary.uploader as uploader
import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
PLAY = REPO / "tests" / "browser" / "play.mjs"


@pytest.fixture(scope="module")
def clip(server, tmp_path_factory):
    """A 12 s 1280x720 clip with sound (three segments per track), uploaded."""
    path = tmp_path_factory.mktemp("player") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", "12", "-c:v", "libx264",
         "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
        check=True, capture_output=True)
    pid = f"player-{uuid.uuid4().hex[:12]}"
    uploader.upload(str(path), public_id=pid, resource_type="video")
    return pid


def play(server, query, *extra):
    """Runs the browser on the player page; its JSON summary."""
    for tool in ("node", "/usr/bin/chromium"):
        assert shutil.which(tool), f"{tool} is missing: run `make setup`"
    assert (REPO / "tests" / "browser" / "node_modules" / "playwright-core").is_dir(), \
        "playwright-core is missing: run `make setup`"
    url = f"{server.base_url}/player/?{query}"
    done = subprocess.run(["node", str(PLAY), url, "--timeout", "120", "--rate", "2", *extra],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"{url}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_player_page_is_served_with_its_libraries(server):
    page = requests.get(f"{server.base_url}/player/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert f'name="kino-cloud" content="{server.cloud}"' in page.text
    for name in ("vendor/hls.min.js", "vendor/dash.mediaplayer.min.js",
                 "vendor/hls.js-LICENSE", "vendor/dashjs-LICENSE.md", "player.js"):
        r = requests.get(f"{server.base_url}/player/{name}", timeout=10)
        assert r.status_code == 200 and len(r.content) > 500, name
    assert requests.get(f"{server.base_url}/player/nope.js", timeout=10).status_code == 404


@pytest.mark.parametrize("protocol", ["hls", "dash"])
def test_a_stream_plays_to_the_end(server, clip, protocol):
    result = play(server, f"public_id={clip}&profile=hd&protocol={protocol}")

    assert result["state"] == "ended" and result["protocol"] == protocol
    assert result["levels"] == 5, "the hd ladder fits a 1280x720 source whole"
    assert abs(result["duration"] - 12.0) < 0.1
    assert abs(result["currentTime"] - result["duration"]) < 0.1


@pytest.mark.parametrize("protocol", ["hls", "dash"])
def test_the_quality_menu_switches_rendition(server, clip, protocol):
    result = play(server, f"public_id={clip}&profile=hd&protocol={protocol}", "--quality", "0")

    assert result["state"] == "ended"
    assert (result["videoWidth"], result["videoHeight"]) == (426, 240)


def test_hls_version_3_with_mpeg_ts_plays_to_the_end(server, clip):
    result = play(server, f"public_id={clip}&profile=sd&protocol=hls&transformation=fl_hlsv3")

    assert result["state"] == "ended"
    assert abs(result["currentTime"] - 12.0) < 0.1
