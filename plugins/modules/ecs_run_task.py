#!/usr/bin/python
# Copyright (c) ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ecs_run_task
short_description: Run a one-off ECS task with a command override and wait for its exit code
version_added: 0.1.0
description:
  - Starts one task of a task definition (C(RunTask), Fargate, in the service's subnets and security groups) with
    the command of one container replaced, waits until the task is C(STOPPED), and succeeds only when that container
    exited with one of I(expected_exit_codes). A task that does not start (the image or a secret cannot be fetched),
    is killed for its memory, or exits otherwise fails the module with ECS's stop code, stopped reason and the exit
    code, in one line.
  - This is how ecspress runs admin commands (completing the WordPress install, for example) with the deployed
    image and settings, inside the VPC, without going through the public URL.
  - Why a module of ours, M(community.aws.ecs_task) with C(operation=run) and C(wait=true) waits only until the task
    is C(RUNNING) (a short command may already be C(STOPPED), which that waiter counts as a failure) and never reads
    the exit code; nothing in C(amazon.aws) or C(community.aws) waits for a task's exit code.
  - Every run starts a task, so the module always reports C(changed) (in check mode without starting one); callers
    that need idempotence decide with I(changed_when) from I(exit_code).
author:
  - ecspress maintainers (@ecspress)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ecspress.wordpress.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details:
      - Reports that a task would run, without starting it.
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  task_definition:
    description: The task definition to run, as an ARN or C(family:revision) (the deployed one, for the deployed image).
    type: str
    required: true
  container:
    description: Name of the container whose command is replaced and whose exit code decides.
    type: str
    required: true
  command:
    description: The command the container runs instead of its own (exec form, one word per item).
    type: list
    elements: str
    required: true
  environment:
    description:
      - Extra environment variables of the container, for this task only. They are visible in C(DescribeTasks) and
        CloudTrail, so never a secret (secrets come from the task definition's C(secrets)).
    type: dict
    default: {}
  subnets:
    description: Subnets of the task's network interface (awsvpc).
    type: list
    elements: str
    required: true
  security_groups:
    description: Security groups of the task's network interface.
    type: list
    elements: str
    default: []
  assign_public_ip:
    description: Whether the task gets a public IP (needed in public subnets without a NAT gateway to pull images).
    type: bool
    default: false
  launch_type:
    description: Launch type of the task.
    type: str
    choices: [FARGATE, EC2]
    default: FARGATE
  started_by:
    description: C(startedBy) of the task (up to 36 characters), to find it in the console or C(ListTasks).
    type: str
    default: ecspress
  expected_exit_codes:
    description: Exit codes of I(container) that count as success.
    type: list
    elements: int
    default: [0]
  timeout:
    description: Seconds to wait for the task to stop; then the task is stopped (C(StopTask)) and the module fails.
    type: int
    default: 900
  poll_interval:
    description: Seconds between two C(DescribeTasks) calls.
    type: int
    default: 5
notes:
  - U(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html)
  - U(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html)
  - Needs C(ecs:RunTask), C(ecs:DescribeTasks), C(ecs:StopTask) and C(iam:PassRole) on the task's roles.
"""

EXAMPLES = r"""
- name: Complete the WordPress install with the deployed image
  ecspress.wordpress.ecs_run_task:
    cluster: wordpress-prod
    task_definition: "{{ ecspress_deployment.task_definition_arn }}"
    container: wordpress
    command: [ecspress-wp-install]
    subnets: "{{ ecspress_network.private_subnet_ids }}"
    security_groups: ["{{ ecspress_network.task_security_group_id }}"]
    expected_exit_codes: [0, 3]
  register: install
  changed_when: install.exit_code == 0
"""

RETURN = r"""
task_arn:
  description: ARN of the task that ran (empty in check mode).
  returned: always
  type: str
  sample: arn:aws:ecs:eu-west-1:123456789012:task/wordpress-prod/0123456789abcdef0123456789abcdef
exit_code:
  description: Exit code of I(container); null in check mode, or when the task stopped before the container ran.
  returned: always
  type: int
  sample: 0
stop_code:
  description: ECS's stop code of the task (C(EssentialContainerExited) when the command ended).
  returned: always
  type: str
  sample: EssentialContainerExited
stopped_reason:
  description: ECS's stopped reason of the task.
  returned: always
  type: str
  sample: Essential container in task exited
log_group:
  description: CloudWatch Logs group of I(container)'s output (awslogs driver); empty without one, or in check mode.
  returned: always
  type: str
  sample: /ecs/wordpress-prod
log_stream:
  description: The task's stream of I(container) in I(log_group) (C(<prefix>/<container>/<task id>)).
  returned: always
  type: str
  sample: wordpress/wordpress/0123456789abcdef0123456789abcdef
"""

import time
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._one_off import awslogs_stream, outcome
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator

# What every answer holds, before anything ran (check mode, a task ECS did not start).
EMPTY: dict[str, Any] = {
    "task_arn": "",
    "exit_code": None,
    "stop_code": "",
    "stopped_reason": "",
    "log_group": "",
    "log_stream": "",
}


def run_request(params: dict[str, Any]) -> dict[str, Any]:
    """RunTask's arguments: one task, the container's command (and extra environment) overridden."""
    override: dict[str, Any] = {"name": params["container"], "command": list(params["command"])}
    if params["environment"]:
        override["environment"] = [{"name": str(k), "value": str(v)} for k, v in sorted(params["environment"].items())]
    vpc = {
        "subnets": list(params["subnets"]),
        "securityGroups": list(params["security_groups"]),
        "assignPublicIp": "ENABLED" if params["assign_public_ip"] else "DISABLED",
    }
    return {
        "cluster": params["cluster"],
        "taskDefinition": params["task_definition"],
        "count": 1,
        "launchType": params["launch_type"],
        "startedBy": params["started_by"][:36],
        "networkConfiguration": {"awsvpcConfiguration": vpc},
        "overrides": {"containerOverrides": [override]},
    }


def start_task(module: AnsibleAWSModule, ecs: Any) -> str:
    answer = ecs.run_task(aws_retry=True, **run_request(module.params))
    if answer.get("failures") or not answer.get("tasks"):
        failure = (answer.get("failures") or [{}])[0]
        module.fail_json(
            msg=f"ECS did not start the task: {failure.get('reason', 'no task and no failure in the answer')}"
            f"{' (' + failure['detail'] + ')' if failure.get('detail') else ''}",
            **EMPTY,
        )
    return str(answer["tasks"][0]["taskArn"])


def wait_stopped(module: AnsibleAWSModule, ecs: Any, task_arn: str) -> dict[str, Any]:
    """The task once STOPPED; on timeout it is stopped and the module fails."""
    cluster, deadline = module.params["cluster"], time.monotonic() + module.params["timeout"]
    while True:
        tasks = ecs.describe_tasks(cluster=cluster, tasks=[task_arn], aws_retry=True).get("tasks") or []
        if tasks and tasks[0].get("lastStatus") == "STOPPED":
            return dict(tasks[0])
        if time.monotonic() >= deadline:
            ecs.stop_task(cluster=cluster, task=task_arn, reason="ecspress: timeout", aws_retry=True)
            status = tasks[0].get("lastStatus") if tasks else "not described"
            module.fail_json(
                msg=f"the task did not stop within {module.params['timeout']} s (last status {status}); it was stopped",
                **{**EMPTY, "task_arn": task_arn},
            )
        time.sleep(module.params["poll_interval"])


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "cluster": {"type": "str", "required": True},
            "task_definition": {"type": "str", "required": True},
            "container": {"type": "str", "required": True},
            "command": {"type": "list", "elements": "str", "required": True},
            "environment": {"type": "dict", "default": {}},
            "subnets": {"type": "list", "elements": "str", "required": True},
            "security_groups": {"type": "list", "elements": "str", "default": []},
            "assign_public_ip": {"type": "bool", "default": False},
            "launch_type": {"type": "str", "choices": ["FARGATE", "EC2"], "default": "FARGATE"},
            "started_by": {"type": "str", "default": "ecspress"},
            "expected_exit_codes": {"type": "list", "elements": "int", "default": [0]},
            "timeout": {"type": "int", "default": 900},
            "poll_interval": {"type": "int", "default": 5},
        },
        supports_check_mode=True,
    )
    if module.check_mode:
        module.exit_json(changed=True, **EMPTY)
    ecs = module.client("ecs", retry_decorator=retry_decorator())
    try:
        task_arn = start_task(module, ecs)
        task = wait_stopped(module, ecs, task_arn)
        definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"], aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"ECS refused to run or describe a task of {module.params['task_definition']}")
    ended = outcome(task, module.params["container"], tuple(module.params["expected_exit_codes"]))
    group, stream = awslogs_stream(definition["taskDefinition"], module.params["container"], task_arn)
    result = {
        "log_group": group,
        "log_stream": stream,
        "task_arn": task_arn,
        "exit_code": ended.exit_code,
        "stop_code": str(task.get("stopCode") or ""),
        "stopped_reason": str(task.get("stoppedReason") or ""),
    }
    if ended.state != "succeeded":
        module.fail_json(msg=f"the one-off task {task_arn.rsplit('/', 1)[-1]} failed: {ended.reason}", **result)
    module.exit_json(changed=True, **result)


if __name__ == "__main__":
    main()
