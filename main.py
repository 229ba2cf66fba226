"""Builds the CDKTF app: one stack per environment file (config/*.toml, or $PLATFORM_CONFIG).

Config is loaded and validated before CDKTF is even imported, so a mistake is reported in a
fraction of a second, as one line per problem, and nothing under cdktf.out/ is written.
"""

import sys

from lib.config import ConfigError, load_environments, load_target


def main() -> int:
    try:
        configs = load_environments()
        target = load_target()
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2

    from cdktf import App

    from stacks.environment import EnvironmentStack

    app = App()
    for config in configs:
        EnvironmentStack(app, config, target)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
