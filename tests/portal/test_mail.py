"""E-mail (a real SMTP server, aiosmtpd): the members of a gemeente get a message when a report
from CBS arrives in the portal, and a reminder before a date of the period calendar, once."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from ggk.gemeente.submit import submit_file
from ggk.web.mail import SmtpMailer
from tests.gemeente.conftest import Chain
from tests.portal.conftest import FixedClock, start_portal
from tests.portal.test_delivery_flow import make_file
from tests.web.conftest import free_port


class Collect:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content)
        message["X-Rcpt"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Collect, int]]:
    with smtp_server() as server:
        yield server


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[Collect, int]]:
    """A real SMTP server on 127.0.0.1 that keeps what it receives (handler, port)."""
    handler = Collect()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def test_mail_when_a_report_arrives(chain: Chain, smtp: tuple[Collect, int],
                                    tmp_path: Path) -> None:
    handler, port = smtp
    portal, server, _url = start_portal(chain, tmp_path / "portal",
                                        mailer=SmtpMailer("127.0.0.1", port),
                                        public_url="https://portaal.example")
    try:
        with chain.client("gemeente_a") as client:
            submit_file(client, make_file(tmp_path, "fout", {"elfproef": 2}), statistic="gmsd",
                        period="2026-H1", dataset="basis", gemeente="GM0363")
        deadline = time.monotonic() + 90
        while not any("Technisch controlerapport" in (m["Subject"] or "")
                      for m in handler.messages):
            portal.collect_once()
            assert time.monotonic() < deadline, "no mail about the technical report"
            time.sleep(0.5)
        mail = next(m for m in handler.messages if "Technisch" in m["Subject"])
        assert mail["Subject"] == "Technisch controlerapport 2026-H1 basis (GM0363)"
        assert set(mail["X-Rcpt"].split(", ")) == {"anna@amsterdam.nl", "lex@amsterdam.nl"}
        body = mail.get_payload(decode=True).decode()
        assert "Oordeel: afgekeurd" in body
        assert "https://portaal.example/gemeente/GM0363/rapporten/2026-H1/basis/" in body
        count = len(handler.messages)
        portal.collect_once()
        assert len(handler.messages) == count  # once per report
    finally:
        server.stop()
        portal.close()


def test_reminders_before_the_deadline_once(chain_without_station: Chain,
                                            smtp: tuple[Collect, int], tmp_path: Path) -> None:
    handler, port = smtp
    clock = FixedClock(dt.datetime(2026, 9, 23, 9, tzinfo=dt.UTC))  # 7 days before 30-09
    portal, server, _url = start_portal(chain_without_station, tmp_path / "portal",
                                        mailer=SmtpMailer("127.0.0.1", port), clock=clock)
    try:
        desk = portal.desk("GM0599")
        # every statistic its own dates: GMSD's deadline, and Iv3 2026-Q2's publication
        assert portal.notifier.reminders(desk) == 2
        assert portal.notifier.reminders(desk) == 0  # not twice
        subjects = sorted(m["Subject"] for m in handler.messages[-2:])
        assert subjects[0] == ("Herinnering: Aanleverperiode sluit (deadline) op "
                               "30-09-2026 (2026-H1)")
        assert subjects[1].startswith("Herinnering: ") and subjects[1].endswith(
            "op 28-09-2026 (2026-Q2)")
        mail = next(m for m in handler.messages if m["Subject"] == subjects[0])
        assert mail["X-Rcpt"] == "rob@rotterdam.nl"
        assert "over 7 dagen" in mail.get_payload(decode=True).decode()
        clock.moment = dt.datetime(2026, 9, 29, 9, tzinfo=dt.UTC)  # the day before
        assert portal.notifier.reminders(desk) == 1
        assert "over 1 dag)" in handler.messages[-1].get_payload(decode=True).decode()
    finally:
        server.stop()
        portal.close()
