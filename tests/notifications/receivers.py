"""A local webhook receiver and a local SMTP server that record what they receive and
de-duplicate on the delivery id, as a real receiver does."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from guanghe.notifications import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

SECRET = "a-webhook-secret-of-some-length"


@dataclass
class WebhookReceiver:
    """Answers 500 to its first ``fail_first`` requests (all when ``always_fail``); holds each
    request ``delay_s`` before answering; keeps every accepted delivery id and payload."""

    url: str = ""
    fail_first: int = 0
    always_fail: bool = False
    delay_s: float = 0.0
    requests: int = 0
    bad_signatures: int = 0
    accepted: Counter[str] = field(default_factory=Counter)
    payloads: dict[str, dict[str, Any]] = field(default_factory=dict)
    received_at: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def notice_ids(self) -> set[int]:
        with self.lock:
            return {n["id"] for p in self.payloads.values() for n in p["notices"]}


@contextmanager
def webhook_receiver(**options: Any) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(**options)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with receiver.lock:
                receiver.requests += 1
                failing = receiver.always_fail or receiver.requests <= receiver.fail_first
            time.sleep(receiver.delay_s)
            timestamp = int(self.headers[TIMESTAMP_HEADER])
            if not verify(SECRET, timestamp, body, self.headers[SIGNATURE_HEADER]):
                with receiver.lock:
                    receiver.bad_signatures += 1
                failing = True
            if not failing:
                delivery = self.headers[DELIVERY_HEADER]
                with receiver.lock:
                    receiver.accepted[delivery] += 1
                    receiver.payloads[delivery] = json.loads(body)
                    receiver.received_at.setdefault(delivery, time.time())
            self.send_response(500 if failing else 204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    """Messages an SMTP server accepted, by Message-ID (a repeat is counted, not kept)."""

    host: str = "127.0.0.1"
    port: int = 0
    accepted: Counter[str] = field(default_factory=Counter)
    messages: dict[str, email.message.EmailMessage] = field(default_factory=dict)
    received_at: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def notice_ids(self) -> set[int]:
        with self.lock:
            return {
                int(i)
                for m in self.messages.values()
                for i in str(m["X-Guanghe-Notices"]).split(",")
            }


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802 - aiosmtpd names it
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        key = str(message["Message-ID"])
        with self.mailbox.lock:
            self.mailbox.accepted[key] += 1
            self.mailbox.messages.setdefault(key, message)
            self.mailbox.received_at.setdefault(key, time.time())
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox(port=free_port())
    controller = Controller(_Handler(mailbox), hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
