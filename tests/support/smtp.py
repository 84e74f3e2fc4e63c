"""A real SMTP listener on loopback (aiosmtpd), from which tests read the e-mails sent to it."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.waiting import wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ReceivedMail:
    to: list[str]
    subject: str
    text: str
    html: str


class _Handler:
    def __init__(self, box: SmtpListener) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        text = html = ""
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                text = part.get_content()
            elif part.get_content_type() == "text/html":
                html = part.get_content()
        with self.box.lock:
            self.box.messages.append(
                ReceivedMail(
                    to=list(envelope.rcpt_tos), subject=str(message["Subject"]), text=text, html=html
                )
            )
        return "250 OK"


class SmtpListener:
    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[ReceivedMail] = []
        self.lock = threading.Lock()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.running = False

    def start(self) -> None:
        """Listen (again, on the same port, after :meth:`stop`: an SMTP outage that ends)."""
        if not self.running:
            self.controller.start()
            self.running = True

    def stop(self) -> None:
        if self.running:
            self.controller.stop()
            self.running = False
            # A stopped controller's event loop is closed: a fresh one can start on the same port.
            self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def wait_for(self, *, to: str, subject_contains: str, timeout: float = 30.0) -> ReceivedMail:
        """The first message to ``to`` whose subject contains the text; waits up to ``timeout``."""

        def take() -> ReceivedMail | None:
            with self.lock:
                for message in self.messages:
                    if to in message.to and subject_contains in message.subject:
                        self.messages.remove(message)
                        return message
            return None

        def seen() -> str:
            with self.lock:
                received = [(m.to, m.subject) for m in self.messages]
            return f"an e-mail to {to} with {subject_contains!r}; seen: {received}"

        return wait_until(take, timeout=timeout, interval=0.05, what=seen)


def code_from(message: ReceivedMail) -> str:
    match = re.search(r"^\s*(\d{6})\s*$", message.text, re.M)
    assert match, f"no code in: {message.text}"
    return match.group(1)
