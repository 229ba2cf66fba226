"""What the workflows need to know about an environment, from its config:
`python tools/workflow_env.py ENVIRONMENT` prints `project=` and `region=`, and with SERVICE
(`.github/workflows/images.yml`) also `platform=` (the Docker platform of
`compute.architecture`), `runtime=` (`compute.platform`: what the image is deployed to),
`image_tag=` (the service's tag Terraform creates a function or App Runner service from), under
Lambda `function=` (the service's function), `task=` (`true` when SERVICE is itself a one-off
task: no service to roll), `tasks=` (the one-off tasks that run SERVICE's image, itself included:
each gets the new image) and `before_deploy=` (those of them with `run_before_deploy`), as lines
for $GITHUB_OUTPUT; or one line on stderr and exit 2 when the file has a mistake or SERVICE is not
a service built into this project's repository there.

It needs pydantic alone (the config loader), not the CDKTF bindings, so the workflow's job stays
light; and it reads the file through the loader, so a default comes from where it is documented.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.config import ConfigError, load_environment_named  # noqa: E402

# compute.architecture -> the OCI platform Docker builds for (linux/arm64 runs on Graviton).
PLATFORMS = {"arm64": "linux/arm64", "x86_64": "linux/amd64"}


def workflow_values(config, service: str | None) -> dict[str, str]:
    """Raises ValueError naming the problem when `service` has no repository here."""
    if service is None:
        return {"project": config.project, "region": config.region}
    built = {s.name: s for s in config.services if s.builds_image}
    if service not in built:
        raise ValueError(f"{config.source}: no service '{service}' built into this project's "
                         f"repository (image = \"ecr\"); built here: {', '.join(built) or 'none'}")
    runtime = config.compute.platform
    tasks = [s for s in config.services if s.kind == "task"
             and (s.image_from == service or s.name == service)]
    values = {"project": config.project, "region": config.region,
              "platform": PLATFORMS[config.compute.architecture], "runtime": runtime,
              "image_tag": built[service].image_tag,
              "task": str(service in {t.name for t in tasks}).lower(),
              "tasks": " ".join(t.name for t in tasks),
              "before_deploy": " ".join(t.name for t in tasks if t.run_before_deploy)}
    if runtime == "lambda":
        values["function"] = f"{config.project}-{config.environment}-{service}"
    return values


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: tools/workflow_env.py ENVIRONMENT [SERVICE]", file=sys.stderr)
        return 2
    try:
        config = load_environment_named(argv[0])
        values = workflow_values(config, argv[1] if len(argv) == 2 else None)
    except (ConfigError, ValueError) as err:
        print(err, file=sys.stderr)
        return 2
    print("\n".join(f"{key}={value}" for key, value in values.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
