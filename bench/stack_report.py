"""The figures of the whole-stack benchmark (bench/stack.py) and their table."""

from __future__ import annotations

import statistics

from bench import footprint
from bench.common import percentile

UNDECIDED = ("received", "checking", "approved")
TARGETS = {"ratio": 0.25, "p99_ms": 150.0, "read_p99_ms": 100.0, "pss_mib": 300.0}


def summarise(runs: dict, ids: set, statuses: dict, memory: dict, args) -> dict:
    """The run's figures from the rounds' wrk runs (``runs["stack"]``, ``runs["bare"]``),
    the accepted ids, every stored comment's status and the stack's processes
    (``memory["idle"]``, ``memory["after"]``)."""
    stack, bare = runs["stack"], runs["bare"]
    reads: dict[str, list[float]] = {}
    failed: dict[str, int] = {}
    for run in stack:
        for path, values in run["reads"].items():
            reads.setdefault(path, []).extend(values)
            failed[path] = failed.get(path, 0) + run["read_failures"][path]
    by_status: dict[str, int] = {}
    for status in statuses.values():
        by_status[status] = by_status.get(status, 0) + 1
    drains = [run["drain_s"] for run in stack]
    stack_rate = statistics.mean(run["accepted"] for run in stack)
    bare_rate = statistics.mean(run["rps"] for run in bare)
    return {
        "store": "postgresql" if args.postgres else "sqlite",
        "connections": args.connections,
        "rounds": len(stack),
        "seconds": args.seconds,
        "bare_rps": bare_rate,
        "bare_rps_range": [min(r["rps"] for r in bare), max(r["rps"] for r in bare)],
        "bare_p50_ms": statistics.median(r["p50_ms"] for r in bare),
        "bare_p99_ms": statistics.median(r["p99_ms"] for r in bare),
        "stack_accepted_rps": stack_rate,
        "stack_p50_ms": statistics.median(r["p50_ms"] for r in stack),
        "stack_p99_ms": statistics.median(r["p99_ms"] for r in stack),
        "stack_p99_worst_ms": max(r["p99_ms"] for r in stack),
        "stack_non_2xx": sum(r["non_2xx"] for r in stack),
        "ratio": stack_rate / bare_rate,
        "ratio_rounds": [s["accepted"] / b["rps"] for s, b in zip(stack, bare, strict=True)],
        "reads": {
            path: {
                "n": len(values),
                "failed": failed[path],
                "p50_ms": percentile(values, 50),
                "p99_ms": percentile(values, 99),
            }
            for path, values in reads.items()
        },
        "drain_s": None if None in drains else max(drains),
        "drain_rounds_s": drains,
        "backlog_rounds": [run.get("backlog", 0) for run in stack],
        # comments decided per second of drain, over the rounds that drained
        "drain_rps": (
            sum(r.get("backlog", 0) for r in stack if r["drain_s"])
            / sum(r["drain_s"] for r in stack if r["drain_s"])
            if any(r["drain_s"] for r in stack)
            else None
        ),
        "accepted_ids": len(ids),
        "stored": len(statuses),
        "lost_missing": sum(1 for i in ids if i not in statuses),
        "lost_undecided": sum(1 for i in ids if statuses.get(i) in UNDECIDED),
        "statuses": by_status,
        "pss_idle_mib": footprint.total_mib(memory["idle"]),
        "pss_after_mib": footprint.total_mib(memory["after"]),
    }


def _ms(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.1f} / {pair[1]:.1f} ms"


def report(f: dict, memory: dict, slug: str) -> None:
    """The table of figures, each beside the run's bare-Flask rate (the machine's speed
    at the time: on these shared machines it changes by a third within minutes)."""
    drain = "not drained" if f["drain_s"] is None else f"{f['drain_s']:.1f} s"
    lost = f["lost_missing"] + f["lost_undecided"]
    rows = [
        ("intake accepted/s, worker running", f"{f['stack_accepted_rps']:,.0f}/s", ""),
        ("  ratio to bare Flask", f"{f['ratio']:.3f}", f">= {TARGETS['ratio']}"),
        ("  per round", " ".join(f"{r:.3f}" for r in f["ratio_rounds"]), ""),
        (
            "intake p50 / p99 (rounds' median)",
            _ms((f["stack_p50_ms"], f["stack_p99_ms"])),
            f"p99 <= {TARGETS['p99_ms']:.0f} ms",
        ),
        ("  worst round's p99", f"{f['stack_p99_worst_ms']:.1f} ms", ""),
        ("  answers other than 2xx", str(f["stack_non_2xx"]), ""),
        ("bare Flask p50 / p99", _ms((f["bare_p50_ms"], f["bare_p99_ms"])), ""),
    ]
    for path, r in f["reads"].items():
        rows.append(
            (
                f"read {path.replace(slug, '<slug>')}",
                f"{_ms((r['p50_ms'], r['p99_ms']))} (n={r['n']}, failed {r['failed']})",
                f"p99 <= {TARGETS['read_p99_ms']:.0f} ms",
            )
        )
    rows += [
        ("drain after the burst (worst round)", drain, ""),
        (
            "  left to check at the burst's end",
            " ".join(f"{b:,}" for b in f["backlog_rounds"])
            + (f" (drained at {f['drain_rps']:,.0f}/s)" if f["drain_rps"] else ""),
            "",
        ),
        (
            "comments lost",
            f"{lost} of {f['accepted_ids']:,} accepted ({f['lost_missing']} not stored,"
            f" {f['lost_undecided']} undecided)",
            "0",
        ),
        (
            "PSS of the stack, idle",
            f"{f['pss_idle_mib']:.0f} MiB",
            f"<= {TARGETS['pss_mib']:.0f} MiB",
        ),
        ("PSS of the stack, after the burst", f"{f['pss_after_mib']:.0f} MiB", ""),
    ]
    low, high = f["bare_rps_range"]
    print(
        f"== whole stack, {f['store']}: {f['rounds']} rounds of {f['seconds']} s at"
        f" {f['connections']} connections; bare Flask {low:,.0f}-{high:,.0f}/s this run"
    )
    bare = f"{f['bare_rps']:,.0f}/s"
    print(f"  {'figure':38s} {'measured':48s} {'target':15s} bare Flask")
    for name, value, target in rows:
        print(f"  {name:38s} {value:48s} {target:15s} {bare}")
    print(
        "  stored comments by status: "
        + ", ".join(f"{k} {v}" for k, v in sorted(f["statuses"].items()))
    )
    idle = {p["pid"]: p for p in memory["idle"]}
    after = {p["pid"]: p for p in memory["after"]}
    both = idle | after
    print(f"  {'process':22s} {'pid':>8s} {'PSS idle':>12s} {'after burst':>12s}")
    for pid in sorted(both, key=lambda pid: (both[pid]["role"], pid)):
        mib = [f"{d[pid]['pss_mib']:.1f} MiB" if pid in d else "-" for d in (idle, after)]
        print(f"  {both[pid]['role']:22s} {pid:8d} {mib[0]:>12s} {mib[1]:>12s}")
    print(
        f"  {'total':22s} {'':8s} {f['pss_idle_mib']:8.1f} MiB {f['pss_after_mib']:8.1f} MiB"
        f"   (target <= {TARGETS['pss_mib']:.0f} MiB; bare Flask {bare})"
    )
