"""docker-compose.yml, Dockerfile and .env.example agree with the project.

Docker does not run here, so the file is checked against the code instead: every build
context and Dockerfile exists, every command's program, subcommand and module resolves,
every environment variable is one Parley reads (a setting, or a process knob found in the
file that reads it) and, when ../shared/CONTRACT.md is present, the contract's variables
are all wired and documented.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from cli.main import main as parley_cli
from shared.config import ENV_VARS, Settings
from shared.taskqueue import DELIVERY_QUEUES, QUEUES
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PARLEY = {name: svc for name, svc in SERVICES.items() if "build" in svc}
LONG_RUNNING = ("api", "dashboard", "worker", "beat", "deliver")
CONTRACT = ROOT.parent / "shared" / "CONTRACT.md"
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
# Not settings but knobs of the process tooling; each must be read by the file named.
PROCESS_VARS = {
    "PROMETHEUS_MULTIPROC_DIR": "shared/ops/collector.py",
    "PARLEY_HTTP_WORKERS": "services/gunicorn_conf.py",
    "PARLEY_HTTP_CPU_AFFINITY": "services/affinity.py",
    "PARLEY_WORKER_CONCURRENCY": "Procfile",
    "PARLEY_DASHBOARD_WORKERS": "Procfile",
    "PARLEY_DELIVERY_CONCURRENCY": "Procfile",
}
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}  # the postgres image's own variable
# Fixed by docker-compose.yml to its own services, so not read from .env.
WIRED_BY_COMPOSE = {
    "PARLEY_DATABASE_URL",
    "PARLEY_REDIS_URL",
    "PARLEY_ENV",
    "PROMETHEUS_MULTIPROC_DIR",
}


def contract_variables() -> set[str]:
    """The variable names of CONTRACT §2, or a loud skip when the contract is not beside the repo."""
    if not CONTRACT.is_file():
        pytest.skip(f"CONTRACT NOT FOUND at {CONTRACT}: the contract checks were SKIPPED")
    section = CONTRACT.read_text().split("## 2.", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    assert len(names) >= 10, "CONTRACT §2 table not understood"
    return names


def commands():
    """(service, argv) of every command and exec-form health check of Parley's services."""
    for name, svc in PARLEY.items():
        if "command" in svc:
            yield name, svc["command"]
        test = svc.get("healthcheck", {}).get("test")
        if test and test[0] == "CMD":
            yield name, test[1:]


def referenced_variables() -> set[str]:
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text()))


def test_build_context_and_dockerfile_exist():
    assert PARLEY, "no service builds Parley's image"
    for name, svc in PARLEY.items():
        build = svc["build"]
        context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
        dockerfile = context / (
            "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        )
        assert context.is_dir() and dockerfile.is_file(), name
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.M)
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M), (
        "the image must run as a non-root user"
    )
    for source in re.findall(r"^COPY (?!--from)(\S+)", dockerfile, re.M):
        assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not {"shared", "services", "workers", "pyproject.toml"} & set(ignored)


def test_every_program_and_module_resolves():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    bin_dir = Path(sys.executable).parent
    seen = set()
    for service, argv in commands():
        program, args = argv[0], argv[1:]
        seen.add(program)
        if program == "parley":
            assert "parley" in scripts
            assert args[0] in parley_cli.commands, f"{service}: no `parley {args[0]}`"
        elif program == "gunicorn":
            assert (bin_dir / "gunicorn").exists()
            config = args[args.index("--config") + 1]
            assert config.startswith("python:") and importlib.util.find_spec(
                config[len("python:") :]
            ), config
            module, _, call = args[-1].partition(":")
            assert callable(getattr(importlib.import_module(module), call.removesuffix("()"))), (
                args[-1]
            )
        elif program == "celery":
            assert (bin_dir / "celery").exists()
            assert args[args.index("--app") + 1] == "workers.app"
            assert args[2] in ("worker", "beat")
            if "--queues" in args:
                # The worker takes the checks' queues; `deliver` webhooks and mail, apart.
                queues = DELIVERY_QUEUES if service == "deliver" else QUEUES
                assert set(args[args.index("--queues") + 1].split(",")) == set(queues), service
        elif program == "python":
            compile(args[args.index("-c") + 1], f"<{service} healthcheck>", "exec")
        else:
            pytest.fail(f"{service}: unknown program {program}")
    assert {"parley", "gunicorn", "celery"} <= seen


def test_environment_variables_are_known_and_documented():
    known = set(ENV_VARS) | set(PROCESS_VARS)
    for var, reader in PROCESS_VARS.items():
        assert var in (ROOT / reader).read_text(), f"{var} is not read by {reader}"
    for name, svc in PARLEY.items():
        unknown = set(svc.get("environment", {})) - known
        assert not unknown, f"{name}: unknown variables {sorted(unknown)}"
    referenced = referenced_variables()
    assert referenced - known - COMPOSE_ONLY == set()
    undocumented = {
        v for v in referenced - WIRED_BY_COMPOSE if not re.search(rf"^#? ?{v}=", ENV_EXAMPLE, re.M)
    }
    assert not undocumented, f"missing from .env.example: {sorted(undocumented)}"


# Contract variables whose feature has not landed yet, each with the open issue that brings
# it. The contract grew ahead of the code; a variable leaves this list with its feature,
# and the test below fails if one is listed here but already read, or no longer contracted.
NOT_YET_BUILT: dict[str, str] = {}


