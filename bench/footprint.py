"""The memory of a running stack: each process's proportional set size (PSS), named by
the part of ``make run`` it belongs to.

PSS counts a page shared by n processes as 1/n to each, so the processes' figures add up
to what the stack costs the machine (RSS would count gunicorn's forked workers' shared
pages once per worker). Read from ``/proc/<pid>/smaps_rollup``: Linux only, and only
the processes of the user running the benchmark.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.procs import descendants, stat_fields

# The Procfile's processes, told apart by their command lines.
PROGRAMS = (
    ("api", "services.api:create_app()"),
    ("dashboard", "services.dashboard:create_app()"),
    ("deliver", "--queues webhooks,mail"),  # before "worker": it is a Celery worker too
    ("worker", "workers.app worker"),
    ("beat", "workers.app beat"),
)


def cmdline(pid: int) -> str:
    """The process's command line, its arguments joined by spaces ("" once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def pss_kib(pid: int) -> int | None:
    """The process's proportional set size in KiB; None if it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _program(line: str) -> str | None:
    return next((name for name, marker in PROGRAMS if marker in line), None)


def role(pid: int, root: int) -> str:
    """What ``pid`` is in the stack under the supervisor ``root``: "supervisor",
    "api master", "api worker", "intake writer", "worker", "worker child", "beat",
    "shell (api)" (the ``sh -c`` of a Procfile line), …"""
    if pid == root:
        return "supervisor"
    line = cmdline(pid)
    if "services.intake_writer" in line:
        return "intake writer"
    try:
        parent = int(stat_fields(pid)[1])
    except OSError:
        parent = root
    above = cmdline(parent) if parent != root else ""
    name = _program(line) or _program(above) or (line.split(" ", 1)[0] or "?")
    if line.startswith("/bin/sh"):
        return f"shell ({name})"
    # A program whose parent runs the same program is one of its children: a gunicorn
    # worker (its master above it) or a process the Celery worker forked.
    child = _program(above) == name and not above.startswith("/bin/sh")
    if name in ("api", "dashboard"):
        return f"{name} {'worker' if child else 'master'}"
    return f"{name} child" if child else name


def snapshot(root: int) -> list[dict]:
    """Every live process of the stack under ``root`` (the supervisor included):
    ``{"pid", "role", "pss_mib"}``, ordered by role then pid."""
    found = []
    for pid in [root, *descendants(root)]:
        kib = pss_kib(pid)
        if kib is not None:
            found.append({"pid": pid, "role": role(pid, root), "pss_mib": kib / 1024})
    return sorted(found, key=lambda p: (p["role"], p["pid"]))


def total_mib(processes: list[dict]) -> float:
    return sum(p["pss_mib"] for p in processes)
