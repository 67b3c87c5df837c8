from __future__ import annotations

import pytest
from ansible_collections.ecspress.wordpress.plugins.module_utils._commit_changes import (
    ALLOWED_INSTRUCTIONS,
    ChangeLineError,
    normalize_change_line,
    normalize_change_lines,
)


@pytest.mark.parametrize(
    ("line", "normalized"),
    [
        ('CMD ["apache2ctl", "-D", "FOREGROUND"]', 'CMD ["apache2ctl", "-D", "FOREGROUND"]'),
        ('cmd   ["sleep","infinity"]  ', 'CMD ["sleep", "infinity"]'),
        ("CMD apache2ctl -D FOREGROUND", "CMD apache2ctl -D FOREGROUND"),
        ('ENTRYPOINT ["/usr/local/bin/entrypoint"]', 'ENTRYPOINT ["/usr/local/bin/entrypoint"]'),
        ("EXPOSE 80", "EXPOSE 80"),
        ("expose 80/TCP 443/udp 8000-8010", "EXPOSE 80/tcp 443/udp 8000-8010"),
        ("ENV APACHE_LOG_DIR=/var/log/apache2", "ENV APACHE_LOG_DIR=/var/log/apache2"),
        ('ENV A=1 B="two words" _C=', 'ENV A=1 B="two words" _C='),
        (
            'LABEL org.opencontainers.image.source="https://x.test/r"',
            'LABEL org.opencontainers.image.source="https://x.test/r"',
        ),
        ("LABEL a=1 b-c=2", "LABEL a=1 b-c=2"),
        ("USER www-data", "USER www-data"),
        ("USER 33:33", "USER 33:33"),
        ("WORKDIR /var/www/html", "WORKDIR /var/www/html"),
        ("HEALTHCHECK NONE", "HEALTHCHECK NONE"),
        ("healthcheck none", "HEALTHCHECK NONE"),
        ("HEALTHCHECK CMD curl -fsS http://127.0.0.1/", "HEALTHCHECK CMD curl -fsS http://127.0.0.1/"),
        (
            'HEALTHCHECK --interval=30s --timeout=5s --start-period=1m30s --retries=3 cmd ["curl","-f","http://x/"]',
            'HEALTHCHECK --interval=30s --timeout=5s --start-period=1m30s --retries=3 CMD ["curl", "-f", "http://x/"]',
        ),
        ("HEALTHCHECK --interval=500ms CMD true", "HEALTHCHECK --interval=500ms CMD true"),
        ('CMD\t["true"]', 'CMD ["true"]'),
    ],
)
def test_valid_lines_are_normalized(line: str, normalized: str) -> None:
    assert normalize_change_line(line) == normalized


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("VOLUME /data", "VOLUME is refused"),
        ("volume /var/www/html", "VOLUME is refused"),
        ("STOPSIGNAL SIGTERM", "Docker Engine 20.10 rejects STOPSIGNAL"),
        ("ONBUILD RUN make", "ONBUILD is refused"),
        ("RUN apt-get update", "a commit cannot run commands"),
        ("COPY a /a", "cannot copy files"),
        ("ADD a /a", "cannot copy files"),
        ("FROM debian", "only has a meaning in a Dockerfile build"),
        ("ARG X=1", "only has a meaning in a Dockerfile build"),
        ('SHELL ["/bin/bash", "-c"]', "only has a meaning in a Dockerfile build"),
        ("MAINTAINER me", "use the author option"),
        ("FROBNICATE 1", "unknown instruction 'FROBNICATE'"),
        ("", "the line is empty"),
        ("   ", "the line is empty"),
        ("# CMD true", "a comment is not an instruction"),
        ("CMD true\nRUN rm -rf /", "line break"),
        ("ENV A=1 \\", "trailing backslash"),
        ("CMD", "CMD needs an argument"),
        ("EXPOSE", "EXPOSE needs an argument"),
        ('CMD ["sleep", "infinity"', "not a JSON array"),
        ("ENTRYPOINT [sleep]", "not a JSON array"),
        ("CMD []", "non-empty JSON array of strings"),
        ('CMD ["sleep", 1]', "non-empty JSON array of strings"),
        ("EXPOSE http", "'http' is not PORT"),
        ("EXPOSE 80/icmp", "'80/icmp' is not PORT"),
        ("EXPOSE 0", "between 1 and 65535"),
        ("EXPOSE 70000", "between 1 and 65535"),
        ("EXPOSE 90-80", "between 1 and 65535"),
        ("ENV A 1", "ENV takes KEY=value pairs"),
        ("ENV 1A=x", "'1A' is not a valid ENV name"),
        ("ENV A-B=x", "'A-B' is not a valid ENV name"),
        ('ENV A="unclosed', "cannot split into words"),
        ("LABEL version", "LABEL takes KEY=value pairs"),
        ("LABEL =x", "'' is not a valid LABEL name"),
        ("USER www data", "USER takes one USER[:GROUP]"),
        ("USER a:b:c", "USER takes one USER[:GROUP]"),
        ("WORKDIR html", "WORKDIR must be an absolute path"),
        ("HEALTHCHECK", "HEALTHCHECK needs an argument"),
        ("HEALTHCHECK --interval=30s", "HEALTHCHECK takes NONE or [OPTIONS] CMD <command>"),
        ("HEALTHCHECK curl -f http://x/", "HEALTHCHECK takes NONE or [OPTIONS] CMD <command>"),
        ("HEALTHCHECK CMD", "HEALTHCHECK takes NONE or [OPTIONS] CMD <command>"),
        ("HEALTHCHECK --interval=30 CMD true", "--interval=30 is not a duration"),
        ("HEALTHCHECK --timeout=5 seconds CMD true", "--timeout=5 is not a duration"),
        ("HEALTHCHECK --retries=three CMD true", "--retries=three is not a whole number"),
        ("HEALTHCHECK --start-interval=5s CMD true", "unknown HEALTHCHECK option --start-interval"),
        ("HEALTHCHECK --interval 30s CMD true", "malformed HEALTHCHECK option near '--interval'"),
        ('HEALTHCHECK CMD ["curl"', "not a JSON array"),
    ],
)
def test_invalid_lines_are_refused_with_the_line_and_reason(line: str, reason: str) -> None:
    with pytest.raises(ChangeLineError) as error:
        normalize_change_line(line)
    message = str(error.value)
    assert reason in message
    assert message.startswith("invalid change line ")
    assert error.value.line == line


