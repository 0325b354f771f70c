"""The station's publication step: after a period's besluit deadline, publish its next release
whenever its opted-in deliveries or the decisions changed since the latest release.

The station calls `PublicationStep.run(source, registry, clock)` from its loop (at most once per
`interval` seconds of real time; the check reads no data, only versions and decisions) and from
`Station.publish_due()`. Several stations on one database may run it: a release directory appears
by one atomic rename, so only one of them writes `r<N>`; the other finds it and moves on.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from ggk.definitions import DefinitionRegistry
from ggk.publication.interfaces import ConsentedDataSource, NothingToPublish, ReleaseExists
from ggk.publication.models import Release
from ggk.publication.services import fingerprint, publish

log = logging.getLogger("ggk.publication")


class PublicationStep:
    def __init__(self, directory: Path, interval: float = 30.0) -> None:
        self.directory = Path(directory)
        self.interval = interval
        self._last_run = -float("inf")
        self._done: dict[tuple[str, str], str] = {}  # (statistic, period) -> fingerprint handled

    def run(self, source: ConsentedDataSource, registry: DefinitionRegistry, clock: object, *,
            force: bool = False) -> list[Release]:
        """New releases made now (usually none). `clock.now()` decides which periods are past
        their besluit deadline; `force` ignores the interval."""
        if not force and time.monotonic() - self._last_run < self.interval:
            return []
        self._last_run = time.monotonic()
        made = []
        now = clock.now()  # type: ignore[attr-defined]
        for definition in registry.all():
            if not (definition.root / "publication.toml").is_file():
                continue  # a statistic that is not published
            today = now.astimezone(ZoneInfo(definition.timezone)).date()
            for period in definition.periods:
                deadline = definition.calendar(period).events.get("besluit_deadline")
                if deadline is None or today <= deadline:
                    continue
                key = (definition.statistic, period)
                current = fingerprint(definition, period, source)
                if self._done.get(key) == current:
                    continue
                try:
                    release = publish(definition, period, source, self.directory, now=now)
                except (NothingToPublish, ReleaseExists) as e:
                    log.info("publication %s %s: %s", *key, e)
                else:
                    log.info("publication %s %s: release %s in %s", *key, release.name,
                             release.directory)
                    made.append(release)
                self._done[key] = current
        return made
