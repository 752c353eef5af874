"""Fixtures for the black-box SDK compatibility suite.

One Kino process is started per test session (``server``) with a fresh data dir, and the
official Cloudinary Python SDK is pointed at it through ``cloudinary.config`` only:
``upload_prefix`` for the Upload/Admin APIs and ``cname`` + ``secure=False`` for delivery URLs.
Tests share that server, so every test uses its own unique public ids, tags and folders.

Helpers are exposed as fixtures (``download``, ``digest``, ``probe``, ``check_upload`` …)
because the suite is kept to a few files; conftest modules should not be imported directly.
"""

import datetime as dt
import functools
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
import uuid
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Keep the SDK deterministic: CLOUDINARY_* variables of the developer's shell must not leak
# into the SDK configuration (it reads them at import time).
for _key in [k for k in os.environ if k.startswith("CLOUDINARY_")]:
    del os.environ[_key]

import cloudinary  # noqa: E402
import cloudinary.utils  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
KINO_BIN = Path(os.environ.get("KINO_BIN", REPO / "target" / "debug" / "kino"))
MEDIA_DIR = Path(os.environ.get("KINO_MEDIA_DIR", "/work/shared/media"))
START_TIMEOUT = float(os.environ.get("KINO_START_TIMEOUT", "60"))

CLOUD = "demo"
API_KEY = "123456789012345"
API_SECRET = secrets.token_urlsafe(20)
# The account-level (provisioning) key, as CLOUDINARY_ACCOUNT_URL gives it.
ACCOUNT_ID = "acct-" + secrets.token_hex(4)
PROVISIONING_KEY = "987654321098765"
PROVISIONING_SECRET = secrets.token_urlsafe(20)

