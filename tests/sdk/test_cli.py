"""The Cloudinary CLI (`cld`, cloudinary-cli on PyPI) against Kino, configured by
CLOUDINARY_URL alone: `upload_prefix` for the APIs and `secure_distribution` for the https
URLs it builds (a TLS proxy fronts Kino in production; `fetch` talks plain HTTP here).
Uploads, admin calls, URLs (signed too), a directory upload and derived regeneration."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import API_KEY, API_SECRET, CLOUD

CLD = Path(sys.executable).parent / "cld"


@pytest.fixture
def cld(server, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDINARY_")}
    env["CLOUDINARY_URL"] = (f"cloudinary://{API_KEY}:{API_SECRET}@{CLOUD}"
                             f"?upload_prefix={server.base_url}&secure_distribution=127.0.0.1:{server.port}")
    env["HOME"] = str(tmp_path)  # the CLI keeps its saved configs there

    def run(*args, ok=True):
        done = subprocess.run([str(CLD), *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=300)
        if ok:
            assert done.returncode == 0 and "error" not in done.stderr.lower(), done
        return done
    return run


def fetch(url):
    return requests.get(url.replace("https://127.0.0.1:", "http://127.0.0.1:"), timeout=120)


def test_upload_admin_and_destroy(cld, media, unique, digest):
    pid = unique("cli")
    src = media("alpha-balloon.png")
    uploaded = json.loads(cld("uploader", "upload", str(src), f"public_id={pid}", "tags=cli,kino").stdout)
    assert uploaded["public_id"] == pid and uploaded["format"] == "png"
    assert sorted(uploaded["tags"]) == ["cli", "kino"]
    assert uploaded["request_id"], "the SDK copies X-Request-Id into the result"
    assert digest(fetch(uploaded["secure_url"]).content) == digest(src)

    details = json.loads(cld("admin", "resource", pid).stdout)
    assert details["public_id"] == pid and details["bytes"] == src.stat().st_size
    listed = json.loads(cld("admin", "resources", f"prefix={pid}", "tags=true").stdout)
    assert [r["public_id"] for r in listed["resources"]] == [pid]

    assert json.loads(cld("uploader", "destroy", pid).stdout)["result"] == "ok"
    missing = cld("admin", "resource", pid, ok=False)
    assert f"Error 404 - Resource not found - {pid}" in missing.stderr, missing


def test_urls_the_cli_builds_are_served(cld, media, unique, probe, tmp_path):
    pid = unique("cli-url")
    cld("uploader", "upload", str(media("alpha-balloon.png")), f"public_id={pid}", "type=private")

    unsigned = cld("url", "-t", "private", pid, "w_60,c_scale").stdout.strip()
    signed = cld("url", "-t", "private", "-s", pid, "w_60,c_scale").stdout.strip()
    assert unsigned.startswith(f"https://127.0.0.1:") and "/s--" in signed
    assert fetch(unsigned).status_code == 401
    r = fetch(signed)
    assert r.status_code == 200, r.text
    (tmp_path / "w60.png").write_bytes(r.content)
    assert probe(tmp_path / "w60.png")["streams"][0]["width"] == 60


def test_upload_dir_keeps_the_folder_structure(cld, unique, media, tmp_path):
    root = tmp_path / "assets"
    (root / "sub").mkdir(parents=True)
    (root / "a.jpg").write_bytes(media("exif-orient-1.jpg").read_bytes())
    (root / "sub" / "b.png").write_bytes(media("alpha-balloon.png").read_bytes())
    folder = unique("cli-dir")

    done = cld("upload_dir", str(root), "-f", folder)

    assert "fixed folder mode" in done.stdout + done.stderr
    listed = json.loads(cld("admin", "resources", f"prefix={folder}").stdout)
    assert sorted(r["public_id"] for r in listed["resources"]) == [
        f"{folder}/assets/a", f"{folder}/assets/sub/b"]
    for r in listed["resources"]:
        assert fetch(r["secure_url"]).status_code == 200


def test_regen_derived_remakes_what_a_named_transformation_made(cld, media, unique):
    name, pid = unique("clithumb"), unique("cli-regen")
    cld("admin", "create_transformation", name, "w_40,h_40,c_fill")
    uploaded = json.loads(cld("uploader", "upload", str(media("alpha-balloon.png")), f"public_id={pid}").stdout)
    made = fetch(uploaded["secure_url"].replace("/upload/", f"/upload/t_{name}/"))
    assert made.status_code == 200

    details = json.loads(cld("admin", "transformation", name).stdout)
    assert details["used"] is True
    assert [(d["public_id"], d["format"]) for d in details["derived"]] == [(pid, "png")]

    done = cld("regen_derived", name, "-F")
    said = done.stdout + done.stderr
    assert "Regenerating 1 derived asset(s)" in said, done
    assert f"Regenerated {uploaded['secure_url'].split('/v')[0].replace('/upload', f'/upload/t_{name}')}" \
        in said, done
