"""E-mail to the people of a gemeente: when a report from CBS arrives, and reminders before each
date of the period calendar (`remind_days` before, once per date and gemeente)."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from ggk.conversation import Kind
from ggk.portal import tables as t
from ggk.portal.interfaces import Clock, StoredReport
from ggk.portal.service import AMSTERDAM, Desk, current_period, definition_for, statistics
from ggk.web.interfaces import Accounts, Mailer

log = logging.getLogger("ggk.portal.notify")
REMIND_DAYS = (7, 1)


class Notifier:
    def __init__(self, engine: sa.Engine, accounts: Accounts, mailer: Mailer, clock: Clock,
                 portal_url: str, remind_days: tuple[int, ...] = REMIND_DAYS) -> None:
        self.engine = engine
        self.accounts = accounts
        self.mailer = mailer
        self.clock = clock
        self.portal_url = portal_url.rstrip("/")
        self.remind_days = remind_days

    def _once(self, key: str) -> bool:
        """True the first time `key` is claimed (then never again)."""
        with self.engine.begin() as conn:
            if conn.execute(sa.select(t.notifications.c.key).where(
                    t.notifications.c.key == key)).first():
                return False
            conn.execute(sa.insert(t.notifications).values(key=key, at=dt.datetime.now(dt.UTC)))
        return True

    def _recipients(self, code: str) -> list[str]:
        return [u.email for u in self.accounts.members_of(code)]

    def report_arrived(self, desk: Desk, report: StoredReport) -> None:
        to = self._recipients(desk.code)
        if not to or not self._once(f"rapport/{desk.code}/{report.message_id}"):
            return
        m = report.metadata
        lines = [f"Beste collega van {desk.connection.name},", "",
                 f"CBS heeft een {report.title.lower()} gestuurd voor periode {report.period} "
                 f"({report.onderwerp})."]
        if report.kind is Kind.TECHNISCH_CONTROLERAPPORT:
            lines.append(f"Oordeel: {m.get('verdict', '?')} (versie {m.get('versie', '-')}, "
                         f"{m.get('errors', '?')} fouten).")
        lines += ["", f"Bekijk het in het portaal: {self.portal_url}/gemeente/{desk.code}/"
                      f"rapporten/{report.key}", "",
                  "Dit bericht is automatisch verstuurd door het portaal gemeentelijke "
                  "statistiek."]
        self.mailer.send(to, f"{report.title} {report.period} {report.onderwerp} "
                             f"({desk.code})", "\n".join(lines))

    def reminders(self, desk: Desk) -> int:
        """Send the reminders that are due today for this gemeente, for every statistic;
        returns how many."""
        to = self._recipients(desk.code)
        if not to:
            return 0
        day = self.clock.now().astimezone(AMSTERDAM).date()
        sent = 0
        for statistic in statistics():  # each statistic's own current period and dates
            period = current_period(self.clock, statistic)
            calendar = definition_for(period).calendar(period)
            for name, date in sorted(calendar.events.items(), key=lambda item: item[1]):
                left = (date - day).days
                due = [d for d in self.remind_days if 0 <= left <= d]
                if not due or name == "aanlevering_open":
                    continue
                if not self._once(f"herinnering/{desk.code}/{period}/{name}/{min(due)}"):
                    continue
                title = calendar.titles.get(name, name)
                body = "\n".join([
                    f"Beste collega van {desk.connection.name},", "",
                    f"Herinnering: {title.lower()} voor periode {period} is op "
                    f"{date:%d-%m-%Y} (over {left} dag{'en' if left != 1 else ''}).", "",
                    f"Bekijk de stand van uw aanlevering: {self.portal_url}/gemeente/{desk.code}",
                ])
                self.mailer.send(to, f"Herinnering: {title} op {date:%d-%m-%Y} ({period})", body)
                sent += 1
        return sent
