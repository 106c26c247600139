"""The API keeps its contract: a property-based tester that knows nothing but the OpenAPI
document runs every one of its checks against the live app, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture
def served(app, town, reindex, request):
    """The app, with the town's facilities indexed, on a real localhost port."""
    reindex()
    app.extensions["pmh_engine"].dispose()  # no pooled connection crosses the fork
    return request.getfixturevalue("live_server")


def test_api_keeps_the_contract_of_its_document(served, tmp_path):
    url = served.url("/api/v1/openapi.json")
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG)]
    command += ["run", url, "--checks", "all", "--report", "junit", "--report-dir", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCHEMATHESIS_HOOKS": "tests.contract_hooks"}
    env.pop("NO_COLOR", None)
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
    assert "Tested: 3" in output, output[-4000:]  # search, facility, health
    assert "No issues found" in output, output[-4000:]
