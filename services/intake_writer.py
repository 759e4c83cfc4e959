"""The host's intake writer in a process of its own (``PARLEY_INTAKE_WRITER=process``).

Started by the api process that won the writer's election (:mod:`shared.intake.committer`), with
the bound socket as an inherited descriptor; not a command to run by hand. Its standard
input is a pipe from that api process, which never writes to it: the writer serves until
the pipe closes, that is until the api process stops it or ends in any way (a SIGKILL
included), then answers what already reached it and exits. So no writer outlives its
server, and none stops before its api process's last requests: it ignores SIGINT and
SIGTERM, which a terminal's Ctrl-C or a process manager may send to every process of the
server at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading

from shared.ops import collector

log = logging.getLogger("services.intake_writer")

# How often the writer looks whether its serving thread is still alive.
CHECK_SECONDS = 0.5


def _until_eof(stop: threading.Event) -> None:
    """Set ``stop`` once standard input (the api process's end of the pipe) closes."""
    while sys.stdin.buffer.raw.read(4096):
        pass
    stop.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listener-fd", type=int, required=True)
    parser.add_argument("--cpus", default="", help="comma-separated; empty: inherited")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    listener = socket.socket(fileno=args.listener_fd)
    stop = threading.Event()
    threading.Thread(target=_until_eof, args=(stop,), daemon=True).start()
    if args.cpus:
        try:
            os.sched_setaffinity(0, {int(cpu) for cpu in args.cpus.split(",")})
        except OSError:
            pass  # those CPUs are no longer all allowed (a changed cpuset): keep the parent's

    collector.use_host_qualified_ids()  # before any metric exists in this process
    from shared.bootstrap import bootstrap, intake_writer_parts
    from shared.intake.server import serve
    from shared.logs import configure_logging

    configure_logging("api")
    container = bootstrap()
    server = serve(listener, *intake_writer_parts(container))
    log.info(
        "this process is now the host's intake writer",
        extra={"pid": os.getpid(), "parent_pid": os.getppid(), "cpus": args.cpus},
    )
    while not stop.wait(CHECK_SECONDS):
        if not server.alive():
            break  # it logged why; exiting gives up the socket's name
    server.close()
    container.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
