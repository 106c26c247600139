"""A real SMTP server (aiosmtpd) on loopback for mail tests: it can refuse, stall or go busy."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


class Recorder:
    """An SMTP handler that keeps what it accepts; it can refuse addresses or go 'busy'."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()
        self.reject_content: set[str] = set()  # answer 554 at the end of DATA for these
        self.stall_at: int | None = None  # keep the client waiting after this many messages
        self.stalled = threading.Event()
        self.busy_after: int | None = None  # answer 421 once this many messages were accepted
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.busy_after is not None and len(self.messages) >= self.busy_after:
            return "421 4.3.2 Service not available, try again later"
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if set(envelope.rcpt_tos) & self.reject_content:
            return "554 5.7.1 Message rejected by policy"
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(message)
        if self.stall_at is not None and len(self.messages) == self.stall_at:
            self.stalled.set()  # accepted, but the sender has not heard so yet
            await asyncio.sleep(5)
        return "250 Message accepted"

    def to(self) -> list[str]:
        """Return the recipients of the accepted messages, in order."""
        return [m["To"] for m in self.messages]


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_smtp() -> Iterator[Recorder]:
    """Run a server on a free loopback port; yield its handler (with `.port`)."""
    handler = Recorder()
    for attempt in range(5):  # a free port can be taken by another process before we bind it
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        try:
            controller.start()
            break
        except (OSError, RuntimeError):
            if attempt == 4:
                raise
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()
