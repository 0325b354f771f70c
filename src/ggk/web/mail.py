"""Plain-text e-mail over SMTP (STARTTLS when the server offers it and `starttls` is set)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass(frozen=True)
class SmtpMailer:
    """`ggk.web.interfaces.Mailer` over SMTP."""

    host: str
    port: int = 25
    sender: str = "ggk-portaal@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 20.0

    def send(self, to: Sequence[str], subject: str, body: str) -> None:
        if not to:
            return
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(to)
        message["Subject"] = subject
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


class NoMailer:
    """Used when no SMTP server is configured: mail is skipped (the portal says so at start)."""

    def send(self, to: Sequence[str], subject: str, body: str) -> None:
        return None
