"""The host's intake writer in a process of its own (``PARLEY_INTAKE_WRITER=process``).

Two ways in, one way of serving:

- :func:`fork_from_master`: the api's gunicorn master forks it as it becomes ready, before
  its workers, from the app it preloaded (``services/gunicorn_conf.py``, ``when_ready``):
  the master binds the writer's socket name first, so it is the host's writer that the
  workers then connect to, and the writer shares the master's pages instead of loading
  everything afresh (idle, 61 MiB started afresh; bench/README.md, "Whole stack");
- :func:`main`: started by the api process that won the writer's election
  (:mod:`shared.intake.committer`) when there is none (the first one died, or the api runs
  without that master), with the bound socket as an inherited descriptor; not a command
  to run by hand.

Either way its standard input is a pipe from its parent, which never writes to it: the
writer serves until the pipe closes, that is until its parent stops it or ends in any way
(a SIGKILL included), then answers what already reached it and exits. So no writer outlives
its server, and none stops before its server's last requests: it ignores SIGINT and
SIGTERM, which a terminal's Ctrl-C or a process manager may send to every process of the
server at once.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import socket
import sys
import threading
import time

from setproctitle import setproctitle

from shared.ops import collector

log = logging.getLogger("services.intake_writer")

# How often the writer looks whether its serving thread is still alive.
CHECK_SECONDS = 0.5


def _until_eof(stop: threading.Event) -> None:
    """Set ``stop`` once standard input (the parent's end of the pipe) closes."""
    while os.read(0, 4096):
        pass
    stop.set()


def serve(listener: socket.socket) -> int:
    """Serve ``listener`` (bound and listening) as the host's writer until standard input
    closes; what either way in ends with."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stop = threading.Event()
    threading.Thread(target=_until_eof, args=(stop,), daemon=True).start()

    from shared.bootstrap import bootstrap, intake_writer_parts
    from shared.intake.server import serve as serve_socket
    from shared.logs import configure_logging

    configure_logging("api")
    container = bootstrap()
    server = serve_socket(listener, *intake_writer_parts(container))
    log.info(
        "this process is now the host's intake writer",
        extra={"pid": os.getpid(), "parent_pid": os.getppid()},
    )
    while not stop.wait(CHECK_SECONDS):
        if not server.alive():
            break  # it logged why; exiting gives up the socket's name
    server.close()
    container.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listener-fd", type=int, required=True)
    parser.add_argument("--cpus", default="", help="comma-separated; empty: inherited")
    args = parser.parse_args(argv)

    listener = socket.socket(fileno=args.listener_fd)
    if args.cpus:
        try:
            os.sched_setaffinity(0, {int(cpu) for cpu in args.cpus.split(",")})
        except OSError:
            pass  # those CPUs are no longer all allowed (a changed cpuset): keep the parent's
    collector.use_host_qualified_ids()  # before any metric exists in this process
    return serve(listener)


class ForkedWriter:
    """The writer :func:`fork_from_master` started: ended by :meth:`close` (or by its
    parent's end, which closes the pipe)."""

    def __init__(self, pid: int, pipe: int):
        self.pid, self.pipe = pid, pipe

    def close(self, wait: float) -> None:
        """Close the pipe (the writer answers what reached it, then exits) and wait up to
        ``wait`` seconds for it, then kill it."""
        os.close(self.pipe)
        deadline = time.monotonic() + wait
        try:
            while not os.waitpid(self.pid, os.WNOHANG)[0]:
                if time.monotonic() > deadline:
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    return
                time.sleep(0.05)
        except ChildProcessError:
            pass  # already reaped (gunicorn's master reaps every child that exits)


def fork_from_master(address: str, inherited_signals: list[int]) -> ForkedWriter | None:
    """In the api's gunicorn master, before it forks its workers: bind the writer's socket
    name ``address`` and fork the writer from this process. None if another server on this
    host already has a writer (the workers will use it) or forking is not safe here; the
    workers then elect one as before.

    ``inherited_signals``: the master's handled signals, reset to their defaults in the
    writer."""
    if threading.active_count() > 1:  # forking copies no thread, only the locks it holds
        log.warning("the api master runs threads; its workers will start the intake writer")
        return None
    from shared.intake.committer import bind_name

    listener = bind_name(address)
    if listener is None:  # taken: a writer already serves this host's stack
        return None
    read, write = os.pipe()
    gc.freeze()  # as before each worker's fork: the shared pages stay shared
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            for sig in inherited_signals:
                signal.signal(sig, signal.SIG_DFL)
            os.close(write)
            os.dup2(read, 0)
            os.close(read)
            # Named as when started afresh, not as the master it was forked from.
            setproctitle(f"{sys.executable} -m services.intake_writer (forked from the api master)")
            code = serve(listener)
        except BaseException:
            log.exception("the intake writer forked from the api master failed")
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(read)
    listener.close()  # the writer holds the name from now on
    log.info(
        "the api master started the host's intake writer",
        extra={"pid": os.getpid(), "writer_pid": pid},
    )
    return ForkedWriter(pid, write)


if __name__ == "__main__":
    raise SystemExit(main())
