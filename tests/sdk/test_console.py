"""The web console at /console/ in headless Chromium, driven as a user would by
``tests/browser/console.mjs`` (clicks, typing, the file picker; a screenshot per step): a wrong
secret is refused; signed in, one file is uploaded with the picker (progress bar) and one
dropped on the drop zone, a folder is browsed, an asset's transformation is previewed live and
its URL copied; an upload preset, a streaming profile and a live stream are created; the jobs
tab shows an eager ladder done. What the page showed is then checked against the APIs."""
import json
import shutil
import subprocess
from pathlib import Path

import cloudinary.api as api
import cloudinary.uploader as uploader
import requests

from conftest import API_KEY, API_SECRET, CLOUD

REPO = Path(__file__).resolve().parents[2]
CONSOLE = REPO / "tests" / "browser" / "console.mjs"


def test_the_console_browses_uploads_previews_and_administers(server, media, unique, tmp_path):
    for tool in ("node", "/usr/bin/chromium"):
        assert shutil.which(tool), f"{tool} is missing: run `make setup`"
    folder = unique("console-shelf")
    uploader.upload(str(media("exif-orient-1.jpg")), public_id=f"{folder}/inside")
    ladder = uploader.upload(str(media("portrait-720x1080-h264-aac.mp4")), resource_type="video",
                             public_id=unique("console-ladder"), eager="sp_sd/m3u8",
                             eager_async=True)
    picked = tmp_path / f"{unique('picked')}.png"
    picked.write_bytes(media("alpha-balloon.png").read_bytes())
    shots = tmp_path / "shots"
    shots.mkdir()

    done = subprocess.run(["node", str(CONSOLE), server.base_url, API_KEY, API_SECRET,
                           str(picked), folder, str(shots)],
                          capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["cloud"] == CLOUD
    assert seen["refused"].startswith("Sign-in failed: Invalid API secret")
    assert seen["uploaded"] == picked.stem
    value, maximum = seen["progress"]
    assert value == maximum > picked.stat().st_size
    assert seen["thumbnail"] == [160, 120]
    assert seen["dropped"] == "done: dropped-square"
    assert api.resource("dropped-square")["width"] == 40
    assert seen["inFolder"] == [f"{folder}/inside"]
    assert seen["searched"] == [f"{folder}/inside"]
    assert seen["details"] == picked.stem
    assert seen["preview"] == [50, 50]
    assert seen["url"].endswith(f"/{CLOUD}/image/upload/c_scale,w_50/{picked.stem}.png")
    assert seen["clipboard"] == seen["url"]
    assert "hd" in seen["profiles"] and "console-profile" in seen["profiles"]
    profile = api.get_streaming_profile("console-profile")["data"]
    assert [r["transformation"][0]["width"] for r in profile["representations"]] == [640, 320]
    api.delete_streaming_profile("console-profile")
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-refused.png", "2-home.png", "3-uploaded.png", "4-folder.png", "5-details.png",
        "6-presets.png", "7-live.png", "8-jobs.png"]
    assert ["done", 1] in seen["jobs"], seen["jobs"]
    assert ladder["eager"][0]["batch_id"]
    # What the console did is what the APIs now say.
    assert api.resource(picked.stem)["bytes"] == picked.stat().st_size
    preset = api.upload_preset("console-preset")
    assert preset["unsigned"] is True and preset["settings"]["folder"] == "from-console"
    api.delete_upload_preset("console-preset")
    live = f"{server.base_url}/v2/video/{CLOUD}/live_streams"
    streams = requests.get(live, auth=(API_KEY, API_SECRET), timeout=30).json()["data"]
    made = [s for s in streams if s["name"] == "console-live"]
    assert len(made) == 1, streams
    assert made[0]["input"]["stream_key"] in seen["live"]
    assert requests.delete(f"{live}/{made[0]['id']}", auth=(API_KEY, API_SECRET),
                           timeout=30).status_code == 200
