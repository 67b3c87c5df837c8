#!/usr/bin/python
# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_orderable_instance_options_info
short_description: Ask RDS which engine versions it offers a DB instance class with
version_added: 0.1.0
description:
  - Calls RDS's C(DescribeOrderableDBInstanceOptions) for one engine and one DB instance class and returns the
    orderable options, so that a class RDS does not offer for the engine (for example C(db.t2.nano) for MariaDB, or a
    misspelt C(db.t4g.mirco)) is refused before anything is created, not by C(CreateDBInstance) after the network
    exists.
  - Why a module of ours, neither M(amazon.aws.rds_instance) nor any module of C(amazon.aws) or C(community.aws)
    (10.x) reads orderable options; M(amazon.aws.rds_engine_versions_info) answers for engine versions only.
  - With O(engine_version), only the options of that version are returned; a major version such as C(11.4) matches
    each of its minor versions (C(11.4.5)), since an inventory may name the major and let RDS pick the minor.
author:
  - ecspress maintainers (@ecspress)
options:
  engine:
    description: The DB engine, as C(CreateDBInstance) takes it.
    type: str
    required: true
  db_instance_class:
    description: The DB instance class, C(db.) prefix included.
    type: str
    required: true
  engine_version:
    description:
      - Keep only the options of this engine version; a major version (C(11.4)) matches its minor versions.
      - All versions when omitted.
    type: str
attributes:
  check_mode:
    support: full
    description: Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
  idempotent:
    support: full
    description: Only reads.
notes:
  - C(changed) is always false.
  - U(https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeOrderableDBInstanceOptions.html)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The options RDS offers db.t4g.micro with for MariaDB 11.4
  ecspress.wordpress.rds_orderable_instance_options_info:
    engine: mariadb
    engine_version: "11.4"
    db_instance_class: db.t4g.micro
  register: orderable

- name: Refuse a class RDS does not offer
  ansible.builtin.assert:
    that: orderable.orderable_db_instance_options | length > 0
    fail_msg: RDS offers no db.t4g.micro for MariaDB 11.4 (database_instance_class)
"""

RETURN = r"""
orderable_db_instance_options:
  description: The orderable options of the class for the engine (and version), as RDS describes them, snake_cased.
  returned: always
  type: list
  elements: dict
  sample: [{"engine": "mariadb", "engine_version": "11.4.5", "db_instance_class": "db.t4g.micro",
            "storage_type": "gp3", "multi_az_capable": true}]
engine_versions:
  description: The engine versions of those options, sorted, each once.
  returned: always
  type: list
  elements: str
  sample: ["11.4.4", "11.4.5"]
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator


def of_version(options: list[dict[str, Any]], version: str | None) -> list[dict[str, Any]]:
    """The options of `version` (a major matches its minors: 11.4 keeps 11.4.5, not 11.40.1); all when None."""
    if not version:
        return options
    return [
        option
        for option in options
        if option.get("EngineVersion") == version or str(option.get("EngineVersion", "")).startswith(version + ".")
    ]


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "engine": {"type": "str", "required": True},
            "db_instance_class": {"type": "str", "required": True},
            "engine_version": {"type": "str"},
        },
        supports_check_mode=True,
    )
    rds = module.client("rds")
    params = module.params

    @retry_decorator()
    def orderable_options() -> list[dict[str, Any]]:
        paginator = rds.get_paginator("describe_orderable_db_instance_options")
        pages = paginator.paginate(Engine=params["engine"], DBInstanceClass=params["db_instance_class"])
        return list(pages.build_full_result().get("OrderableDBInstanceOptions") or [])

    try:
        options = orderable_options()
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        asked = f"{params['engine']} {params['db_instance_class']}"
        module.fail_json_aws(error, msg=f"RDS refused DescribeOrderableDBInstanceOptions for {asked}")
    wanted = of_version(options, params["engine_version"])
    module.exit_json(
        changed=False,
        orderable_db_instance_options=[camel_dict_to_snake_dict(option) for option in wanted],
        engine_versions=sorted({str(option.get("EngineVersion")) for option in wanted}),
    )


if __name__ == "__main__":
    main()
