"""The TEST PKI of a world: a CA, the hub's server certificate and one PEM per party."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ggk.pki import Role, init_ca, issue_party_cert, issue_server_cert, make_test_oin

CBS_OIN_NUMBER = 1
OPERATOR_OIN_NUMBER = 9001


@dataclass(frozen=True, slots=True)
class Party:
    """One party of a world: `name` is how the harness's user calls it (a gemeentecode, "cbs")."""

    name: str
    oin: str
    organisation: str
    role: Role
    gemeentecode: str | None = None
    not_before: dt.datetime | None = None  # for an expired certificate
    days: int | None = None


def cbs_party(name: str = "cbs") -> Party:
    return Party(name, make_test_oin(CBS_OIN_NUMBER), "Centraal Bureau voor de Statistiek", "cbs")


def operator_party(name: str = "operator") -> Party:
    return Party(name, make_test_oin(OPERATOR_OIN_NUMBER), "Beheer ggk", "operator")


def gemeente_party(code: str, name: str | None = None, *, oin_number: int | None = None,
                   organisation: str | None = None) -> Party:
    """A municipality's party; its name from the reference register unless given."""
    if organisation is None:
        from ggk.refdata import register

        organisation = f"Gemeente {register().get(code).naam}"
    return Party(name or code, make_test_oin(oin_number if oin_number is not None
                                             else int(code[2:])),
                 organisation, "gemeente", code)


@dataclass
class WorldPki:
    directory: Path
    ca_dir: Path
    ca: Path  # the CA certificate (PEM) everyone verifies against
    server_pem: Path  # the hub's TLS certificate and key
    pem: dict[str, Path]  # party name -> certificate + key
    oin: dict[str, str]  # party name -> OIN
    parties: dict[str, Party]

    def add(self, party: Party, file_name: str | None = None) -> Path:
        """Issue a certificate for one more party (e.g. a second certificate of an OIN)."""
        path = self.directory / (file_name or f"{party.name}.pem")
        extra = {key: value for key, value in (("days", party.days),
                                               ("not_before", party.not_before))
                 if value is not None}
        path.write_bytes(issue_party_cert(self.ca_dir, party.oin, party.organisation,
                                          role=party.role, gemeentecode=party.gemeentecode,
                                          **extra))  # type: ignore[arg-type]
        self.pem[party.name], self.oin[party.name] = path, party.oin
        self.parties[party.name] = party
        return path


def build_pki(directory: Path, parties: Iterable[Party],
              server_hosts: tuple[str, ...] = ("127.0.0.1",)) -> WorldPki:
    """A TEST CA in `directory/ca`, the hub certificate `hub.pem` and `<name>.pem` per party."""
    ca_dir = directory / "ca"
    init_ca(ca_dir)
    server_pem = directory / "hub.pem"
    server_pem.write_bytes(issue_server_cert(ca_dir, list(server_hosts)))
    pki = WorldPki(directory, ca_dir, ca_dir / "ca.pem", server_pem, {}, {}, {})
    for party in parties:
        pki.add(party)
    return pki
