"""Which CPU each gunicorn worker process keeps to (``PARLEY_HTTP_CPU_AFFINITY``).

With ``auto`` (the default) each worker process stays on one CPU, and the workers spread
evenly over the CPUs the server may use, but only when they fill them evenly: when their
count is a multiple of the CPUs'. The default of one worker per CPU does. Otherwise, or
with ``off``, the kernel's scheduler places them as usual.

Why: on two cores a comment costs the intake less CPU when its process stays on one core.
The intake benchmark, both servers under the same setting, runs taken in turns: 0.314–0.353
of bare Flask pinned (six runs, mean 0.332) against 0.277–0.314 not (seven, mean 0.300);
interleaved round by round, 15 % less CPU per comment (bench/README.md). The likely reason, not
measured apart: a process's threads share one interpreter lock, so only one of them runs
Python at a time anyway; kept on one core, they hand it over without waking a thread on
the other core, and find their data still in that core's caches.

A server that does not fill the CPUs evenly is left alone: pinned, its workers would
crowd some CPUs and leave others to the rest of the machine.

The master picks each new worker's CPU (:func:`pick_cpu`) before it forks, from the CPUs
of the workers still alive, so a worker that replaces a dead one takes the CPU it left.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

MODES = ("auto", "off")


def mode(environ=os.environ) -> str:
    """``PARLEY_HTTP_CPU_AFFINITY``, checked: ``auto`` (default) or ``off``."""
    value = environ.get("PARLEY_HTTP_CPU_AFFINITY", "auto").strip().lower() or "auto"
    if value not in MODES:
        raise SystemExit(
            f"PARLEY_HTTP_CPU_AFFINITY must be one of {', '.join(MODES)}, not {value!r}"
        )
    return value


def pick_cpu(cpus: Sequence[int], taken: Iterable[int | None], workers: int) -> int | None:
    """The CPU for a new worker among ``cpus`` (those the server may use), given the CPUs
    ``taken`` by the live workers and the number of ``workers`` the server keeps; None
    leaves the worker to the scheduler.

    A CPU that the fewest live workers keep to, the first such in ``cpus``; None if there
    is only one CPU or the workers do not fill the CPUs evenly.
    """
    if len(cpus) < 2 or workers < len(cpus) or workers % len(cpus):
        return None
    load = dict.fromkeys(cpus, 0)
    for cpu in taken:
        if cpu in load:
            load[cpu] += 1
    return min(cpus, key=load.__getitem__)


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity mask: a container's cpuset, taskset),
    or none where the platform cannot tell (then nothing is pinned)."""
    if not hasattr(os, "sched_getaffinity"):
        return []
    return sorted(os.sched_getaffinity(0))
