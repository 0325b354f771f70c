"""A small JSON file remembering, per hub and party, the last mailbox cursor the CLI showed.

Default location: `$GGK_STATE_DIR/cursors.json`, else `~/.local/state/ggk/cursors.json`.
Written atomically (temporary file + rename) so an interrupted command never corrupts it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def default_path() -> Path:
    state = os.environ.get("GGK_STATE_DIR")
    base = Path(state) if state else Path.home() / ".local" / "state" / "ggk"
    return base / "cursors.json"


class CursorStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else default_path()

    @staticmethod
    def key(hub: str, oin: str, box: str = "inbox") -> str:
        return f"{hub.rstrip('/')}|{oin}|{box}"

    def _load(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (ValueError, OSError) as error:
            raise ValueError(
                f"cursor file {self.path} is unreadable ({error}); delete it"
            ) from error
        return {str(k): int(v) for k, v in data.items()}

    def get(self, hub: str, oin: str, box: str = "inbox") -> int | None:
        return self._load().get(self.key(hub, oin, box))

    def set(self, hub: str, oin: str, cursor: int, box: str = "inbox") -> None:
        data = self._load()
        data[self.key(hub, oin, box)] = int(cursor)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)
