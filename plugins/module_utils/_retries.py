# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The retry decorator every ecspress module gives its AWS clients.

Private to the ecspress.wordpress collection. ``AWSRetry`` (amazon.aws) retries throttling and
5xx answers, but not ``ThrottlingException``: the code ECS (and ECR) throttle with, for example
when many tasks of a rollout are described at once. Without it one throttled call fails a whole
deployment, so every client of ours adds it to the retried codes here, in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# Codes retried on top of AWSRetry's own (RequestLimitExceeded, Throttling, 5xx, ...).
EXTRA_RETRIED_CODES = ("ThrottlingException",)
# AWSRetry's ``retries`` counts every call: the first one and 7 retries, then the last error is raised.
ATTEMPTS = 8

RetryDecorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def retry_decorator(delay: float = 3, max_delay: float = 60) -> RetryDecorator:
    """Jittered backoff on throttling (ThrottlingException included) and 5xx, for ``module.client(retry_decorator=)``.

    ``delay`` and ``max_delay`` are in seconds; tests pass tiny values to retry without waiting.
    """
    decorator: RetryDecorator = AWSRetry.jittered_backoff(
        retries=ATTEMPTS, delay=delay, max_delay=max_delay, catch_extra_error_codes=list(EXTRA_RETRIED_CODES)
    )
    return decorator
