"""The local deploy cycle: moto on 127.0.0.1, `cdktf synth`, `cdktf deploy <env>-stack` (every
declared resource in the state afterwards), a second plan that must be empty, one
`cdktf destroy <env>-stack`, nothing left in the state, the emulator stopped.

    bin/run python tools/deploy_local.py                config/dev.toml (make deploy-local)
    bin/run python tools/deploy_local.py FILE [FILE ...]    those environment files
                                                        (make deploy-local CONFIG=FILE: one)
    bin/run python tools/deploy_local.py --all          config/dev.toml, config/prod.toml and
                                                        every preset (make deploy-local-all)
    ... --json                                          the report as JSON at the end (tests)

Several files run side by side (at most $DEPLOY_LOCAL_JOBS at once, default 4), each with an
emulator and a temporary directory of its own (synth output and the local state file: never the
project's cdktf.out/ or state files): most of a cycle is the provider waiting on the emulator, so
cycles overlap well even on two cores. Each step prints one line as it ends (time, ok or FAILED);
then one line per stack. A failed cycle says in one line what failed and whose failure it is
(tools/local_failures.py), and where the full output is kept (a log file in the system's
temporary directory). The exit code is non-zero when any cycle failed (a destroy that needs a
second attempt included), deployed fewer resources than its stack declares, left a non-empty
second plan or resources behind; 2 when a file is wrong or a tool is missing, before anything
starts. No Python traceback reaches the terminal: an unexpected one goes to a log file too.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.config import (ConfigError, config_files, load_environment,  # noqa: E402
                        read_environment_file)
from tools.local_failures import explain  # noqa: E402
from tools.terraform_cli_config import PROVIDER_VERSION  # noqa: E402

MOTO_PYTHON = ROOT / ".tools" / "moto" / "bin" / "python"
EMULATOR = ROOT / "tools" / "local_emulator.py"
RUN = str(ROOT / "bin" / "run")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
DEFAULT = [ROOT / "config" / "dev.toml"]
ALL = [ROOT / "config" / "dev.toml", ROOT / "config" / "prod.toml",
       *config_files(ROOT / "examples")[0]]
# bin/run's `exec` of a command that is not installed.
NOT_FOUND = 127
_print_lock = threading.Lock()


class StepFailed(Exception):
    """A step that failed: `why` is the one line shown, `output` what goes to the log file."""

    def __init__(self, step: str, why: str, output: str = ""):
        super().__init__(why)
        self.step, self.why, self.output = step, why, output


def step_line(who: str, name: str, seconds: float, ok: bool, detail: str = "") -> None:
    with _print_lock:
        print(f"{who:<28} {name:<12} {seconds:6.1f} s  {'ok' if ok else 'FAILED':<6} "
              f"{detail}".rstrip(), flush=True)


def keep_log(stack: str, text: str) -> Path:
    """`text` in a file of its own outside the project (the cycle's directory is removed)."""
    fd, path = tempfile.mkstemp(prefix=f"deploy-local-{stack}-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as log:
        log.write(text)
    return Path(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, emulator: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and emulator.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    state = f"it exited with {emulator.returncode}" if emulator.poll() is not None else \
        f"nothing in {seconds:.0f} s"
    raise StepFailed("emulator", f"the emulator did not answer at {url} ({state}): is the port "
                                 "taken, or moto broken? Try `make install`")


def domains_by_zone(data: dict) -> dict[str, list[str]]:
    """{hosted_zone_id: the domains the file puts in it} for every zone given by id."""
    zones: dict[str, list[str]] = {}
    for section, domains in (("ingress", [data.get("ingress", {}).get("domain")]),
                             ("api", [data.get("api", {}).get("domain")]),
                             ("edge", list(data.get("edge", {}).get("surface_domains", {})
                                           .values()))):
        zone_id = data.get(section, {}).get("hosted_zone_id")
        if zone_id:
            zones.setdefault(zone_id, []).extend(d for d in domains if d)
    return zones


def zone_name(domains: list[str]) -> str:
    """The longest common parent of `domains` (their shared trailing labels)."""
    labels = [d.split(".") for d in domains]
    common = []
    for parts in zip(*(reversed(x) for x in labels)):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return ".".join(reversed(common)) or domains[0]


def with_account_prerequisites(config: Path, workdir: Path, env: dict) -> Path:
    """A copy of `config` for the emulator, which starts as an empty account: a hosted zone the
    file gives by id (an existing zone, the normal case on AWS) is created in the emulator first,
    and the copy names the emulator's id. The copy keeps the file name, which names the
    environment; the files it extends are copied beside it (each `extends` names a file of the
    same directory), as the zone may be given in any of them."""
    written = read_environment_file(config)
    zones = domains_by_zone(written.data)
    if not zones:
        return config
    created_ids = {}
    for zone_id, domains in zones.items():
        name = zone_name(domains or ["example.com"])
        created = subprocess.run(
            [str(MOTO_PYTHON), "-c", "import boto3, sys; print(boto3.client('route53', "
             "endpoint_url=sys.argv[1], region_name='us-east-1').create_hosted_zone("
             "Name=sys.argv[2], CallerReference=sys.argv[2])['HostedZone']['Id']"
             ".split('/')[-1])", env["PLATFORM_LOCAL_ENDPOINT"], name],
            env=env, capture_output=True, text=True)
        if created.returncode != 0:
            raise StepFailed("emulator", f"the emulator (moto) could not create the hosted zone "
                                         f"{name} the file names by id ({zone_id})",
                             created.stdout + created.stderr)
        created_ids[zone_id] = created.stdout.strip()
    copies = workdir / "config"
    copies.mkdir()
    for path in written.chain:
        text = path.read_text(encoding="utf-8")
        for zone_id, created_id in created_ids.items():
            text = text.replace(f'"{zone_id}"', f'"{created_id}"')
        (copies / path.name).write_text(text, encoding="utf-8")
    return copies / config.name


def managed_resources(state_file: Path) -> list[str]:
    """The address of each resource instance (not data source) a local state file records."""
    state = json.loads(state_file.read_text())
    return [f"{r['type']}.{r['name']}" for r in state.get("resources", [])
            if r["mode"] == "managed" for _ in r["instances"]]


def declared_resources(stack: Path) -> list[str]:
    """The address of each instance the synthesized stack declares: one per resource, none for
    what the local target leaves out with `count = 0` (lib/targets/local.py)."""
    resources = json.loads((stack / "cdk.tf.json").read_text())["resource"]
    return [f"{kind}.{name}" for kind, bodies in resources.items()
            for name, body in bodies.items() for _ in range(body.get("count", 1))]


def guards_turned_off(config) -> list[str]:
    """The file's guards against destroying that the local target turns off (lib/targets/local.py
    and stacks/environment.py): the cycle destroys what it deploys, and an emulator holds nothing
    to protect. They stay on for AWS."""
    guards = {"prevent_destroy": config.prevent_destroy,
              "database.deletion_protection": config.database.deletion_protection,
              "ingress.deletion_protection": config.ingress.deletion_protection,
              "auth.deletion_protection": config.auth.enabled and config.auth.deletion_protection}
    return [name for name, on in guards.items() if on]


def label(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


class Cycle:
    """One file's cycle: where it runs, and its steps, each printing one line as it ends."""

    def __init__(self, who: str, env: dict, emulator_log: Path):
        self.who, self.env, self.emulator_log = who, env, emulator_log

    def run(self, name: str, cmd: list[str], cwd: Path, timeout: int,
            ok: tuple[int, ...] = (0,), detail=lambda output: "") -> tuple[str, float]:
        """Run `cmd`; its output and time. Raises StepFailed, with the reason in words."""
        start = time.monotonic()
        try:
            result = subprocess.run(cmd, cwd=cwd, env=self.env, capture_output=True, text=True,
                                    timeout=timeout)
        except subprocess.TimeoutExpired as err:
            self.line(name, start, False)
            raise StepFailed(name, f"{name} did not finish in {timeout} s",
                             _text(err.stdout) + _text(err.stderr)) from None
        output = ANSI.sub("", result.stdout + result.stderr)
        passed = result.returncode in ok
        self.line(name, start, passed, detail(output) if passed else "")
        if result.returncode == NOT_FOUND:
            raise StepFailed(name, f"{cmd[1]} is not installed (exit {NOT_FOUND}): run "
                                   "`make install`", output)
        if not passed:
            raise StepFailed(name, explain(name, output, self.emulator_log.read_text()), output)
        return output, time.monotonic() - start

    def check(self, name: str, passed: bool, detail: str, why: str) -> None:
        """A step that reads what the last one left (the state): no time of its own."""
        self.line(name, time.monotonic(), passed, detail)
        if not passed:
            raise StepFailed(name, why)

    def line(self, name: str, start: float, passed: bool, detail: str = "") -> None:
        step_line(self.who, name, time.monotonic() - start, passed, detail)


def _text(output) -> str:
    """What a timed-out process wrote (bytes, even in text mode, on some platforms)."""
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def cycle(config: Path, workdir: Path) -> dict:
    """Run the whole cycle for one environment file in `workdir`; return what happened."""
    loaded = load_environment(config)
    stack_name = loaded.stack_name
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PLATFORM_TARGET": "local", "PLATFORM_LOCAL_ENDPOINT": endpoint,
           "PLATFORM_CONFIG": str(config),
           "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
           "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
           "MOTO_ACCOUNT_ID": "123456789012"}
    out = workdir / "cdktf.out"
    report: dict = {"config": label(config), "stack": stack_name, "endpoint": endpoint}
    emulator_log_path = workdir / "emulator.log"
    emulator_log = emulator_log_path.open("w")
    steps = Cycle(label(config), env, emulator_log_path)
    start = time.monotonic()
    # ACM issues a DNS-validated certificate once its record answers; moto instead waits a
    # fixed 60 s by default, which only slows the cycle.
    emulator = subprocess.Popen([str(MOTO_PYTHON), str(EMULATOR), str(port)],
                                env={**env, "MOTO_ACM_VALIDATION_WAIT": "0",
                                     # AWS-managed policies exist in every account (RDS
                                     # monitoring, ECS instances, Session Manager attach them).
                                     "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
                                stdout=subprocess.DEVNULL, stderr=emulator_log)
    failure = None
    try:
        try:
            wait_for(f"{endpoint}/moto-api/", emulator)
            env["PLATFORM_CONFIG"] = str(with_account_prerequisites(config, workdir, env))
        except StepFailed:
            steps.line("emulator", start, False)
            raise
        steps.line("emulator", start, True, endpoint)
        cdktf = [RUN, "cdktf"]
        steps.run("synth", cdktf + ["synth", "--output", str(out)], ROOT, 600)
        stack = out / "stacks" / stack_name
        state_file = workdir / f"terraform.{stack_name}.tfstate"
        declared = declared_resources(stack)
        _, report["deploy_s"] = steps.run("deploy", cdktf + [
            "deploy", stack_name, "--skip-synth", "--auto-approve", "--no-color",
            "--output", str(out)], ROOT, 1200)
        deployed = managed_resources(state_file)
        report["resources_declared"], report["resources_deployed"] = len(declared), len(deployed)
        missing = sorted(set(declared) - set(deployed))
        steps.check("state", len(deployed) == len(declared),
                    f"{len(deployed)} of {len(declared)} declared resources",
                    f"{len(deployed)} of {len(declared)} declared resources are in the state "
                    f"after the deploy; missing: {', '.join(missing[:5]) or 'none by address'}")
        outputs, _ = steps.run("outputs", [RUN, "terraform", "output", "-json"], stack, 120,
                               detail=lambda text: f"{len(json.loads(text))} outputs")
        report["outputs"] = {k: v["value"] for k, v in sorted(json.loads(outputs).items())}
        plan, report["plan_s"] = steps.run(
            "second plan", [RUN, "terraform", "plan", "-input=false", "-lock=false",
                            "-detailed-exitcode", "-no-color"], stack, 600,
            detail=lambda text: "no changes")  # exit 2: changes, explained as drift
        report["second_plan_empty"] = True
        guards = guards_turned_off(loaded)
        # One attempt: a destroy that needs a second one is a failure of the cycle, not noise.
        _, report["destroy_s"] = steps.run("destroy", cdktf + [
            "destroy", stack_name, "--skip-synth", "--auto-approve", "--no-color",
            "--output", str(out)], ROOT, 1200,
            detail=lambda text: f"({', '.join(guards)}: off for the emulator only)"
            if guards else "")
        left = managed_resources(state_file)
        report["resources_left"] = len(left)
        steps.check("state empty", not left, f"{len(left)} left",
                    f"the destroy left {len(left)} resources in the state: "
                    f"{', '.join(left[:5])}")
    except StepFailed as err:
        failure = err
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
        emulator_log.close()
        # SDK retries of a request the emulator had carried out, answered from the first
        # attempt (tools/local_emulator.py): reported, so a rise is seen.
        report["retries_replayed"] = emulator_log_path.read_text().count("replayed ")
    if failure is not None:
        report.update(failed_step=failure.step, why=failure.why, log=str(keep_log(
            stack_name, f"{failure.step} failed: {failure.why}\n\n{failure.output}\n\n"
                        f"--- the emulator's log\n{emulator_log_path.read_text()}")))
    return report


def run_one(config: Path) -> dict:
    start = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="deploy-local-") as tmp:
            report = cycle(config, Path(tmp))
    except Exception as err:  # noqa: BLE001  (a bug here: one line, the traceback in a file)
        report = {"config": label(config), "failed_step": "deploy_local.py",
                  "why": internal_error(err),
                  "log": str(keep_log("internal", traceback.format_exc()))}
    report["total_s"] = round(time.monotonic() - start, 1)
    report["ok"] = "failed_step" not in report
    return report


def internal_error(err: Exception) -> str:
    first = str(err).splitlines()[0] if str(err) else ""
    return f"internal error in tools/deploy_local.py: {type(err).__name__}: {first}"


def summary(report: dict) -> str:
    if not report["ok"]:
        return (f"{report['config']:<28} FAILED at {report['failed_step']} after "
                f"{report['total_s']:.0f} s: {report['why']}\n{'':<28} full log: {report['log']}")
    return (f"{report['config']:<28} ok     {report['stack']:<14} "
            f"deploy {report['deploy_s']:5.0f} s ({report['resources_deployed']} of "
            f"{report['resources_declared']} resources), second plan empty, destroy "
            f"{report['destroy_s']:4.0f} s, {report['retries_replayed']} retries replayed, "
            f"{report['resources_left']} left, {report['total_s']:.0f} s in all")


def warm_plugin_cache() -> str | None:
    """Fill the project's provider cache with one `terraform init`, alone: the cycles' inits run
    side by side, and two that both find the cache empty race to create the same directory (one
    fails with "mkdir ...: file exists"). Terraform's plugin cache is not safe for concurrent
    use ("Provider Plugin Cache", CLI configuration docs). Returns what went wrong, if anything."""
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch, "main.tf.json").write_text(json.dumps({"terraform": {"required_providers": {
            "aws": {"source": "hashicorp/aws", "version": PROVIDER_VERSION}}}}))
        result = subprocess.run([RUN, "terraform", "init", "-input=false", "-backend=false",
                                 "-no-color"], cwd=scratch, capture_output=True, text=True,
                                timeout=300)
    if result.returncode == 0:
        return None
    if result.returncode == NOT_FOUND:
        return "terraform is not installed: run `make install`"
    return (f"terraform init of the AWS provider {PROVIDER_VERSION} failed: "
            f"{explain('terraform init', result.stdout + result.stderr)}")


def main(argv: list[str]) -> int:
    """The exit code; whatever goes wrong, one line each on stdout, never a traceback."""
    try:
        return run_all(argv)
    except KeyboardInterrupt:
        print("\ninterrupted")
        return 130
    except Exception as err:  # noqa: BLE001  (a bug here: one line, the traceback in a file)
        log = keep_log("internal", traceback.format_exc())
        print(f"{internal_error(err)} (traceback in {log})")
        return 2


def run_all(argv: list[str]) -> int:
    as_json = "--json" in argv
    argv = [a for a in argv if a != "--json"]
    if not MOTO_PYTHON.exists():
        print(f"{MOTO_PYTHON.relative_to(ROOT)} is missing: run `make install`")
        return 2
    configs = ALL if argv == ["--all"] else [Path(a).resolve() for a in argv] or DEFAULT
    # Every file's mistakes at once, one line each, before anything starts.
    problems = []
    for config in configs:
        try:
            load_environment(config)
        except ConfigError as err:
            problems += err.problems
    if problems:
        print("\n".join(problems))
        return 2
    tool_problem = warm_plugin_cache()
    if tool_problem:
        print(tool_problem)
        return 2
    reports: list[dict] = [{}] * len(configs)
    slots = threading.Semaphore(int(os.environ.get("DEPLOY_LOCAL_JOBS", "4")))

    def work(i: int) -> None:
        with slots:
            reports[i] = run_one(configs[i])

    # Daemons: on Ctrl-C the cycles' processes get the signal too, and nothing waits on them.
    threads = [threading.Thread(target=work, args=(i,), daemon=True)
               for i in range(len(configs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print()
    for report in reports:
        print(summary(report))
    if as_json:
        print(json.dumps(reports, indent=2))
    return 0 if all(r["ok"] for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
