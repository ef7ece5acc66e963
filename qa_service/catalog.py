"""Optional per-document facts a page does not state, kept in a small TOML file beside the sources."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SourceError

FIELDS = ("title", "publisher", "source", "author", "date", "url")


@dataclass(frozen=True)
class Catalog:
    """``[doc_id]`` tables; a key fills a gap, and names listed in ``override`` replace the page's value."""

    entries: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Catalog:
        if not path.is_file():
            return cls()
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SourceError(f"catalog {path} is not valid TOML: {exc}") from exc
        for doc_id, entry in data.items():
            unknown = set(entry) - set(FIELDS) - {"override", "note"}
            if unknown:
                raise SourceError(f"catalog {path}: [{doc_id}] has unknown keys {sorted(unknown)}")
        return cls(entries=data)

    def apply(self, doc_id: str, fields: dict) -> dict:
        entry = self.entries.get(doc_id, {})
        override = set(entry.get("override", ()))
        merged = dict(fields)
        for name in FIELDS:
            value = entry.get(name)
            if value is not None and (name in override or not merged.get(name)):
                merged[name] = str(value)
        return merged
