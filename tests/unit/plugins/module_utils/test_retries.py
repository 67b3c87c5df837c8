"""The shared retry decorator: ECS's ThrottlingException is retried with backoff, then given up on.

Real botocore clients answered by Stubber, wrapped the way `module.client(retry_decorator=)` does.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.exceptions
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.ecspress.wordpress.plugins.module_utils import _retries
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import ATTEMPTS, retry_decorator
from botocore.stub import Stubber


def client(service: str) -> Any:
    return boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def count_calls(ecs: Any) -> list[str]:
    """Every ListClusters call the client makes (retries included) appends to the returned list."""
    calls: list[str] = []
    ecs.meta.events.register("before-parameter-build.ecs.ListClusters", lambda **_: calls.append("ListClusters"))
    return calls


def test_throttled_calls_are_retried_then_succeed() -> None:
    ecs = client("ecs")
    stub = Stubber(ecs)
    for _ in range(3):
        stub.add_client_error("list_clusters", "ThrottlingException", "Rate exceeded", http_status_code=400)
    stub.add_response("list_clusters", {"clusterArns": ["arn:aws:ecs:eu-west-1:123456789012:cluster/c"]})
    stub.activate()
    calls = count_calls(ecs)
    wrapped = RetryingBotoClientWrapper(ecs, retry_decorator(delay=0.001, max_delay=0.001))
    assert wrapped.list_clusters(aws_retry=True)["clusterArns"] == ["arn:aws:ecs:eu-west-1:123456789012:cluster/c"]
    assert len(calls) == 4
    stub.assert_no_pending_responses()


def test_throttling_gives_up_after_the_limit() -> None:
    ecs = client("ecs")
    stub = Stubber(ecs)
    for _ in range(ATTEMPTS):  # the first call and every retry
        stub.add_client_error("list_clusters", "ThrottlingException", "Rate exceeded", http_status_code=400)
    stub.add_response("list_clusters", {"clusterArns": []})  # never reached
    stub.activate()
    calls = count_calls(ecs)
    wrapped = RetryingBotoClientWrapper(ecs, retry_decorator(delay=0.001, max_delay=0.001))
    with pytest.raises(botocore.exceptions.ClientError, match="Rate exceeded") as raised:
        wrapped.list_clusters(aws_retry=True)
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert ATTEMPTS == 8 and len(calls) == ATTEMPTS
    with pytest.raises(AssertionError):  # the success after the limit was left unanswered
        stub.assert_no_pending_responses()


def test_other_errors_are_not_retried() -> None:
    ecs = client("ecs")
    stub = Stubber(ecs)
    stub.add_client_error("list_clusters", "AccessDeniedException", "no", http_status_code=400)
    stub.add_response("list_clusters", {"clusterArns": []})  # would be the retry
    stub.activate()
    calls = count_calls(ecs)
    wrapped = RetryingBotoClientWrapper(ecs, retry_decorator(delay=0.001, max_delay=0.001))
    with pytest.raises(botocore.exceptions.ClientError, match="AccessDeniedException"):
        wrapped.list_clusters(aws_retry=True)
    assert len(calls) == 1
    with pytest.raises(AssertionError):
        stub.assert_no_pending_responses()


def test_without_aws_retry_a_throttled_call_fails_at_once() -> None:
    ecs = client("ecs")
    stub = Stubber(ecs)
    stub.add_client_error("list_clusters", "ThrottlingException", "Rate exceeded", http_status_code=400)
    stub.activate()
    wrapped = RetryingBotoClientWrapper(ecs, retry_decorator(delay=0.001, max_delay=0.001))
    with pytest.raises(botocore.exceptions.ClientError, match="Rate exceeded"):
        wrapped.list_clusters()
    stub.assert_no_pending_responses()


def test_backoff_settings_reach_aws_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    """3 s first delay, at most 60 s between attempts by default; the caller's values are passed on as given."""
    calls: list[dict[str, Any]] = []

    class Recorder:
        @staticmethod
        def jittered_backoff(**kwargs: Any) -> str:
            calls.append(kwargs)
            return "decorator"

    monkeypatch.setattr(_retries, "AWSRetry", Recorder)
    assert retry_decorator() == "decorator"
    assert retry_decorator(delay=0.5, max_delay=2) == "decorator"
    extra = {"retries": 8, "catch_extra_error_codes": ["ThrottlingException"]}
    assert calls == [{**extra, "delay": 3, "max_delay": 60}, {**extra, "delay": 0.5, "max_delay": 2}]
