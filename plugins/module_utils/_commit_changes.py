# Copyright (c) ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of the Dockerfile instruction lines sent as ``changes`` to the Docker Engine ``POST /commit``.

Private to the ecspress.wordpress collection: no stability promise to anything outside it.

The engine joins the lines with newlines and parses them as a Dockerfile, so one bad line can silently
swallow the next (a trailing backslash), turn an exec form into a shell form (broken JSON), or be refused
only after the container was paused. Everything here is pure: a line in, a normalised line or a
:class:`ChangeLineError` out.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable

ALLOWED_INSTRUCTIONS = ("CMD", "ENTRYPOINT", "EXPOSE", "ENV", "LABEL", "USER", "WORKDIR", "HEALTHCHECK")

_BUILD_ONLY = "it only has a meaning in a Dockerfile build, not in a commit"
REFUSED_INSTRUCTIONS = {
    "VOLUME": (
        "a declared volume makes every later commit and build silently drop the files under it; "
        "mount volumes at run time instead"
    ),
    "STOPSIGNAL": "Docker Engine 20.10 rejects STOPSIGNAL in commit changes",
    "ONBUILD": "its triggers run only in a later Dockerfile build FROM this image, which this pipeline never does",
    "RUN": "a commit cannot run commands; run them in the container before committing",
    "COPY": "a commit cannot copy files; put them into the container before committing",
    "ADD": "a commit cannot copy files; put them into the container before committing",
    "FROM": _BUILD_ONLY,
    "ARG": _BUILD_ONLY,
    "SHELL": _BUILD_ONLY,
    "MAINTAINER": "it is deprecated; use the author option or a LABEL",
}

