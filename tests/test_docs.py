"""The documentation stays inside the repository and true to it: no tracked file points at a place
a user's clone does not have, every relative link in the Markdown resolves, and the first-deploy
runbook (docs/first-deploy.md) names only make targets, scripts, stack outputs and environment
variables that exist."""

import json
import re
import subprocess
from pathlib import Path

from conftest import ROOT

RUNBOOK = ROOT / "docs" / "first-deploy.md"
# The sibling folder the project was written beside; a clone does not have it. Built in two parts
# so that this file does not match itself.
OUTSIDE = "../" + "shared"
PARENT = "ROOT." + "parent"
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# Set by ECS in every task, not by the task definition (Amazon ECS Developer Guide, "Amazon ECS
# environment variables"): https://docs.aws.amazon.com/AmazonECS/latest/developerguide/
# ecs-environment-variables.html
ECS_PLATFORM_VARIABLES = {"AWS_REGION", "AWS_DEFAULT_REGION"}


def tracked_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    return [ROOT / name for name in names if name and (ROOT / name).is_file()]


def markdown_files() -> list[Path]:
    """Tracked Markdown, and the docs even before they are committed."""
    found = {p for p in tracked_files() if p.suffix == ".md"}
    return sorted(found | set((ROOT / "docs").glob("*.md")) | {ROOT / "README.md"})


def relative_links(path: Path) -> list[str]:
    """Link targets outside code blocks that are neither URLs nor anchors, without fragments."""
    prose = FENCE.sub("", path.read_text())
    targets = (m.group(1).split("#")[0] for m in LINK.finditer(prose))
    return [t for t in targets if t and not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def code(text: str) -> str:
    """What a reader would type: fenced blocks and inline code spans."""
    return "\n".join(FENCE.findall(text) + re.findall(r"`([^`\n]+)`", FENCE.sub("", text)))


def test_no_tracked_file_points_outside_the_repository():
    hits = []
    for path in tracked_files():
        text = path.read_text(errors="ignore")
        if OUTSIDE in text:
            hits.append(f"{path.relative_to(ROOT)}: names {OUTSIDE}")
        if path.suffix == ".py" and PARENT in text:  # code reading beside the checkout
            hits.append(f"{path.relative_to(ROOT)}: reads {PARENT}")
        if path.suffix == ".md":
            for target in relative_links(path):
                resolved = (path.parent / target).resolve()
                if not resolved.is_relative_to(ROOT):
                    hits.append(f"{path.relative_to(ROOT)}: links outside the repository: {target}")
    assert hits == []


def test_every_relative_markdown_link_resolves():
    links = {path: relative_links(path) for path in markdown_files()}
    broken = [f"{path.relative_to(ROOT)}: {target}" for path, targets in links.items()
              for target in targets if not (path.parent / target).exists()]
    assert broken == []
    # The README links the design notes and the runbook: the check above saw them.
    assert {"docs/design.md", "docs/first-deploy.md"} <= set(links[ROOT / "README.md"])


def test_the_outside_and_link_checks_see_a_violation(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(f"[up]({OUTSIDE}/DESIGN.md) [gone](missing.md) [web](https://aws.amazon.com)"
                    "\n```\n[in code](not-a-link.md)\n```\n")
    assert relative_links(page) == [f"{OUTSIDE}/DESIGN.md", "missing.md"]


def test_the_runbook_names_only_make_targets_that_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.M))
    named = set(re.findall(r"\bmake ([a-z][a-z0-9-]*)", code(RUNBOOK.read_text())))
    assert {"adopt", "synth", "test", "cost"} <= named
    assert named - targets == set()


def test_the_runbook_names_only_files_that_exist():
    paths = set(re.findall(r"(?<![\w/.-])((?:bin|tools|sql|\.github/workflows)/[\w.-]*\w)",
                           RUNBOOK.read_text()))
    assert {"bin/cdktf", "sql/app-role.sql", ".github/workflows/images.yml"} <= paths
    assert sorted(p for p in paths if not (ROOT / p).exists()) == []


def test_the_runbook_names_only_outputs_the_stacks_have(dev, bootstrap):
    """`out <stack> <name>` and `output -json <name>` read the stack they name (dev's from the
    dev stack); "output `name`" in the prose is an output of dev or of the bootstrap stack."""
    text = RUNBOOK.read_text()
    have = {"dev-stack": set(dev.json["output"]), "bootstrap-stack": set(bootstrap.json["output"])}
    read = re.findall(r"\bout (dev-stack|bootstrap-stack) (\w+)", text)
    read += [("dev-stack", name) for name in re.findall(r"output -(?:json|raw) (\w+)", text)]
    prose = re.findall(r"\boutputs? `(\w+)`", FENCE.sub("", text))
    assert len(read) >= 5 and len(prose) >= 5, (read, prose)
    assert [(stack, name) for stack, name in read if name not in have[stack]] == []
    assert [name for name in prose if name not in have["dev-stack"] | have["bootstrap-stack"]] \
        == []


def test_the_runbook_reads_only_variables_a_task_definition_sets(dev, prod, fixture_stacks):
    """The snippets' environment variables, and the `NAME=value` pairs the prose promises, are
    what the services' task definitions set (AWS_REGION aside: ECS sets it)."""
    environment: dict[str, set[str]] = {}
    for stack in (dev, prod, fixture_stacks["full-stack"], fixture_stacks["extcache-stack"]):
        for task in stack.resources("aws_ecs_task_definition").values():
            for container in json.loads(task["container_definitions"]):
                for pair in container.get("environment", []):  # a sidecar may have none
                    environment.setdefault(pair["name"], set()).add(pair["value"])
                for secret in container.get("secrets", []):  # injected: no value here
                    environment.setdefault(secret["name"], set())
    # A Redis outside AWS: functions are told where its URL is.
    for function in fixture_stacks["extcache-stack"].resources("aws_lambda_function").values():
        for name, value in function["environment"]["variables"].items():
            environment.setdefault(name, set()).add(value)
    text = RUNBOOK.read_text()
    read = set(re.findall(r'os\.environ\["(\w+)"\]|process\.env\.(\w+)', text))
    read = {a or b for a, b in read}
    assert {"DATABASE_HOST", "REDIS_USER"} <= read
    assert sorted(read - set(environment) - ECS_PLATFORM_VARIABLES) == []
    promised = re.findall(r"`((?:DATABASE|REDIS)_[A-Z_]+)(?:=([\w-]+))?`", text)
    assert len(promised) >= 10, promised
    assert [name for name, _ in promised if name not in environment] == []
    assert [f"{name}={value}" for name, value in promised
            if value and value not in environment[name]] == []
