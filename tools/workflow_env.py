"""What `.github/workflows/images.yml` needs to know about an environment, from its config:
`python tools/workflow_env.py ENVIRONMENT SERVICE` prints `project=`, `region=` and `platform=`
(the Docker platform of `compute.architecture`) as lines for $GITHUB_OUTPUT, or one line on
stderr and exit 2 when the file has a mistake or SERVICE is not a service built into this
project's repository there.

It needs pydantic alone (the config loader), not the CDKTF bindings, so the workflow's job stays
light; and it reads the file through the loader, so a default comes from where it is documented.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.config import CONFIG_DIR, ConfigError, load_environments  # noqa: E402

# compute.architecture -> the OCI platform Docker builds for (linux/arm64 runs on Graviton).
PLATFORMS = {"arm64": "linux/arm64", "x86_64": "linux/amd64"}


def workflow_values(config, service: str) -> dict[str, str]:
    """Raises ValueError naming the problem when `service` has no repository here."""
    built = [s.name for s in config.services if s.builds_image]
    if service not in built:
        raise ValueError(f"{config.source}: no service '{service}' built into this project's "
                         f"repository (image = \"ecr\"); built here: {', '.join(built) or 'none'}")
    return {"project": config.project, "region": config.region,
            "platform": PLATFORMS[config.compute.architecture]}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: tools/workflow_env.py ENVIRONMENT SERVICE", file=sys.stderr)
        return 2
    try:
        [config] = load_environments([CONFIG_DIR / f"{argv[0]}.toml"])
        values = workflow_values(config, argv[1])
    except (ConfigError, ValueError) as err:
        print(err, file=sys.stderr)
        return 2
    print("\n".join(f"{key}={value}" for key, value in values.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