READY_LINE = re.compile(r"^kino listening on (http://127\.0\.0\.1:(\d+))$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

_current_server = None  # for attaching the server log to failing test reports


# --------------------------------------------------------------------------- server


class Server:
    """A running ``kino serve`` process bound to 127.0.0.1 on an ephemeral port."""

    def __init__(self, binary: Path, workdir: Path, extra_env=None):
        self.binary = binary
        self.extra_env = dict(extra_env or {})
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = workdir / "kino-stderr.log"
        self.proc = None
        self.base_url = None
        self.port = None
        self.starts = 0

    # -- lifecycle

    def start(self):
        self.starts += 1
        stdout_path = self.workdir / f"kino-stdout-{self.starts}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDINARY_")}
        env["CLOUDINARY_URL"] = f"cloudinary://{API_KEY}:{API_SECRET}@{CLOUD}"
        env["CLOUDINARY_ACCOUNT_URL"] = (
            f"account://{PROVISIONING_KEY}:{PROVISIONING_SECRET}@{ACCOUNT_ID}")
        # Short job leases and retry delays, so crash and retry tests finish quickly.
        env.setdefault("KINO_JOBS__LEASE_SECS", "2")
        env.setdefault("KINO_JOBS__RETRY_SECS", "1")
        env.update(self.extra_env)
        with open(stdout_path, "wb") as out, open(self.stderr_path, "ab") as err:
            err.write(f"\n----- kino start #{self.starts} -----\n".encode())
            err.flush()
            self.proc = subprocess.Popen(
                [str(self.binary), "serve", "--listen", "127.0.0.1:0",
                 "--rtmp-listen", "127.0.0.1:0", "--srt-listen", "127.0.0.1:0",
                 # the suite's file servers listen there; other private addresses stay refused
                 "--allow-fetch-from", "127.0.0.1",
                 "--data-dir", str(self.data_dir)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
            )
        self.base_url, self.port = self._wait_for_ready_line(stdout_path)
        self._wait_for_health()
        self.configure_sdk()

    def stop(self, timeout=20.0):
        """SIGTERM the server and wait; returns its exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is not None:
            return proc.returncode
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None

    def restart(self):
        """Stop gracefully and start again on the same data dir (the port changes)."""
        rc = self.stop()
        self.start()
        return rc

    def crash_and_restart(self):
        """SIGKILL the server (no shutdown work at all), then start it on the same data dir."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        self.start()

    def configure_sdk(self):
        cloudinary.config(
            cloud_name=CLOUD,
            api_key=API_KEY,
            api_secret=API_SECRET,
            upload_prefix=self.base_url,
            cname=f"127.0.0.1:{self.port}",
            secure=False,
        )

    # -- helpers

    @property
    def cloud(self):
        return CLOUD

    def log_tail(self, lines=60):
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return "(no stderr log)"
        return "\n".join(text.splitlines()[-lines:])

    def _fail(self, message, stdout_path):
        code = self.stop(timeout=5)
        stdout = stdout_path.read_text(errors="replace") if stdout_path.exists() else ""
        raise RuntimeError(
            f"{message} (exit code {code})\n"
            f"--- stdout ---\n{stdout[-4000:]}\n"
            f"--- stderr tail ({self.stderr_path}) ---\n{self.log_tail()}"
        )

    def _wait_for_ready_line(self, stdout_path):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for line in stdout_path.read_text(errors="replace").splitlines():
                match = READY_LINE.match(line.strip())
                if match:
                    return match.group(1), int(match.group(2))
            if self.proc.poll() is not None:
                self._fail("kino exited before printing 'kino listening on http://127.0.0.1:<port>'",
                           stdout_path)
            time.sleep(0.05)
        self._fail(f"kino did not print its listening line within {START_TIMEOUT:.0f}s", stdout_path)

    def _wait_for_health(self):
        deadline = time.monotonic() + 15
        last = None
        while time.monotonic() < deadline:
            try:
                last = requests.get(f"{self.base_url}/healthz", timeout=5)
                if last.status_code == 200:
                    return
            except requests.RequestException as exc:
                last = exc
            time.sleep(0.1)
        raise RuntimeError(f"GET /healthz never answered 200 (last: {last!r})\n{self.log_tail()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    global _current_server
    if not KINO_BIN.is_file() or not os.access(KINO_BIN, os.X_OK):
        pytest.exit(f"Kino binary not found or not executable: {KINO_BIN} "
                    "(build it with `cargo build` or set KINO_BIN)", returncode=2)
    srv = Server(KINO_BIN, tmp_path_factory.mktemp("kino"))
    srv.start()
    _current_server = srv
    yield srv
    srv.stop()
    _current_server = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and _current_server is not None:
        state = "running"
        if _current_server.proc is not None and _current_server.proc.poll() is not None:
            state = f"EXITED with code {_current_server.proc.returncode}"
        report.sections.append(
            (f"kino stderr tail (server {state})", _current_server.log_tail(40)))


# --------------------------------------------------------------------------- small helpers


def _require_tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is required by the SDK suite but is not on PATH "
                    "(install the ffmpeg package)", pytrace=False)
    return path


@pytest.fixture
def unique():
    """``unique("img")`` -> ``"img-1a2b3c4d5e6f"``; ids, tags and folders never collide."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def media():
    """``media("face-astronaut.png")`` -> Path into the shared real-media corpus."""
    def get(name):
        path = MEDIA_DIR / name
        if not path.is_file():
            pytest.fail(f"media file missing: {path} (set KINO_MEDIA_DIR)", pytrace=False)
        return path
    return get


@pytest.fixture(scope="session")
def digest():
    """sha256 hex of bytes or of a file's content (compare digests, not megabytes)."""
    def sha(data_or_path):
        data = data_or_path.read_bytes() if isinstance(data_or_path, Path) else data_or_path
        return hashlib.sha256(data).hexdigest()
    return sha


@pytest.fixture(scope="session")
def download():
    """GET a delivery URL, assert 200 and return the body."""
    def get(url):
        resp = requests.get(url, timeout=120)
        assert resp.status_code == 200, f"GET {url} -> {resp.status_code}: {resp.text[:300]}"
        return resp.content
    return get


@pytest.fixture(scope="session")
def probe():
    """ffprobe JSON (format + streams) of a local file."""
    ffprobe = _require_tool("ffprobe")

    @functools.lru_cache(maxsize=None)
    def run(path):
        out = subprocess.run(
            [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
             str(path)],
            check=True, capture_output=True, text=True)
        return json.loads(out.stdout)
    return lambda path: run(str(path))


def _stream(info, kind):
    return next(s for s in info["streams"] if s["codec_type"] == kind)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _fraction(text):
    num, _, den = text.partition("/")
    return float(num) / float(den or 1)


@pytest.fixture(scope="session")
def check_upload(server, probe):
    """Assert the fields every upload response carries (reference §5.5, Appendix Q)."""
    def check(result, source, *, resource_type, public_id=None, fmt=None, tags=(),
              type_="upload", original_filename=None):
        data = source.read_bytes() if isinstance(source, Path) else source
        assert HEX32.match(result["asset_id"]), result["asset_id"]
        assert HEX32.match(result["version_id"]), result["version_id"]
        if public_id is not None:
            assert result["public_id"] == public_id
        assert isinstance(result["public_id"], str) and result["public_id"]
        assert _is_int(result["version"]) and abs(result["version"] - time.time()) < 3600
        assert cloudinary.utils.verify_api_response_signature(
            result["public_id"], result["version"], result["signature"]), "bad response signature"
        assert result["resource_type"] == resource_type
        assert result["type"] == type_
        assert ISO_Z.match(result["created_at"]), result["created_at"]
        created = dt.datetime.strptime(result["created_at"][:19], "%Y-%m-%dT%H:%M:%S")
        assert abs(created.replace(tzinfo=dt.timezone.utc).timestamp() - time.time()) < 3600
        assert sorted(result["tags"]) == sorted(tags)
        assert _is_int(result["bytes"]) and result["bytes"] == len(data)
        assert HEX32.match(result["etag"]), result["etag"]
        if fmt is not None:
            assert result["format"] == fmt
        if original_filename is not None:
            assert result["original_filename"] == original_filename
        if resource_type in ("image", "video") and isinstance(source, Path):
            video = _stream(probe(source), "video")
            assert (result["width"], result["height"]) == (video["width"], video["height"])
        suffix = result["public_id"] + (f".{result['format']}" if result.get("format") else "")
        for key in ("url", "secure_url"):
            url = result[key]
            assert url.startswith(f"{server.base_url}/{CLOUD}/{resource_type}/{type_}/"), url
            assert f"/v{result['version']}/" in url, url
            assert url.endswith("/" + suffix), url
    return check


@pytest.fixture(scope="session")
def check_video(probe):
    """Assert the video-specific upload fields against ffprobe of the source."""
    def check(result, source):
        info = probe(source)
        video, audio, fmt = _stream(info, "video"), _stream(info, "audio"), info["format"]
        assert abs(result["duration"] - float(fmt["duration"])) <= 0.1, result["duration"]
        assert abs(result["frame_rate"] - _fraction(video["avg_frame_rate"])) < 0.01
        assert _is_int(result["bit_rate"])
        assert abs(result["bit_rate"] - int(fmt["bit_rate"])) <= 0.1 * int(fmt["bit_rate"])
        assert result["is_audio"] is False
        assert _is_int(result["rotation"]) and result["rotation"] == 0
        assert result["video"]["codec"] == video["codec_name"] == "h264"
        assert isinstance(result["video"]["bit_rate"], str)
        assert result["video"]["bit_rate"].isdigit()
        assert result["audio"]["codec"] == audio["codec_name"] == "aac"
        assert _is_int(result["audio"]["frequency"])
        assert result["audio"]["frequency"] == int(audio["sample_rate"])
        assert _is_int(result["audio"]["channels"])
        assert result["audio"]["channels"] == audio["channels"]
    return check


# --------------------------------------------------------------------------- remote files


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class RemoteFiles:
    """A plain http.server on 127.0.0.1:<random port> serving copies of local files."""

    def __init__(self, root: Path):
        self.root = root
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: Path, name: str) -> str:
        shutil.copyfile(path, self.root / name)
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def remote_files(tmp_path_factory):
    files = RemoteFiles(tmp_path_factory.mktemp("remote"))
    yield files
    files.close()


