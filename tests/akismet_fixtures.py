"""Pytest fixture for the Akismet-compatible server.

One server runs for the whole session (starting it per test would cost a bind and a
thread each time); every test gets it freshly reset. The server is kept on the pytest
config rather than behind a session-scoped fixture so that importing ``akismet_server``
alone into a conftest is enough.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.akismet_server import AkismetServer

_SERVER_KEY = pytest.StashKey[AkismetServer]()


def _session_server(config: pytest.Config) -> AkismetServer:
    server = config.stash.get(_SERVER_KEY, None)
    if server is None:
        server = AkismetServer(port=0).start()
        config.stash[_SERVER_KEY] = server
        config.add_cleanup(server.stop)
    return server


@pytest.fixture
def akismet_server(request: pytest.FixtureRequest) -> Iterator[AkismetServer]:
    """The session's Akismet-compatible server, reset: normal mode, ham, no requests."""
    server = _session_server(request.config)
    server.reset()
    yield server
    # Release anything still held (timeout mode) so no thread outlives the test's intent.
    server.reset()