def test_error_message_quotes_the_line_verbatim() -> None:
    with pytest.raises(ChangeLineError, match=r'^invalid change line "VOLUME /data": VOLUME is refused: '):
        normalize_change_line("VOLUME /data")


def test_non_string_line_is_refused() -> None:
    with pytest.raises(ChangeLineError, match="expected a string, got int"):
        normalize_change_line(80)  # type: ignore[arg-type]


def test_lines_keep_their_order_and_empty_input_gives_no_lines() -> None:
    assert normalize_change_lines(["expose 80", "CMD true", "ENV A=1"]) == ["EXPOSE 80", "CMD true", "ENV A=1"]
    assert normalize_change_lines([]) == []
    assert normalize_change_lines(None) == []


def test_the_first_bad_line_is_named_even_after_good_ones() -> None:
    with pytest.raises(ChangeLineError, match='"RUN true"'):
        normalize_change_lines(["EXPOSE 80", "RUN true", "VOLUME /x"])


def test_every_allowed_instruction_has_a_check() -> None:
    samples = {
        "CMD": "true",
        "ENTRYPOINT": "true",
        "EXPOSE": "80",
        "ENV": "A=1",
        "LABEL": "a=1",
        "USER": "root",
        "WORKDIR": "/",
        "HEALTHCHECK": "NONE",
    }
    assert set(samples) == set(ALLOWED_INSTRUCTIONS)
    for keyword, argument in samples.items():
        assert normalize_change_line(f"{keyword.lower()} {argument}") == f"{keyword} {argument}"


# --- exact messages and edges (mutation testing: make mutation) -----------------------------------------------------

HEALTHCHECK_OPTIONS = "Docker Engine 20.10 knows --interval, --timeout, --start-period and --retries"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (5, "invalid change line 5: expected a string, got int"),
        (None, "invalid change line None: expected a string, got NoneType"),
        (
            "WORKDIR café",
            'invalid change line "WORKDIR café": WORKDIR must be an absolute path (a relative one depends on the '
            "container's)",
        ),
        (
            "FOO x",
            "invalid change line \"FOO x\": unknown instruction 'FOO'; "
            "allowed are CMD, ENTRYPOINT, EXPOSE, ENV, LABEL, USER, WORKDIR, HEALTHCHECK",
        ),
        ("  ", 'invalid change line "  ": the line is empty'),
        ("CMD a\rb", 'invalid change line "CMD a\\rb": one instruction per list item; the line contains a line break'),
        ("# hi", 'invalid change line "# hi": a comment is not an instruction'),
        (
            "CMD a \\",
            'invalid change line "CMD a \\\\": a trailing backslash would join this line with the next instruction',
        ),
        ("CMD []", 'invalid change line "CMD []": the exec form must be a non-empty JSON array of strings'),
        ("USER a b", 'invalid change line "USER a b": USER takes one USER[:GROUP] (name or id) without spaces'),
        (
            "HEALTHCHECK --interval=3s",
            'invalid change line "HEALTHCHECK --interval=3s": HEALTHCHECK takes NONE or [OPTIONS] CMD <command>',
        ),
        (
            "HEALTHCHECK --bogus=1 CMD x",
            'invalid change line "HEALTHCHECK --bogus=1 CMD x": unknown HEALTHCHECK option --bogus; '
            + HEALTHCHECK_OPTIONS,
        ),
        ("EXPOSE 0", "invalid change line \"EXPOSE 0\": '0' is not a port (range) between 1 and 65535"),
        ("EXPOSE 65536", "invalid change line \"EXPOSE 65536\": '65536' is not a port (range) between 1 and 65535"),
    ],
)
def test_refusals_say_exactly_why(line: object, message: str) -> None:
    with pytest.raises(ChangeLineError) as error:
        normalize_change_line(line)  # type: ignore[arg-type]
    assert str(error.value) == message
    assert error.value.line == line and message.endswith(": " + error.value.reason)


@pytest.mark.parametrize(
    ("line", "normalized"),
    [
        ("EXPOSE 1", "EXPOSE 1"),
        ("EXPOSE 65535", "EXPOSE 65535"),
        ("EXPOSE 1-65535/udp", "EXPOSE 1-65535/udp"),
        ("ENV A=b=c", "ENV A=b=c"),
        ("LABEL a==", "LABEL a=="),
    ],
)
def test_edges_that_are_accepted(line: str, normalized: str) -> None:
    assert normalize_change_line(line) == normalized
