"""The burentest ("neighbour test"): is the channel to a peer party working in BOTH directions?

Checks, in order (each a `Check` with a clear English reason when it fails):
1. TLS handshake with the hub (protocol version, cipher);
2. our own certificate: valid now, days to expiry (warning under 30 days);
3. the hub's certificate: idem;
4. the hub knows us (GET /me) and the peer is an active party;
5. direction you -> peer -> you: we send `ggk.ping` (metadata `ping_back: true`) and wait for the
   peer's `ggk.pong` (in_reply_to our ping). Round trip measured on our clock.
6. direction peer -> you -> peer: the peer's client, asked by `ping_back`, pings us; we answer
   with a pong and wait until the peer acknowledges it. Round trip measured on the hub's clock
   (peer's ping created -> our pong acknowledged).
Testing only the delivery channel and forgetting the return channel is the failure this catches.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ggk.client.hub_client import HubClient, reply_id
from ggk.client.interfaces import PING_TYPE, PONG_TYPE, ClientError, Message, NotFound
from ggk.client.tls_check import (
    EXPIRY_WARNING_DAYS,
    CertificateFacts,
    handshake,
    own_certificate,
)

Status = Literal["ok", "warning", "failed", "skipped"]


@dataclass(slots=True)
class Check:
    name: str
    status: Status
    detail: str
    seconds: float | None = None


@dataclass(slots=True)
class BurentestReport:
    peer: str
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.status in ("ok", "warning") for c in self.checks)

    def add(self, name: str, status: Status, detail: str, seconds: float | None = None) -> None:
        self.checks.append(Check(name, status, detail, seconds))


def _certificate_check(report: BurentestReport, label: str, facts: CertificateFacts) -> None:
    days = facts.days_left()
    until = facts.not_after.strftime("%Y-%m-%d")
    if not facts.valid():
        state = "expired" if days < 0 else "not yet valid"
        report.add(label, "failed", f"{facts.subject}: {state} (valid until {until})")
    elif days < EXPIRY_WARNING_DAYS:
        report.add(
            label, "warning", f"{facts.subject}: expires in {days:.0f} days ({until}), renew it"
        )
    else:
        report.add(label, "ok", f"{facts.subject}: valid, {days:.0f} days left (until {until})")


class _Exchange:
    """The ping/pong exchange with one peer, driven by long-polling our inbox.

    Reply ids are derived from the ping id (`reply_id` for the peer's ping-back, `pong_id` under
    our own key for our pong), so the backward direction is found even when another client of ours
    (a station using the same certificate) answered the ping back.
    """

    def __init__(self, client: HubClient, peer: str, timeout: float) -> None:
        self.client = client
        self.peer = peer
        self.deadline = time.monotonic() + timeout
        self.our_ping: Message | None = None
        self.ping_sent_at = 0.0
        self.forward_seconds: float | None = None
        self.ping_back_id = ""
        self.our_pong_id = ""
        self.ping_back: Message | None = None
        self.backward_seconds: float | None = None

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def run(self) -> None:
        self.ping_sent_at = time.monotonic()
        self.our_ping = self.client.ping(self.peer, ping_back=True)
        self.ping_back_id = reply_id("ping-back", self.our_ping.id)
        self.our_pong_id = self.client.pong_id(self.ping_back_id)
        cursor: int | None = None
        while self.remaining() > 0:
            need_inbox = self.forward_seconds is None or self.ping_back is None
            wait = min(5, max(1, int(self.remaining()))) if need_inbox else 0
            page = self.client.mailbox(after=cursor, wait=wait, limit=100)
            cursor = page.cursor if page.cursor is not None else cursor
            self._handle(page.messages)
            if self.backward_seconds is None:
                self._check_backward()
            if self.forward_seconds is not None and self.backward_seconds is not None:
                return
            if not need_inbox:
                time.sleep(min(0.2, max(0.0, self.remaining())))

    def _handle(self, messages: tuple[Message, ...]) -> None:
        assert self.our_ping is not None
        for message in messages:
            if message.type == PONG_TYPE and message.in_reply_to == self.our_ping.id:
                if self.forward_seconds is None:
                    self.forward_seconds = time.monotonic() - self.ping_sent_at
                self.client.ack(message.id)
            elif message.type == PING_TYPE and message.id == self.ping_back_id:
                self.ping_back = message
        self.client.answer_pings([m for m in messages if m.type == PING_TYPE])

    def _check_backward(self) -> None:
        try:
            pong = self.client.message(self.our_pong_id)
        except NotFound:
            return
        if pong.state != "acknowledged":
            return
        if self.ping_back is None:  # answered by another client of ours
            self.ping_back = self.client.message(self.ping_back_id)
        started = self.ping_back.created_at
        if pong.acknowledged_at and started:
            self.backward_seconds = (pong.acknowledged_at - started).total_seconds()
        else:
            self.backward_seconds = 0.0

    def state_of(self, message_id: str) -> str | None:
        try:
            return self.client.message(message_id).state
        except NotFound:
            return None


def _exchange_checks(report: BurentestReport, exchange: _Exchange, timeout: float) -> None:
    t = f"{timeout:g} s"
    if exchange.forward_seconds is not None:
        report.add(
            "you -> peer -> you (your ping, peer's pong)",
            "ok",
            "pong received",
            exchange.forward_seconds,
        )
    else:
        assert exchange.our_ping is not None
        state = exchange.state_of(exchange.our_ping.id)
        if state == "available":
            reason = (
                f"the peer did not fetch your ping within {t}: the peer's client is not running "
                "or the delivery channel (you -> peer) is broken"
            )
        else:
            reason = (
                f"no pong from peer within {t} (your ping is {state} at the peer): the return "
                "channel (peer -> you) or the peer's client is not running"
            )
        report.add("you -> peer -> you (your ping, peer's pong)", "failed", reason)
    name = "peer -> you -> peer (peer's ping, your pong)"
    if exchange.backward_seconds is not None:
        report.add(name, "ok", "peer acknowledged your pong", exchange.backward_seconds)
    elif exchange.state_of(exchange.ping_back_id) is None:
        report.add(
            name,
            "failed",
            f"the peer did not ping back within {t}: the channel peer -> you is broken or the "
            "peer's client does not answer `ping_back` (run `ggk answer-pings` there)",
        )
    else:
        report.add(
            name,
            "failed",
            f"your pong was not acknowledged by the peer within {t}: the channel you -> peer or "
            "the peer's client stopped",
        )


def run_burentest(
    base_url: str, cert: Path, ca: Path, peer: str, *, timeout: float = 30.0
) -> BurentestReport:
    """Run every check; never raises for a failing channel (it becomes a failed check)."""
    report = BurentestReport(peer)
    try:
        facts = handshake(base_url, cert, ca)
        report.add("TLS handshake", "ok", f"{facts.protocol}, {facts.cipher}", facts.seconds)
    except (ssl.SSLError, OSError) as error:
        report.add("TLS handshake", "failed", f"no TLS connection to {base_url}: {error}")
        facts = None
    _certificate_check(report, "your certificate", own_certificate(cert))
    if facts is None:
        report.add("hub certificate", "skipped", "no handshake")
        return report
    _certificate_check(report, "hub certificate", facts.server_certificate)
    with HubClient(base_url, cert, ca, timeout=timeout + 30) as client:
        try:
            me = client.me()
            report.add("hub knows you", "ok", f"{me.name} ({me.oin}, {me.role})")
            peers = {p.oin: p for p in client.parties()}
        except ClientError as error:
            report.add("hub knows you", "failed", str(error))
            return report
        party = peers.get(peer)
        if party is None or not party.active:
            state = "unknown to the hub" if party is None else "not active (revoked)"
            report.add("peer", "failed", f"peer {peer} is {state}")
            return report
        report.add("peer", "ok", f"{party.name} ({party.oin}, {party.role})")
        exchange = _Exchange(client, peer, timeout)
        try:
            exchange.run()
        except ClientError as error:
            report.add("ping exchange", "failed", f"the hub refused the ping exchange: {error}")
            return report
        _exchange_checks(report, exchange, timeout)
    return report
