"""The parties registered at the hub, as the station needs them (sender -> gemeentecode)."""

from __future__ import annotations

from ggk.client.interfaces import HubApi, Party


class PartyBook:
    """Looks parties up at the hub; an unknown OIN refreshes the list once."""

    def __init__(self, client: HubApi) -> None:
        self.client = client
        self._parties: dict[str, Party] = {}

    def get(self, oin: str) -> Party | None:
        """The registered party with this OIN, or None."""
        if oin not in self._parties:
            self._parties = {p.oin: p for p in self.client.parties()}
        return self._parties.get(oin)