_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PORT_SPEC = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?(?:/(tcp|udp|sctp))?$", re.IGNORECASE)
_USER_SPEC = re.compile(r"^[^\s:]+(?::[^\s:]+)?$")
# Go's time.ParseDuration syntax, which the engine uses for HEALTHCHECK durations: 30s, 1m30s, 1.5h, 500ms.
_GO_DURATION_PART = r"(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h)"
_GO_DURATION = re.compile(rf"^(?:{_GO_DURATION_PART})+$")
_HEALTHCHECK_DURATION_FLAGS = ("interval", "timeout", "start-period")
_HEALTHCHECK_FLAG = re.compile(r"^--([a-z-]+)=(\S*)(?:\s+|$)")
_HEALTHCHECK_CMD = re.compile(r"^CMD(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)


class ChangeLineError(ValueError):
    """A ``changes`` line the module refuses to send; the message names the line and the reason."""

    def __init__(self, line: object, reason: str) -> None:
        self.line = line
        self.reason = reason
        shown = json.dumps(line, ensure_ascii=False) if isinstance(line, str) else repr(line)
        super().__init__(f"invalid change line {shown}: {reason}")


def normalize_change_lines(lines: Iterable[str] | None) -> list[str]:
    """Validate every line and return them normalised (instruction upper-cased, spacing tidied), in order."""
    return [normalize_change_line(line) for line in lines or ()]


def normalize_change_line(line: str) -> str:
    """Validate one Dockerfile instruction line allowed in a commit and return it normalised.

    Raises ChangeLineError naming the line when it is not one of ALLOWED_INSTRUCTIONS or its argument is malformed.
    """
    if not isinstance(line, str):
        raise ChangeLineError(line, f"expected a string, got {type(line).__name__}")
    text = line.strip()
    _check_single_line(line, text)
    instruction, *rest = text.split(maxsplit=1)
    argument = rest[0] if rest else ""
    keyword = instruction.upper()
    if keyword in REFUSED_INSTRUCTIONS:
        raise ChangeLineError(line, f"{keyword} is refused: {REFUSED_INSTRUCTIONS[keyword]}")
    if keyword not in ALLOWED_INSTRUCTIONS:
        allowed = ", ".join(ALLOWED_INSTRUCTIONS)
        raise ChangeLineError(line, f"unknown instruction {instruction!r}; allowed are {allowed}")
    if not argument:
        raise ChangeLineError(line, f"{keyword} needs an argument")
    return f"{keyword} {_ARGUMENT_CHECKS[keyword](line, argument)}"


def _check_single_line(line: str, text: str) -> None:
    if not text:
        raise ChangeLineError(line, "the line is empty")
    if "\n" in text or "\r" in text:
        raise ChangeLineError(line, "one instruction per list item; the line contains a line break")
    if text.startswith("#"):
        raise ChangeLineError(line, "a comment is not an instruction")
    if text.endswith("\\"):
        raise ChangeLineError(line, "a trailing backslash would join this line with the next instruction")


def _exec_or_shell_form(line: str, argument: str) -> str:
    """CMD/ENTRYPOINT: a JSON array of strings (exec form) or a shell command line."""
    if not argument.startswith("["):
        return argument
    try:
        words = json.loads(argument)
    except ValueError as exc:
        raise ChangeLineError(
            line, f"looks like the exec form but is not a JSON array ({exc}); the engine would run it through /bin/sh"
        ) from exc
    if not isinstance(words, list) or not words or not all(isinstance(word, str) for word in words):
        raise ChangeLineError(line, "the exec form must be a non-empty JSON array of strings")
    return json.dumps(words)


def _expose(line: str, argument: str) -> str:
    specs = argument.split()
    for spec in specs:
        match = _PORT_SPEC.match(spec)
        if not match:
            raise ChangeLineError(line, f"{spec!r} is not PORT[-PORT][/tcp|udp|sctp]")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if not 1 <= first <= last <= 65535:
            raise ChangeLineError(line, f"{spec!r} is not a port (range) between 1 and 65535")
    return " ".join(spec.lower() for spec in specs)


def _split_words(line: str, argument: str) -> list[str]:
    try:
        return shlex.split(argument, posix=True)
    except ValueError as exc:
        raise ChangeLineError(line, f"cannot split into words ({exc})") from exc


def _key_value_pairs(line: str, argument: str, keyword: str, key_pattern: re.Pattern[str] | None) -> str:
    for word in _split_words(line, argument):
        key, equals, _ = word.partition("=")
        if not equals:
            raise ChangeLineError(line, f"{keyword} takes KEY=value pairs (quote values with spaces); got {word!r}")
        if not key or (key_pattern is not None and not key_pattern.match(key)):
            raise ChangeLineError(line, f"{key!r} is not a valid {keyword} name")
    return argument


def _env(line: str, argument: str) -> str:
    return _key_value_pairs(line, argument, "ENV", _ENV_KEY)


def _label(line: str, argument: str) -> str:
    return _key_value_pairs(line, argument, "LABEL", None)


def _user(line: str, argument: str) -> str:
    if not _USER_SPEC.match(argument):
        raise ChangeLineError(line, "USER takes one USER[:GROUP] (name or id) without spaces")
    return argument


def _workdir(line: str, argument: str) -> str:
    if not argument.startswith("/"):
        raise ChangeLineError(line, "WORKDIR must be an absolute path (a relative one depends on the container's)")
    return argument


def _healthcheck(line: str, argument: str) -> str:
    if argument.upper() == "NONE":
        return "NONE"
    flags: list[str] = []
    rest = argument
    while rest.startswith("--"):
        match = _HEALTHCHECK_FLAG.match(rest)
        if not match:
            raise ChangeLineError(line, f"malformed HEALTHCHECK option near {rest.split()[0]!r}; use --name=value")
        flags.append(_healthcheck_flag(line, match.group(1), match.group(2)))
        rest = rest[match.end() :]
    command = _HEALTHCHECK_CMD.match(rest)
    if not command or not (command.group(1) or "").strip():
        raise ChangeLineError(line, "HEALTHCHECK takes NONE or [OPTIONS] CMD <command>")
    return " ".join([*flags, "CMD", _exec_or_shell_form(line, command.group(1).strip())])


def _healthcheck_flag(line: str, name: str, value: str) -> str:
    if name in _HEALTHCHECK_DURATION_FLAGS:
        if not _GO_DURATION.match(value):
            raise ChangeLineError(line, f"--{name}={value} is not a duration such as 30s, 1m30s or 500ms")
    elif name == "retries":
        if not value.isdigit():
            raise ChangeLineError(line, f"--retries={value} is not a whole number")
    else:
        raise ChangeLineError(
            line,
            f"unknown HEALTHCHECK option --{name}; Docker Engine 20.10 knows --interval, --timeout, "
            "--start-period and --retries",
        )
    return f"--{name}={value}"


_ARGUMENT_CHECKS = {
    "CMD": _exec_or_shell_form,
    "ENTRYPOINT": _exec_or_shell_form,
    "EXPOSE": _expose,
    "ENV": _env,
    "LABEL": _label,
    "USER": _user,
    "WORKDIR": _workdir,
    "HEALTHCHECK": _healthcheck,
}
