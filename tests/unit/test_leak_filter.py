"""The after-test garbage check lets through only amqtt's abandoned server-side connections.

The warnings are raised as asyncio's and socket's own finalisers raise them (the same text and
source), on real objects, which are then closed properly.
"""

from __future__ import annotations

import asyncio
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from tests.conftest import amqtt_leaks


def raised(*finalisers: Callable[[], None]) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for finalise in finalisers:
            finalise()
    return caught


@dataclass
class Connection:
    """A stream server on its own loop with one client connected: both ends, real sockets."""

    loop: asyncio.AbstractEventLoop
    server: asyncio.Server
    client: asyncio.StreamWriter
    accepted: asyncio.StreamWriter

    @classmethod
    def open(cls) -> Connection:
        loop = asyncio.new_event_loop()
        accepted: list[asyncio.StreamWriter] = []

        async def connect() -> tuple[asyncio.Server, asyncio.StreamWriter]:
            server = await asyncio.start_server(lambda _r, w: accepted.append(w), "127.0.0.1", 0)
            _, client = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
            while not accepted:
                await asyncio.sleep(0.01)
            return server, client

        server, client = loop.run_until_complete(connect())
        return cls(loop, server, client, accepted[0])

    def close(self) -> None:
        async def close() -> None:
            for thing in (self.client, self.accepted, self.server):
                thing.close()
                await thing.wait_closed()

        self.loop.run_until_complete(close())
        self.loop.close()


def test_a_socket_or_client_connection_of_our_own_is_still_reported() -> None:
    both = Connection.open()
    client = both.client
    with socket.socket() as sock:
        caught = raised(
            lambda: warnings.warn(f"unclosed {sock!r}", ResourceWarning, stacklevel=1, source=sock),
            lambda: warnings.warn(f"unclosed transport {client.transport!r}", ResourceWarning,
                                  stacklevel=1, source=client.transport),
        )
    leaks = amqtt_leaks(caught)
    both.close()
    assert len(caught) == 2 and leaks == []


def test_a_stream_servers_accepted_connection_left_open_is_amqtts_and_let_through() -> None:
    both = Connection.open()
    writer = both.accepted
    sock = writer.get_extra_info("socket")._sock  # the socket.socket asyncio wraps
    caught = raised(
        lambda: warnings.warn(f"unclosed {sock!r}", ResourceWarning, stacklevel=1, source=sock),
        lambda: warnings.warn(f"unclosed transport {writer.transport!r}", ResourceWarning,
                              stacklevel=1, source=writer.transport),
        lambda: warnings.warn(f"unclosed {writer!r}", ResourceWarning, stacklevel=1),
    )
    leaks = amqtt_leaks(caught)  # before closing: a closed transport has let go of its server
    both.close()
    assert len(caught) == 3 and sorted(map(id, leaks)) == sorted(map(id, caught))
