"""The offline base image reads its mirror from the host's apt configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecspress.local.apt_sources import MirrorNotFound, parse_sources, read_mirror

DEB822 = """\
Types: deb
# a comment naming another host
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


def test_deb822_archive_and_security() -> None:
    mirror = parse_sources({"debian.sources": DEB822})
    assert mirror.archive == "http://mirror.example/debian"
    assert mirror.security == "http://mirror.example/debian-security"


def test_one_line_format_with_options() -> None:
    text = "# deb http://ignored/debian bookworm main\n"
    text += "deb [arch=amd64 signed-by=/k.gpg] http://m.example/debian/ bookworm main\n"
    text += "deb http://m.example/debian-security bookworm-security main\n"
    mirror = parse_sources({"sources.list": text})
    assert mirror.archive == "http://m.example/debian"
    assert mirror.security == "http://m.example/debian-security"


def test_deb_src_and_disabled_entries_are_ignored() -> None:
    text = "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\n"
    text += "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n"
    with pytest.raises(MirrorNotFound):
        parse_sources({"x.sources": text})


def test_reads_a_directory(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    assert read_mirror(tmp_path).archive == "http://mirror.example/debian"


def test_this_machine_has_a_mirror() -> None:
    assert read_mirror().archive.startswith(("http://", "https://"))
