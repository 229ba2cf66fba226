"""Shared fixtures: every stack is synthesized once per test session, in-process, into a temp dir.

Unit tests read the JSON through `SynthStack`; they never synthesize again.
"""

import json
import os
import shutil
import subprocess
import tempfile
from fnmatch import fnmatch
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The product's tests run on this copy of the shipped config/, never on config/ itself, which is
# the team's to change (tests/test_config_dir.py checks whatever config/ holds, by its path).
# Set before lib.config is imported, and inherited by every command a test runs: whatever reads
# "config/" by default (load_account(), tools/*.py, main.py) reads the sample.
SAMPLE = ROOT / "tests" / "fixtures" / "sample"
CONFIG = ROOT / "config"
os.environ["PLATFORM_CONFIG_DIR"] = str(SAMPLE)

# Before any cdktf import: arms the fast AWS import (lib/__init__.py).
from stacks.app import synthesize as synthesize_stacks  # noqa: E402
from lib.config import config_files  # noqa: E402

ENVIRONMENTS = ("dev", "staging", "prod")
# The presets, one stack each: examples/*.toml but the base files they extend (*.base.toml).
PRESET_FILES = config_files(ROOT / "examples")[0]
# The least an environment file must say; tests add what they check.
MINIMAL_CONFIG = """\
project = "shop"
account_id = "123456789012"
region = "us-east-1"

[network]
cidr = "10.0.0.0/16"
"""


