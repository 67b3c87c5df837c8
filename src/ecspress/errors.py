"""How an ``ecspress`` command ends: its exit codes, and the error that stands for bad usage.

Exit codes: 0 ok, 1 the run failed, 2 bad usage or a missing prerequisite.
"""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_CHANGES = 2  # --check: something would change (as `terraform plan -detailed-exitcode`)


class UsageError(Exception):
    """Bad usage or a missing prerequisite: one line for the user, exit code 2."""
