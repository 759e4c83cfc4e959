"""docs/contract.md stays in step with the code, both ways.

Everything the code offers the outside world is on the page: every path of the OpenAPI
description, every setting (here or in the README), every event type, every metric the
code registers and every ``parley`` command. And everything the page names is in the code
unless its line says "not built yet (issue NN)"; a line that still says so for something
built is stale and fails too.
"""

from __future__ import annotations

import re

import pytest

from cli.main import main as parley_cli
from services.openapi import spec
from shared.config import ENV_VARS
from shared.events import TYPES
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
CONTRACT = (ROOT / "docs" / "contract.md").read_text()
README = (ROOT / "README.md").read_text()
# Served but not described by OpenAPI: the description itself, the demo page, the comments
# widget's script and /metrics.
OUTSIDE_OPENAPI = {"/api/v1/openapi.json", "/", "/articles/{slug}", "/embed.js", "/metrics"}
NOT_BUILT = re.compile(r"not built yet \(issue \d+\)")
# Where the code registers metrics: prometheus-client's metric classes, and the metric
# families a collector builds when scraped.
METRIC_CALL = re.compile(
    r"\b(Counter|Gauge|Histogram|Summary|Info|Enum|"
    r"(?:Counter|Gauge|Histogram|Summary|Info)MetricFamily)\(\s*[\"'](parley_\w+)[\"']"
)


def section(number: int) -> str:
    """The text of ``## N.`` up to the next section."""
    parts = re.split(r"^## (\d+)\.", CONTRACT, flags=re.M)
    sections = {int(parts[i]): parts[i + 1] for i in range(1, len(parts), 2)}
    assert set(sections) == set(range(1, 9)), "docs/contract.md must keep sections §1–§8"
    return sections[number]


def lines_naming(pattern: str, text: str | None = None) -> dict[str, list[str]]:
    """Each name matched by ``pattern`` (one group) -> the lines of ``text`` (default: the
    whole page) naming it."""
    found: dict[str, list[str]] = {}
    for line in (CONTRACT if text is None else text).splitlines():
        for name in re.findall(pattern, line):
            found.setdefault(name, []).append(line)
    return found


def check_both_ways(documented: dict[str, list[str]], built: set[str], what: str) -> None:
    """Every built name is documented on a line not marked unbuilt; every documented name
    is built, or all its lines are marked not built yet."""
    missing = {n for n in built if not any(not NOT_BUILT.search(x) for x in documented.get(n, []))}
    assert not missing, f"{what} in the code but not in docs/contract.md: {sorted(missing)}"
    unbuilt = {n for n, lines in documented.items() if n not in built}
    unmarked = {n for n in unbuilt if not all(NOT_BUILT.search(x) for x in documented[n])}
    assert not unmarked, f"{what} in docs/contract.md but not in the code: {sorted(unmarked)}"


def registered_metrics() -> set[str]:
    """Metric names as scraped (a counter gains ``_total``), found in the source."""
    names = set()
    for folder in ("shared", "services", "workers"):
        for path in (ROOT / folder).rglob("*.py"):
            for kind, name in METRIC_CALL.findall(path.read_text()):
                names.add(f"{name}_total" if kind == "Counter" else name)
    return names


def test_every_openapi_path_is_documented():
    paths = set(spec("http://127.0.0.1:8000")["paths"])
    assert len(paths) >= 10
    documented = lines_naming(r"`(?:GET|POST|PUT|DELETE|PATCH) (/[^`?\s]*)")
    check_both_ways(documented, paths | OUTSIDE_OPENAPI, "HTTP paths")


def test_every_setting_is_documented():
    words = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", CONTRACT + README))
    assert not set(ENV_VARS) - words, (
        f"settings in neither docs/contract.md nor the README: {sorted(set(ENV_VARS) - words)}"
    )


def test_contract_variables_are_read_or_marked_not_built():
    table = [line for line in section(2).splitlines() if line.startswith("| `")]
    assert len(table) >= 20, "the §2 table was not understood"
    documented: dict[str, list[str]] = {}
    for line in table:
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]):
            documented.setdefault(name, []).append(line)
    check_both_ways(documented, set(documented) & set(ENV_VARS), "variables")


def test_every_event_type_is_documented():
    check_both_ways(lines_naming(r"`(comment\.[a-z]+)`", section(6)), set(TYPES), "event types")


def test_every_metric_is_documented():
    metrics = registered_metrics()
    assert {"parley_comments_submitted_total", "parley_queue_depth"} <= metrics, metrics
    check_both_ways(lines_naming(r"^\| `(parley_\w+)`", section(7)), metrics, "metrics")


def test_every_command_is_documented():
    commands = set(parley_cli.commands)
    assert {"migrate", "worker-health", "import"} <= commands
    documented = lines_naming(r"`parley ([a-z][a-z-]*)", section(8))
    check_both_ways(documented, commands, "parley commands")


@pytest.mark.parametrize("doc", ["docs/contract.md", "docs/architecture.md", "README.md"])
def test_links_between_documents_resolve(doc):
    path = ROOT / doc
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text()):
        assert (path.parent / target).exists(), f"{doc} links to missing {target}"


def test_citations_name_the_contract_in_the_repository():
    """Code and docs cite "docs/contract.md §N", not a document outside the repository.
    (tests/unit/test_compose.py reads the team's own CONTRACT.md beside the repository.)"""
    stale = []
    for folder in ("shared", "services", "workers", "cli", "bench", "tests", "docs"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".py", ".md", ".html") or path.name == "test_compose.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"\bCONTRACT\b(?: §\d|[:)])", line):
                    stale.append(f"{path.relative_to(ROOT)}:{number}")
    assert not stale, f"cite docs/contract.md §N instead: {stale}"
