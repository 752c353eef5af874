"""Schema-driven fuzzing of the Upload, Admin, Live Streaming and Provisioning APIs from the
OpenAPI document Kino serves: schemathesis (seeded, so every run sends the same requests)
generates thousands of requests, valid and invalid, and none may get a 5xx.

It runs against a server of its own: the fuzzer deletes and renames whatever it finds."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import API_KEY, API_SECRET, KINO_BIN, Server


@pytest.fixture(scope="module")
def fuzzed(server, tmp_path_factory):
    srv = Server(KINO_BIN, tmp_path_factory.mktemp("kino-fuzzed"))
    srv.start()
    yield srv
    srv.stop()
    server.configure_sdk()


def test_no_generated_request_gets_a_server_error(fuzzed, tmp_path):
    schemathesis = Path(sys.executable).parent / "schemathesis"
    run = subprocess.run(
        [str(schemathesis), "run", f"{fuzzed.base_url}/openapi.json",
         "--auth", f"{API_KEY}:{API_SECRET}", "--checks", "not_a_server_error",
         "--max-examples", "30", "--seed", "1", "--workers", "1", "--no-color",
         "--phases", "examples,coverage,fuzzing", "--request-timeout", "60"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900)
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary
    # Every documented operation is exercised.
    document = requests.get(f"{fuzzed.base_url}/openapi.json", timeout=10).json()
    operations = sum(len(methods) for methods in document["paths"].values())
    assert f"Tested: {operations}" in run.stdout, summary
    counts = re.search(r"(\d+) generated, (\d+) passed\s*$", run.stdout, re.MULTILINE)
    assert counts, summary
    generated, passed = map(int, counts.groups())
    assert generated == passed and generated > 3000, summary
    print(f"schemathesis: {generated} requests, none answered with a 5xx")
