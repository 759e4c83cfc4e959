"""The checkout comparison (bench/compare.py) serves each checkout's own code.

It once did not: gunicorn puts the directory it starts in first on the import path, and
every server started in this checkout, so all of them ran this checkout's code and the
"comparisons" showed only noise. Here a copy of the checkout answers its health check
differently, and the server started for the copy must give the copy's answer.
"""

from __future__ import annotations

import argparse
import shutil

import httpx
import pytest

from bench.compare import parse_target
from tests.support.procs import ROOT, stack_env
from tests.support.stack import API, Running
from tests.support.stores import TEST_REDIS

pytestmark = pytest.mark.e2e


def _copy_with_health(tmp_path, status: str):
    copy = tmp_path / "checkout"
    for package in ("services", "shared"):
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    http = copy / "services" / "http.py"
    source = http.read_text()
    assert 'return jsonify(status="ok")' in source
    http.write_text(
        source.replace('return jsonify(status="ok")', f'return jsonify(status="{status}")')
    )
    return copy


@pytest.mark.parametrize("root_is_copy", [True, False])
def test_a_server_runs_the_code_of_the_checkout_it_was_started_for(tmp_path, root_is_copy):
    copy = _copy_with_health(tmp_path, "copy")
    # The health check touches neither store nor Redis: URLs for the settings are enough.
    env = stack_env(f"sqlite:///{tmp_path}/store.db", TEST_REDIS)
    env["PYTHONPATH"] = str(copy)
    with Running(tmp_path) as run:
        _, url = run.gunicorn(
            API, env, "api", workers=1, **({"root": copy} if root_is_copy else {})
        )
        answer = httpx.get(url + "/healthz", timeout=5).json()
    # Started in this checkout, even PYTHONPATH does not win: this checkout's code runs.
    assert answer == {"status": "copy" if root_is_copy else "ok"}


def test_targets_are_named_checkouts_with_their_own_settings(tmp_path):
    name, root, env = parse_target(f"fast={ROOT}@PARLEY_HTTP_THREADS=12,X=1")
    assert (name, root, env) == ("fast", ROOT, {"PARLEY_HTTP_THREADS": "12", "X": "1"})
    for bad in ("nothing", f"={ROOT}", f"x={tmp_path}", f"x={ROOT}@NOVALUE"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_target(bad)