class SynthStack:
    """One synthesized stack: its `cdk.tf.json`, with look-ups by resource type and construct path."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.json = json.loads((directory / "cdk.tf.json").read_text())
        self.name = directory.name

    def resources(self, type_: str) -> dict[str, dict]:
        """{construct path without the stack, e.g. 'network/public-a': resource body}."""
        return {self._path(body): body for body in self.json.get("resource", {}).get(type_, {})
                .values()}

    def resource(self, type_: str, path: str) -> dict:
        found = self.resources(type_)
        assert path in found, f"{type_} at {path} not in {self.name}; have {sorted(found)}"
        return found[path]

    def matching(self, type_: str, pattern: str) -> dict[str, dict]:
        return {p: b for p, b in self.resources(type_).items() if fnmatch(p, pattern)}

    def inline_statements(self, pattern: str) -> list[dict]:
        """The statements of every inline role policy whose construct path matches `pattern`."""
        return [s for body in self.matching("aws_iam_role_policy", pattern).values()
                for s in json.loads(body["policy"])["Statement"]]

    def ref(self, type_: str, path: str, attribute: str = "id") -> str:
        """The Terraform reference other resources use for the resource at `path`."""
        for logical_id, body in self.json["resource"][type_].items():
            if self._path(body) == path:
                return f"${{{type_}.{logical_id}.{attribute}}}"
        raise AssertionError(f"{type_} at {path} not in {self.name}")

    def locate(self, logical_id: str) -> tuple[str, str]:
        """(type, construct path) of a resource from its logical id."""
        for type_, bodies in self.json.get("resource", {}).items():
            if logical_id in bodies:
                return type_, self._path(bodies[logical_id])
        raise KeyError(logical_id)

    def _path(self, body: dict) -> str:
        return body["//"]["metadata"]["path"].split("/", 1)[1]


def synthesize(outdir: Path, config_paths: list[Path], target: str = "aws",
               account: Path | list[Path] | None = None,
               environment_stacks: bool = True) -> dict[str, SynthStack]:
    """Synthesize the given environment files (and, with `account`, the bootstrap stack of each
    account file for them; with `environment_stacks=False`, those alone) in this process (the
    jsii kernel is shared)."""
    return {d.name: SynthStack(d) for d in synthesize_stacks(outdir, config_paths, target,
                                                                  account, environment_stacks)}


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    """What `make synth` writes: the shipped environments and the bootstrap stack of
    config/account.toml for them (the environments' JSON is the same without it)."""
    out = tmp_path_factory.mktemp("cdktf.out")
    synthesize(out, [SAMPLE / f"{env}.toml" for env in ENVIRONMENTS],
               account=SAMPLE / "account.toml")
    return out


@pytest.fixture(scope="session")
def presets(tmp_path_factory) -> dict[str, SynthStack]:
    """Every preset (examples/*.toml but *.base.toml), synthesized once. Several presets share an
    environment name (dev, prod), so each one gets its own app and output directory."""
    out = tmp_path_factory.mktemp("examples")
    stacks = {}
    for path in PRESET_FILES:
        synthesized = synthesize(out / path.stem, [path])
        assert len(synthesized) == 1, (path, sorted(synthesized))
        stacks[path.stem] = next(iter(synthesized.values()))
    return stacks


@pytest.fixture(scope="session")
def bootstrap_dir(synth_dir) -> Path:
    """The bootstrap stack for config/account.toml and the shipped environments."""
    return synth_dir / "stacks" / "bootstrap-stack"


@pytest.fixture(scope="session")
def bootstrap(bootstrap_dir) -> SynthStack:
    return SynthStack(bootstrap_dir)


@pytest.fixture(scope="session")
def stacks(synth_dir) -> dict[str, SynthStack]:
    """The shipped environments' stacks by stack name."""
    return {d.name: SynthStack(d) for d in sorted((synth_dir / "stacks").iterdir())
            if d.name != "bootstrap-stack"}


@pytest.fixture(scope="session")
def fixture_stacks(tmp_path_factory) -> dict[str, SynthStack]:
    """tests/fixtures/*.toml, synthesized once: `full-stack` (every switch the shipped environments
    leave off) and `lean-stack` (App Runner)."""
    return synthesize(tmp_path_factory.mktemp("fixture-stacks"),
                      sorted((ROOT / "tests" / "fixtures").glob("*.toml")))


@pytest.fixture(scope="session")
def every_stack(stacks, bootstrap, presets, fixture_stacks) -> dict[str, SynthStack]:
    """Everything the project synthesizes: the environments, the bootstrap stack, every preset and
    every test fixture, by a label that says where it comes from."""
    return {**stacks, "bootstrap-stack": bootstrap,
            **{f"examples/{name}": stack for name, stack in presets.items()},
            **{f"tests/fixtures: {name}": stack for name, stack in fixture_stacks.items()}}


@pytest.fixture(scope="session")
def adopted(tmp_path_factory) -> dict[str, tuple[dict[str, SynthStack], dict[str, Path]]]:
    """Every preset through `make adopt` into a scratch config/ (tools/adopt.py, project acme),
    synthesized as `make synth` would: {preset: ({stack name: stack}, {stack name: its file})}.
    tests/test_adopt.py checks them as config/ is checked; tests/test_policy.py scans them with
    the project's own stacks, so the waivers a preset needs hold wherever it is adopted."""
    import config_checks
    from tools import adopt

    built = {}
    for preset in sorted(adopt.presets()):
        root = tmp_path_factory.mktemp(f"adopted-{preset}")
        files = adopt.adopt(adopt.arguments(preset, "acme", "210987654321"))
        adopt.fit_budgets(files)  # as `make adopt` does before writing
        adopt.write(files, root / "config")
        built[preset] = config_checks.synthesize_dir(root / "config", root / "out")
    return built


@pytest.fixture(params=[f"{env}-stack" for env in ENVIRONMENTS])
def stack(request, stacks) -> SynthStack:
    """Each shipped environment's stack in turn: a test taking it runs for dev, staging and
    prod."""
    return stacks[request.param]


@pytest.fixture(scope="session")
def full(fixture_stacks) -> SynthStack:
    """tests/fixtures/full.toml's stack: every switch the shipped environments leave off."""
    return fixture_stacks["full-stack"]


@pytest.fixture(scope="session")
def dev(stacks) -> SynthStack:
    return stacks["dev-stack"]


@pytest.fixture(scope="session")
def prod(stacks) -> SynthStack:
    return stacks["prod-stack"]


def tool_path() -> str:
    """PATH as bin/run sets it: the project's Node.js and cdktf CLI, then its virtualenv."""
    return os.pathsep.join([str(ROOT / "node_modules" / ".bin"), str(ROOT / ".venv" / "bin"),
                            os.environ.get("PATH", "")])


def missing(message: str) -> NoReturn:
    """Something the test needs is not installed: a skip on a laptop, a failure under CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_tool(name: str) -> str:
    """The path of a tool the test needs (`missing` when it is not installed)."""
    path = shutil.which(name, path=tool_path())
    if path is None:
        missing(f"{name} is not installed (run `make install`)")
    return path


def snapshot(directory: Path) -> dict[Path, tuple[bytes, int]]:
    """Every file under `directory` with its content and modification time: equal snapshots
    mean nothing there was written."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.rglob("*"))
            if p.is_file()}


def run(cmd: list[str], cwd: Path, timeout: int = 300, **env: str) -> subprocess.CompletedProcess:
    """Run a command through bin/run, the environment every project command gets."""
    return subprocess.run([str(ROOT / "bin" / "run"), *cmd], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout)


