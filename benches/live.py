#!/usr/bin/env python3
"""Live streaming speed, in one run (driven by benches/live.sh, which builds and starts Kino).

1. Latency: `ffmpeg -re -c copy` publishes a prepared clip over RTMP; from the moment it is
   started, the time until a blocking playlist request (`_HLS_msn=0&_HLS_part=0`) lists the
   first part, and until segment 0 is complete. The clip's frames carry their own time
   (`drawtext` of the presentation time), so what a part holds can be checked by eye.
2. CPU: Kino's CPU time (from /proc) per second of a live session, for the `hd` ladder from
   a 720p source (the source passed through, four rungs encoded) and from a 360p source.
3. Capacity: N 720p sessions at once; a session keeps up when the media its playlist lists
   is, in its slowest rendition, within 3 s of the time it has been publishing. The largest N that keeps up.

Usage: benches/live.py BASE_URL KINO_PID WORKDIR [latency] [cpu] [capacity]
       (KINO_KEY, KINO_SECRET, KINO_CLOUD in the environment; default: all three parts)
"""

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

BASE, PID, WORK = sys.argv[1], int(sys.argv[2]), sys.argv[3]
KEY, SECRET, CLOUD = os.environ["KINO_KEY"], os.environ["KINO_SECRET"], os.environ["KINO_CLOUD"]
AUTH = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
TICKS = os.sysconf("SC_CLK_TCK")


def api(method, path, body=None):
    req = urllib.request.Request(f"{BASE}/v2/video/{CLOUD}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": AUTH, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["data"]


def get(url, timeout=30):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, ""
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return 0, ""


def clip(name, size, seconds):
    path = os.path.join(WORK, name)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(seconds),
         "-vf", "drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:"
                "text='%{pts\\:hms}':fontsize=48:fontcolor=white:box=1:boxcolor=black:x=20:y=20",
         "-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-pix_fmt", "yuv420p",
         "-c:a", "aac", path], check=True)
    return path


def stream(name):
    s = api("POST", "/live_streams", {"name": name, "idle_timeout_sec": 5})
    return s, f"{s['input']['uri']}/{s['input']['stream_key']}", s["outputs"][0]["uri"]


def publish(source, url):
    return subprocess.Popen(["ffmpeg", "-v", "error", "-re", "-i", source, "-c", "copy",
                             "-f", "flv", url], stdin=subprocess.DEVNULL)


def cpu_seconds():
    with open(f"/proc/{PID}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def listed_seconds(playlist_url):
    """Media listed by the slowest rendition (complete segments plus the open one's parts)."""
    status, master = get(playlist_url, timeout=5)
    renditions = master.count("#EXT-X-STREAM-INF") if status == 200 else 0
    slowest = None
    for r in range(renditions):
        status, text = get(playlist_url.replace(".m3u8", f".m3u8?r={r}"), timeout=5)
        if status != 200:
            return 0.0
        total = sum(float(line[8:].rstrip(",")) for line in text.splitlines()
                    if line.startswith("#EXTINF:"))
        tail = text.rsplit("#EXTINF:", 1)[-1]
        total += sum(float(line.split("=", 1)[1].split(",", 1)[0]) for line in tail.splitlines()
                     if line.startswith("#EXT-X-PART:DURATION="))
        slowest = total if slowest is None else min(slowest, total)
    return slowest or 0.0


def latency(source, runs=3):
    print("== publish → first part listed / first segment complete (RTMP, 1 s GOP, 1 s parts)")
    for run in range(runs):
        _, url, playlist = stream(f"latency-{run}")
        top = playlist.replace(".m3u8", ".m3u8?r=0")
        start = time.monotonic()
        pub = publish(source, url)
        part = segment = None
        while part is None and time.monotonic() - start < 20:
            status, text = get(f"{top}&_HLS_msn=0&_HLS_part=0", timeout=10)
            if status == 200 and "#EXT-X-PART:" in text:
                part = time.monotonic() - start
            else:
                time.sleep(0.01)
        status, _ = get(f"{top}&_HLS_msn=0", timeout=10)
        if status == 200:
            segment = time.monotonic() - start
        pub.wait()
        print(f"run {run + 1}: first part {part:.2f} s, first segment {segment:.2f} s")
        time.sleep(6)


def cpu(source, label, seconds=12):
    _, url, playlist = stream(f"cpu-{label}")
    pub = publish(source, url)
    time.sleep(4)
    c0, t0 = cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    c1, t1 = cpu_seconds(), time.monotonic()
    pub.wait()
    print(f"{label}: {100 * (c1 - c0) / (t1 - t0):.0f} % of one core "
          f"(renditions: {get(playlist)[1].count('#EXT-X-STREAM-INF')})")
    time.sleep(6)


def capacity(source, most=6, seconds=15):
    print("== sessions at once (720p source, hd ladder); keeps up: listed media within 3 s")
    best = 0
    for n in range(1, most + 1):
        sessions = [stream(f"cap-{n}-{i}") for i in range(n)]
        start = time.monotonic()
        pubs = [publish(source, url) for _, url, _ in sessions]
        time.sleep(4)
        c0, t0 = cpu_seconds(), time.monotonic()
        time.sleep(seconds - 4)
        used = 100 * (cpu_seconds() - c0) / (time.monotonic() - t0)
        elapsed = time.monotonic() - start
        lags = [elapsed - listed_seconds(playlist) for _, _, playlist in sessions]
        for p in pubs:
            p.terminate()
            p.wait()
        ok = all(lag < 3.0 for lag in lags)
        print(f"{n} at once: Kino uses {used:.0f} % CPU; lag "
              f"{', '.join(f'{lag:.1f}' for lag in lags)} s → {'keeps up' if ok else 'falls behind'}")
        if not ok:
            break
        best = n
        time.sleep(7)
    print(f"this machine holds {best} hd-ladder session(s) from 720p sources")


def main():
    parts = sys.argv[4:] or ["latency", "cpu", "capacity"]
    print("== sources")
    hd = clip("hd.mp4", "1280x720", 40)
    small = clip("small.mp4", "640x360", 40)
    if "latency" in parts:
        latency(hd)
    if "cpu" in parts:
        print("== CPU per session")
        cpu(hd, "720p source, hd ladder")
        cpu(small, "360p source, hd ladder")
    if "capacity" in parts:
        capacity(hd)


main()
