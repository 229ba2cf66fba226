"""Builds the CDKTF app: one stack per environment file (config/*.toml, or $PLATFORM_CONFIG), and
the account's bootstrap stack (config/account.toml) when the environments come from config/.

Config is loaded and validated before CDKTF is even imported, so a mistake is reported in a
fraction of a second, as one line per problem, and nothing under cdktf.out/ is written.
"""

import os
import sys

from lib.config import (ENV_CONFIG_FILES, ConfigError, Target, load_account, load_environments,
                        load_local_endpoint, load_target)


def main() -> int:
    try:
        configs = load_environments()
        target = load_target()
        account = None if os.environ.get(ENV_CONFIG_FILES) else load_account()
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2

    from cdktf import App

    from stacks.bootstrap import BootstrapStack
    from stacks.environment import EnvironmentStack

    endpoint = load_local_endpoint() if target is Target.LOCAL else None
    app = App()
    if account is not None:
        BootstrapStack(app, account, configs, target, endpoint)
    for config in configs:
        EnvironmentStack(app, config, target, endpoint)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