# The local deploy cycle (tests/test_local_deploy.py) mostly waits on the emulator and the
# provider's polling, so it starts in the background as soon as it is collected and overlaps the
# rest of the suite; its test waits for it.
LOCAL_DEPLOY_TEST = "test_local_deploy.py"
# dev is the everyday environment; prod has everything dev lacks (HTTPS, CloudFront, WAF, IPv6,
# Multi-AZ, deletion protection); the lean preset runs its services on Lambda (image functions,
# the HTTP API's routes) with the serverless cache; seed 003's portfolio extends its base file and
# has a one-off task (migrate), a stack-owned zone and a www name. Their cycles run side by side.
LOCAL_DEPLOY_CONFIGS = {"dev": SAMPLE / "dev.toml", "prod": SAMPLE / "prod.toml",
                        "lean": ROOT / "examples" / "lean.toml",
                        "portfolio": ROOT / "examples" / "portfolio.toml"}
MOTO_PYTHON = ROOT / ".tools" / "moto" / "bin" / "python"
# CDK Terrain's synth and validate of every stack (tests/cdktn_synth.py, for tests/test_cdktn.py)
# likewise: a separate process in the fork's own environment, started at collection.
CDKTN_TEST = "test_cdktn.py"
CDKTN_INSTALLED = ROOT / ".cdktn" / ".installed"
CDKTN_OUT = Path(tempfile.mkdtemp(prefix="cdktn-"))
background: dict[str, subprocess.Popen] = {}


def pytest_addoption(parser):
    parser.addoption("--write-stateful-addresses", action="store_true",
                     help="rewrite tests/stateful_addresses.json from the synthesized stacks "
                          "(`make addresses`; README, \"Stateful resources\")")


# trylast: after `-m`, `-k` and `--deselect` have dropped what will not run, so a run without the
# test (the fast suite) does not start the cycles only to stop them at the end.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    # Their tests run last, so everything else runs while the background processes do.
    items.sort(key=lambda item: (item.path.name == LOCAL_DEPLOY_TEST, item.path.name == CDKTN_TEST))
    if CDKTN_INSTALLED.exists() and any(i.path.name == CDKTN_TEST for i in items):
        start_in_background("cdktn", ["python", "-O", str(ROOT / "tests" / "cdktn_synth.py"),
                                      str(CDKTN_OUT)], PLATFORM_CDK="cdktn")
    if MOTO_PYTHON.exists() and any(i.path.name == LOCAL_DEPLOY_TEST for i in items):
        start_in_background("local_deploy", [
            "python", str(ROOT / "tools" / "deploy_local.py"), "--json",
            *map(str, LOCAL_DEPLOY_CONFIGS.values())])


def start_in_background(name: str, cmd: list[str], **env: str) -> None:
    """`cmd` through bin/run, in its own process group (pytest_unconfigure stops it), its output
    kept for `background_result`."""
    log = tempfile.TemporaryFile("w+")
    background[name] = subprocess.Popen(
        [str(ROOT / "bin" / "run"), *cmd], cwd=ROOT, env={**os.environ, **env}, stdout=log,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    background[name].log = log


def background_result(name: str, not_started: str, timeout: int) -> tuple[int, str]:
    """(exit code, output) of what `start_in_background` started as `name`, once it ends;
    `missing(not_started)` if it was not started."""
    if name not in background:
        missing(not_started)
    process = background[name]
    process.wait(timeout=timeout)
    process.log.seek(0)
    return process.returncode, process.log.read()


def pytest_unconfigure(config):
    """An interrupted run must not leave the cycle, its emulator or the fork's synth behind."""
    for name in ("local_deploy", "cdktn"):
        process = background.pop(name, None)
        if process is not None and process.poll() is None:
            os.killpg(process.pid, 15)
            process.wait(timeout=60)
    shutil.rmtree(CDKTN_OUT, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    from config_checks import PLANNED
    from test_policy import REPORT

    if PLANNED:
        terminalreporter.section("offline terraform plan (resources to add)")
        for stack, count in sorted(PLANNED.items()):
            terminalreporter.write_line(f"{stack:<26} {count:4}")
    if REPORT:
        terminalreporter.section("checkov (policy/checkov-skips.toml explains every skip)")
        for stack, counts in sorted(REPORT.items()):
            terminalreporter.write_line(f"{stack:<26} passed {counts['passed']:3}  failed "
                                        f"{counts['failed']:3}  skipped {counts['skipped']:3}")
