"""Sending one message: a signed JSON webhook, or an e-mail over SMTP.

Webhook requests carry ``X-Guanghe-Delivery`` (the stable id to de-duplicate on),
``X-Guanghe-Timestamp`` (Unix seconds) and ``X-Guanghe-Signature: sha256=<hex>``, the
HMAC-SHA256 under the creator's secret of ``<timestamp>.<body>``; receivers recompute it and
refuse old timestamps, as enterprise chat bots do. E-mails carry ``Message-ID:
<message id@sender domain>``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Final, Protocol

import httpx

from guanghe.notifications.delivery import Outgoing

WEBHOOK_TIMEOUT_S: Final = 10.0
SIGNATURE_HEADER: Final = "X-Guanghe-Signature"
TIMESTAMP_HEADER: Final = "X-Guanghe-Timestamp"
DELIVERY_HEADER: Final = "X-Guanghe-Delivery"


class SendFailed(Exception):
    """A send that did not go through; ``permanent`` when retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, message: Outgoing) -> None: ...


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is :func:`sign`'s for these (what a receiver checks)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def webhook_body(message: Outgoing) -> bytes:
    """The JSON a webhook receives."""
    payload = {
        "delivery_id": message.message_id,
        "creator_id": message.creator_id,
        "notices": [
            {
                "id": n.id,
                "kind": n.kind,
                "subject": n.subject,
                "body": n.body,
                "data": n.data,
                "created_at": n.created_at.isoformat(),
            }
            for n in message.notices
        ],
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()


class WebhookSender:
    """POSTs signed JSON with one shared connection pool."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def send(self, message: Outgoing) -> None:
        if not message.webhook_url or not message.webhook_secret:
            raise SendFailed("the creator has no webhook configured now", permanent=True)
        body = webhook_body(message)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: message.message_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(message.webhook_secret, timestamp, body),
        }
        try:
            response = await self._client.post(
                message.webhook_url, content=body, headers=headers, timeout=WEBHOOK_TIMEOUT_S
            )
        except httpx.HTTPError as exc:
            raise SendFailed(f"webhook: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            raise SendFailed(f"webhook answered {response.status_code}")


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False


def email_of(message: Outgoing, sender: str) -> EmailMessage:
    """The e-mail for ``message``: one notice, or a digest listing several."""
    mail = EmailMessage()
    domain = sender.rsplit("@", 1)[-1]
    mail["Message-ID"] = f"<{message.message_id}@{domain}>"
    mail["From"] = sender
    mail["To"] = message.email or ""
    if len(message.notices) == 1:
        notice = message.notices[0]
        mail["Subject"] = notice.subject
        mail.set_content(notice.body or notice.subject)
    else:
        mail["Subject"] = f"Guanghe: {len(message.notices)} notices today"
        mail.set_content("\n\n".join(f"{n.subject}\n{n.body}".rstrip() for n in message.notices))
    mail["X-Guanghe-Notices"] = ",".join(str(n.id) for n in message.notices)
    return mail


class EmailSender:
    """Sends over SMTP with the standard library, in a worker thread."""

    def __init__(self, server: SmtpServer | None) -> None:
        self._server = server

    async def send(self, message: Outgoing) -> None:
        if self._server is None:
            raise SendFailed("no SMTP server is configured (GUANGHE_SMTP_HOST)")
        if not message.email:
            raise SendFailed("the creator has no e-mail address now", permanent=True)
        await asyncio.to_thread(self._send, email_of(message, self._server.sender))

    def _send(self, mail: EmailMessage) -> None:
        server = self._server
        assert server is not None
        try:
            with smtplib.SMTP(server.host, server.port, timeout=WEBHOOK_TIMEOUT_S) as smtp:
                if server.starttls:
                    smtp.starttls()
                if server.username:
                    smtp.login(server.username, server.password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"smtp: {type(exc).__name__}: {exc}") from exc
