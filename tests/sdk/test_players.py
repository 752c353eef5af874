"""Third-party players from npm play Kino's adaptive streams to the end in headless Chromium:
video.js (HLS and DASH through VHS), Shaka Player (HLS and DASH) and the Cloudinary Video
Player, which builds the `sp_` URL itself from the cloud name, the public id and a streaming
profile. Nothing may be fetched from anywhere but this machine. Driven by
``tests/browser/players.mjs``."""
import json
import shutil
import subprocess
import uuid
from pathlib import Path

import cloudinary.uploader as uploader
import pytest

from conftest import CLOUD

REPO = Path(__file__).resolve().parents[2]
PLAYERS = REPO / "tests" / "browser" / "players.mjs"


@pytest.fixture(scope="module")
def clip(server, tmp_path_factory):
    """A 12 s 1280x720 clip with sound, uploaded."""
    path = tmp_path_factory.mktemp("players") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", "12", "-c:v", "libx264",
         "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
        check=True, capture_output=True)
    pid = f"players-{uuid.uuid4().hex[:12]}"
    uploader.upload(str(path), public_id=pid, resource_type="video")
    return pid


def play(page, query):
    for tool in ("node", "/usr/bin/chromium"):
        assert shutil.which(tool), f"{tool} is missing: run `make setup`"
    done = subprocess.run(["node", str(PLAYERS), page, query, "--timeout", "120"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{page} did not play to the end:\n{done.stdout}\n{done.stderr}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["state"] == "ended"
    assert abs(result["currentTime"] - 12) < 0.5, result
    assert 0 < result["videoHeight"] <= 720, result
    assert result["kinoResponses"] > 0 and result["external"] == [], result
    return result


@pytest.mark.parametrize("page", ["videojs", "shaka"])
@pytest.mark.parametrize("kind,ext", [("hls", "m3u8"), ("dash", "mpd")])
def test_a_player_plays_the_stream_to_the_end(server, clip, page, kind, ext):
    src = f"{server.base_url}/{CLOUD}/video/upload/sp_sd/{clip}.{ext}"
    play(page, f"src={src}&type={kind}&rate=2")


@pytest.mark.parametrize("kind,profile", [("hls", "hd"), ("dash", "sd")])
def test_the_cloudinary_video_player_builds_its_url_and_plays(server, clip, kind, profile):
    result = play("cloudinary", f"cloud={CLOUD}&host=127.0.0.1:{server.port}&pid={clip}"
                                f"&type={kind}&profile={profile}&rate=2")
    assert result["videoWidth"] > 0
