"""Refuses, with one line, to deploy an environment whose state would not outlive the job:
`bin/run python tools/check_backend.py ENV` exits 0 when config/ENV.toml keeps its state in S3 or
Terraform Cloud, 2 otherwise (or when the file has a mistake). Every workflow that applies runs it
first: a GitHub Actions runner is gone when its job ends, and with it a local state file, so the
next run would create every resource again beside the first ones.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.config import ConfigError, load_environment_named  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: tools/check_backend.py ENVIRONMENT (the name of a config/*.toml file)",
              file=sys.stderr)
        return 2
    try:
        env = load_environment_named(argv[0])
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    if env.backend.kind == "local":
        print(f"{env.source}: backend.kind: \"local\" keeps the state on the runner, which is "
              f"gone when the job ends; set [backend] kind = \"s3\" (the bootstrap stack's "
              f"state_bucket) or \"cloud\" (README, \"Deploying\")", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
