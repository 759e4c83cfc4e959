"""The import benchmark runs end to end on a small file (its figure is for 50,000)."""

from __future__ import annotations

import pytest

from bench import imports
from tests.support.stores import TEST_REDIS


@pytest.mark.timeout(180)
def test_the_import_benchmark_measures_a_run_and_a_rerun_that_adds_nothing(monkeypatch):
    monkeypatch.setenv("PARLEY_REDIS_URL", TEST_REDIS)
    [result] = imports.main(["--comments", "400", "--format", "disqus"])
    assert result["imported"] == 400 and result["rerun_added"] == 0
    assert result["seconds"] > 0 and result["peak_rss_mib"] > 10
