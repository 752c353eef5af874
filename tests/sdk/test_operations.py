"""Operating Kino: with KINO_LOG_FORMAT=json every log line is a JSON object, and the lines of
a request carry the id that the response echoes in X-Request-Id."""
import json

import cloudinary.uploader as uploader
import pytest
import requests

from conftest import KINO_BIN, Server


@pytest.fixture(scope="module")
def json_logged(server, tmp_path_factory):
    srv = Server(KINO_BIN, tmp_path_factory.mktemp("kino-json-logs"),
                 extra_env={"KINO_LOG_FORMAT": "json", "RUST_LOG": "info"})
    srv.start()
    yield srv
    srv.stop()
    server.configure_sdk()


def test_json_logs_carry_the_request_id(json_logged, media, unique):
    json_logged.configure_sdk()
    result = uploader.upload(str(media("alpha-balloon.png")), public_id=unique("log"))
    r = requests.get(result["secure_url"].replace("/upload/", "/upload/w_20/"),
                     headers={"X-Request-Id": "sdk-trace-42"}, timeout=60)
    assert r.status_code == 200
    assert r.headers["X-Request-Id"] == "sdk-trace-42"
    json_logged.stop()

    lines = [l for l in json_logged.stderr_path.read_text().splitlines() if l.startswith("{")]
    records = [json.loads(l) for l in lines]
    assert records, "no JSON log lines"
    assert all({"timestamp", "level", "fields", "target"} <= r.keys() for r in records)
    mine = [r for r in records if r.get("span", {}).get("id") == "sdk-trace-42"]
    answered = [r for r in mine if r["fields"]["message"] == "request answered"]
    assert len(answered) == 1, mine
    assert answered[0]["fields"]["status"] == 200
    assert answered[0]["fields"]["route"] == "/{cloud}/{rt}/{dt}/{*rest}"
    assert answered[0]["span"]["path"].endswith(".png")
