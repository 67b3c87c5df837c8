"""The Dockerfile peer of the benchmarks installs exactly the packages the wordpress_image role installs."""

from __future__ import annotations

import re

import yaml

from tests.conftest import ROOT


def role_packages() -> set[str]:
    defaults = yaml.safe_load((ROOT / "roles/wordpress_image/defaults/main.yml").read_text())
    names = (
        "wordpress_image_apache_packages",
        "wordpress_image_php_packages",
        "wordpress_image_extra_packages",
        "wordpress_image_debian_packages",
    )
    return {package for name in names for package in defaults.get(name) or []}


def peer_packages() -> tuple[set[str], set[str]]:
    text = (ROOT / "bench/Dockerfile.peer").read_text()
    declared = set(re.search(r"^# PACKAGES: (.+)$", text, re.M).group(1).split())  # type: ignore[union-attr]
    install = re.search(r"--no-install-recommends \\\n(.+?)\\\n \&\& a2enmod", text, re.S).group(1)  # type: ignore[union-attr]
    return declared, set(install.replace("\\", " ").split())


def test_the_peer_installs_what_the_role_installs() -> None:
    declared, installed = peer_packages()
    assert declared == installed == role_packages()
