"""Where the synthesized stacks will run: a core type, so the provider and the targets' adjustments
need no config (the config loader reads it from $PLATFORM_TARGET)."""

from enum import Enum


class Target(str, Enum):
    """Where the synthesized stacks will run.

    aws:     real AWS with the caller's credentials (the default).
    offline: `terraform plan` with placeholder credentials and no network: the provider skips
             every account, region and credential lookup, and state is a local file whatever
             [backend] says. For CI and machines without AWS access.
    local:   a local AWS emulator (moto) at $PLATFORM_LOCAL_ENDPOINT: every service endpoint
             points there, state is a local file, and lib/targets/local.py adjusts what the
             emulator does not implement.
    """

    AWS = "aws"
    OFFLINE = "offline"
    LOCAL = "local"