def test_contract_variables_are_wired_and_documented():
    everything = contract_variables()
    assert set(NOT_YET_BUILT) <= everything, "NOT_YET_BUILT names a variable the contract lacks"
    built = set(NOT_YET_BUILT) & set(ENV_VARS)
    assert not built, f"wired now, so drop from NOT_YET_BUILT: {sorted(built)}"
    contract = everything - set(NOT_YET_BUILT)
    assert contract <= set(ENV_VARS), f"not in Settings: {sorted(contract - set(ENV_VARS))}"
    for var in contract:
        assert re.search(rf"^#? ?{var}=", ENV_EXAMPLE, re.M), f"{var} missing from .env.example"
    for name in LONG_RUNNING:
        env = PARLEY[name]["environment"]
        assert contract <= set(env), f"{name} lacks {sorted(contract - set(env))}"
        assert set(env) <= contract | set(ENV_VARS) | set(PROCESS_VARS)


def test_production_shape():
    assert "--appendonly" in SERVICES["redis"]["command"] and "yes" in SERVICES["redis"]["command"]
    assert "noeviction" in SERVICES["redis"]["command"]
    assert "redis-cli" in SERVICES["redis"]["healthcheck"]["test"]
    assert "pg_isready" in SERVICES["postgres"]["healthcheck"]["test"]
    assert (
        PARLEY["migrate"]["command"] == ["parley", "migrate"]
        and PARLEY["migrate"]["restart"] == "no"
    )
    worker = PARLEY["worker"]
    assert "container_name" not in worker and "ports" not in worker, "the worker must scale"
    assert worker["healthcheck"]["test"] == ["CMD", "parley", "worker-health"]
    assert int(worker["stop_grace_period"].rstrip("s")) >= 30
    for name in ("api", "dashboard"):
        assert "/readyz" in " ".join(PARLEY[name]["healthcheck"]["test"])
    volumes = COMPOSE["volumes"]
    for name in LONG_RUNNING:
        svc = PARLEY[name]
        assert svc["restart"] in ("unless-stopped", "always"), name
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert svc["depends_on"]["redis"]["condition"] == "service_healthy", name
        mount = svc["environment"]["PROMETHEUS_MULTIPROC_DIR"]
        assert any(
            v.split(":")[0] in volumes and v.split(":")[1] == mount for v in svc["volumes"]
        ), name


# --- the buffering proxy in front (README, "Production: the proxy in front") ------------------

NGINX_CONF = ROOT / "ops" / "nginx" / "nginx.conf"


def nginx_directives(text: str) -> dict[str, list[str]]:
    """Every simple directive of an nginx file (name -> its values, in order), comments out."""
    found: dict[str, list[str]] = {}
    for statement in re.sub(r"#[^\n]*", "", text).replace("{", ";").replace("}", ";").split(";"):
        words = statement.split(None, 1)
        if words:
            found.setdefault(words[0], []).append(words[1].strip() if len(words) > 1 else "")
    return found


def bound_port(svc: dict) -> int:
    command = svc["command"]
    return int(command[command.index("--bind") + 1].rsplit(":", 1)[1])


def test_the_proxy_is_the_only_way_in():
    proxy = SERVICES["proxy"]
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+-alpine", proxy["image"]), "pin the nginx image"
    assert "./ops/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert NGINX_CONF.is_file()
    assert proxy["restart"] == "unless-stopped"
    for name in ("api", "dashboard"):
        svc = PARLEY[name]
        assert "ports" not in svc, f"{name} must be reached through the proxy only"
        assert svc["environment"]["PARLEY_TRUSTED_PROXIES"] == "1", name
        assert proxy["depends_on"][name]["condition"] == "service_healthy", name
    # The dashboard stays on the host's loopback, as it was.
    assert "127.0.0.1:8001:8001" in proxy["ports"]
    conf = nginx_directives(NGINX_CONF.read_text())
    # Upstreams and listeners match the compose services' ports.
    assert [value for value in conf["server"] if value] == [
        f"api:{bound_port(PARLEY['api'])}",
        f"dashboard:{bound_port(PARLEY['dashboard'])}",
    ]
    listens = [value.split()[0] for value in conf["listen"]]
    published = {mapping.rsplit(":", 1)[1] for mapping in proxy["ports"]}
    assert set(listens) == published


def test_the_proxy_limits_slow_and_large_requests():
    conf = nginx_directives(NGINX_CONF.read_text())
    for directive in (
        "client_header_timeout",
        "client_body_timeout",
        "send_timeout",
        "keepalive_timeout",
        "large_client_header_buffers",
    ):
        assert directive in conf, directive
    assert conf["proxy_request_buffering"] == ["on"] and conf["proxy_buffering"] == ["on"]
    # The api's limit (PARLEY_MAX_BODY_BYTES' default) is the proxy's, first listed (http).
    size = conf["client_max_body_size"][0]
    assert int(size.removesuffix("k")) * 1024 == Settings.model_fields["max_body_bytes"].default
    headers = {value.split()[0]: value.split(None, 1)[1] for value in conf["proxy_set_header"]}
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert "X-Forwarded-Host" in headers
    # Set once, in http: a block with a proxy_set_header of its own would drop these.
    assert len(conf["proxy_set_header"]) == len(headers)
