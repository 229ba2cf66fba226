"""Builds the CDKTF app: one stack per environment file (config/*.toml, or $PLATFORM_CONFIG), and
the account bootstrap stacks (config/account.toml, config/account-<name>.toml) when the
environments come from config/.

Config is loaded and validated before CDKTF is even imported, so a mistake is reported in a
fraction of a second, as one line per problem, and nothing under cdktf.out/ is written.

What keeps a synth of every stack fast (`make bench` measures it, README "Synth speed"):
- Only the AWS bindings it uses are imported, see lib/core/aws.py.
- It runs under `python -O`, re-executing itself if started without it. The bindings check every
  argument with typeguard in `if __debug__:` blocks, a third of the synth's time; the jsii kernel
  still validates every value it receives, and the test suite synthesizes every stack with the
  checks on. PLATFORM_TYPE_CHECKS=1 keeps them on here too, for a clearer error while writing a
  new construct.
- The stacks are split over worker processes, one per CPU ($PLATFORM_SYNTH_WORKERS), which live
  without garbage collection and skip the interpreter's teardown, see stacks/app.py.
"""

import os
import sys

# Before any other import, so nothing is loaded twice (and so $PLATFORM_TYPE_CHECKS is read here,
# not in lib/config/); sys.orig_argv keeps the caller's own interpreter flags.
if (__name__ == "__main__" and not sys.flags.optimize
        and os.environ.get("PLATFORM_TYPE_CHECKS") != "1"):
    os.execv(sys.executable, [sys.orig_argv[0], "-O", *sys.orig_argv[1:]])

from lib.config import (ENV_CONFIG_FILES, ConfigError, Target, check_accounts,  # noqa: E402
                        load_accounts, load_environments, load_local_endpoint, load_outdir,
                        load_synth_workers, load_target)
from stacks.app import synthesize_in_workers  # noqa: E402


def main() -> int:
    try:
        environments = load_environments()
        target = load_target()
        accounts = [] if os.environ.get(ENV_CONFIG_FILES) else load_accounts()
        if accounts:
            check_accounts(environments, accounts)
        workers = load_synth_workers()
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2

    stacks = accounts + environments
    endpoint = load_local_endpoint() if target is Target.LOCAL else None
    return synthesize_in_workers(load_outdir(), stacks, environments, target, endpoint, workers)


if __name__ == "__main__":
    sys.exit(main())
