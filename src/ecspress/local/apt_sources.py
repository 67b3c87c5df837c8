"""Read the Debian mirror this machine already uses from its apt configuration.

The offline base image is debootstrapped from the same mirror the host installs its own
packages from. The mirror's host name is read here at run time and never written into the
repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_APT_DIR = Path("/etc/apt")


class MirrorNotFound(RuntimeError):
    pass


@dataclass(frozen=True)
class AptMirror:
    archive: str
    security: str | None


@dataclass(frozen=True)
class _Entry:
    uri: str
    suites: tuple[str, ...]


def _deb822_entries(text: str) -> list[_Entry]:
    entries: list[_Entry] = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or ("enabled" in fields and fields["enabled"] == "no"):
            continue
        suites = tuple(fields.get("suites", "").split())
        entries.extend(_Entry(uri, suites) for uri in fields.get("uris", "").split())
    return entries


def _one_line_entries(text: str) -> list[_Entry]:
    entries: list[_Entry] = []
    for line in text.splitlines():
        words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        if len(words) >= 3 and words[0] == "deb":
            entries.append(_Entry(words[1], (words[2],)))
    return entries


def parse_sources(texts: dict[str, str]) -> AptMirror:
    """Find the Debian archive and security mirrors in apt source files (name -> content)."""
    entries: list[_Entry] = []
    for name, text in texts.items():
        entries.extend(_deb822_entries(text) if name.endswith(".sources") else _one_line_entries(text))
    http = [entry for entry in entries if entry.uri.startswith(("http://", "https://"))]
    security = next((e.uri for e in http if any(s.endswith("-security") for s in e.suites)), None)
    archive = next(
        (e.uri for e in http if e.uri != security and not any(s.endswith("-security") for s in e.suites)), None
    )
    if archive is None:
        raise MirrorNotFound("no Debian archive mirror found in the apt sources (/etc/apt/sources.list*)")
    return AptMirror(archive=archive.rstrip("/"), security=security.rstrip("/") if security else None)


def read_mirror(apt_dir: Path = DEFAULT_APT_DIR) -> AptMirror:
    files = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    files += sorted((apt_dir / "sources.list.d").glob("*.sources"))
    texts = {str(path): path.read_text() for path in files if path.is_file()}
    return parse_sources(texts)