# --------------------------------------------------------------------------- webhooks


class WebhookReceiver:
    """Records the POSTs it gets (headers and exact body bytes); answers 500 to the first
    ``fail_first`` of them, 200 after."""

    def __init__(self):
        self.received = []
        self.fail_first = 0
        self.answered = 0
        self.lock = threading.Condition()
        receiver = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.answered += 1
                    failing = receiver.answered <= receiver.fail_first
                    if not failing:
                        receiver.received.append({"path": self.path,
                                                  "headers": dict(self.headers),
                                                  "body": body.decode()})
                    receiver.lock.notify_all()
                self.send_response(500 if failing else 200)
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path}"

    def wait_for(self, path, timeout=120.0):
        """The first notification posted to ``path``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for r in self.received:
                    if r["path"] == f"/{path}":
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no notification at /{path} within {timeout}s; "
                                         f"got {[r['path'] for r in self.received]}")
                self.lock.wait(left)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def webhooks():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


# --------------------------------------------------------------------------- generated media


@pytest.fixture(scope="session")
def chunked_video(tmp_path_factory):
    """A few-MB H.264/AAC MP4 made with ffmpeg (noise keeps it from compressing away)."""
    ffmpeg = _require_tool("ffmpeg")
    path = tmp_path_factory.mktemp("generated") / f"chunky-{uuid.uuid4().hex[:8]}.mp4"
    subprocess.run(
        [ffmpeg, "-v", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25,noise=alls=18:allf=t",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
         "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "26",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-ac", "2", "-shortest",
         str(path)],
        check=True, capture_output=True)
    assert path.stat().st_size > 2_500_000, "generated video too small to need several chunks"
    return path
