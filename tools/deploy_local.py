"""The local deploy cycle: moto on 127.0.0.1, `cdktf deploy <env>-stack` (every declared resource
in the state afterwards), a second plan that must be empty, one `cdktf destroy <env>-stack`,
nothing left in the state, the emulator stopped.

    bin/run python tools/deploy_local.py                     config/dev.toml (make deploy-local)
    bin/run python tools/deploy_local.py FILE [FILE ...]     those environment files
    bin/run python tools/deploy_local.py --all               config/dev.toml, config/prod.toml
                                                             and every preset (make deploy-local-all)

Several files run side by side (at most $DEPLOY_LOCAL_JOBS at once, default 4), each with an
emulator and a temporary directory of its own (synth output and the local state file: never the
project's cdktf.out/ or state files): most of a cycle is the provider waiting on the emulator, so
cycles overlap well even on two cores. Each cycle
prints its steps' times as they end, then one line per stack and a JSON report; the exit code is
non-zero when any cycle failed (a destroy that needs a second attempt included), deployed fewer
resources than its stack declares, left a non-empty second plan or resources behind.
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
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.config import load_environment  # noqa: E402
from tools.terraform_cli_config import PROVIDER_VERSION  # noqa: E402

MOTO_PYTHON = ROOT / ".tools" / "moto" / "bin" / "python"
EMULATOR = ROOT / "tools" / "local_emulator.py"
RUN = str(ROOT / "bin" / "run")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
DEFAULT = [ROOT / "config" / "dev.toml"]
ALL = [ROOT / "config" / "dev.toml", ROOT / "config" / "prod.toml",
       *sorted((ROOT / "examples").glob("*.toml"))]
_print_lock = threading.Lock()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the emulator did not answer at {url}")


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
    environment."""
    zones = domains_by_zone(tomllib.loads(config.read_text(encoding="utf-8")))
    if not zones:
        return config
    text = config.read_text(encoding="utf-8")
    for zone_id, domains in zones.items():
        created = subprocess.run(
            [str(MOTO_PYTHON), "-c", "import boto3, sys; print(boto3.client('route53', "
             "endpoint_url=sys.argv[1], region_name='us-east-1').create_hosted_zone(Name=sys.argv[2], CallerReference="
             "sys.argv[2])['HostedZone']['Id'].split('/')[-1])",
             env["PLATFORM_LOCAL_ENDPOINT"], zone_name(domains or ["example.com"])],
            env=env, capture_output=True, text=True, check=True).stdout.strip()
        text = text.replace(f'"{zone_id}"', f'"{created}"')
    copy = workdir / "config" / config.name
    copy.parent.mkdir()
    copy.write_text(text, encoding="utf-8")
    return copy


def managed_resources(state_file: Path) -> list[dict]:
    """The resource instances (not data sources) a local state file records."""
    state = json.loads(state_file.read_text())
    return [instance for r in state.get("resources", []) if r["mode"] == "managed"
            for instance in r["instances"]]


def label(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def step(who: str, name: str, cmd: list[str], env: dict, cwd: Path,
         timeout: int, ok: tuple[int, ...] = (0,)) -> tuple[str, float]:
    start = time.monotonic()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    seconds = time.monotonic() - start
    output = ANSI.sub("", result.stdout + result.stderr)
    with _print_lock:
        print(f"{who:<28} {name:<14} {seconds:6.1f} s  exit {result.returncode}", flush=True)
    if result.returncode not in ok:
        raise RuntimeError(f"{name} failed:\n{output[-4000:]}")
    return output, seconds


def cycle(config: Path, workdir: Path) -> dict:
    """Run the whole cycle for one environment file in `workdir`; return what happened."""
    stack_name = load_environment(config).stack_name
    who = label(config)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PLATFORM_TARGET": "local", "PLATFORM_LOCAL_ENDPOINT": endpoint,
           "PLATFORM_CONFIG": str(config),
           "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
           "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
           "MOTO_ACCOUNT_ID": "123456789012"}
    out = workdir / "cdktf.out"
    report: dict = {"config": who, "stack": stack_name, "endpoint": endpoint}
    emulator_log = (workdir / "emulator.log").open("w")
    # ACM issues a DNS-validated certificate once its record answers; moto instead waits a
    # fixed 60 s by default, which only slows the cycle.
    emulator = subprocess.Popen([str(MOTO_PYTHON), str(EMULATOR), str(port)],
                                env={**env, "MOTO_ACM_VALIDATION_WAIT": "0",
                                     # AWS-managed policies exist in every account (RDS
                                     # monitoring, ECS instances, Session Manager attach them).
                                     "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
                                stdout=subprocess.DEVNULL, stderr=emulator_log)
    try:
        wait_for(f"{endpoint}/moto-api/")
        env["PLATFORM_CONFIG"] = str(with_account_prerequisites(config, workdir, env))
        cdktf = [RUN, "cdktf"]
        _, report["deploy_s"] = step(who, "deploy", cdktf + [
            "deploy", stack_name, "--auto-approve", "--output", str(out)], env, ROOT, 1200)
        stack = out / "stacks" / stack_name
        state_file = workdir / f"terraform.{stack_name}.tfstate"
        # Everything the stack declares exists afterwards: one instance per resource, none for
        # what the local target leaves out with `count = 0` (lib/targets/local.py).
        report["resources_declared"] = sum(
            body.get("count", 1) for bodies in json.loads(
                (stack / "cdk.tf.json").read_text())["resource"].values()
            for body in bodies.values())
        report["resources_deployed"] = len(managed_resources(state_file))
        outputs, _ = step(who, "outputs", [RUN, "terraform", "output", "-json"], env, stack, 120)
        report["outputs"] = {k: v["value"] for k, v in sorted(json.loads(outputs).items())}
        plan, report["plan_s"] = step(
            who, "second plan", [RUN, "terraform", "plan", "-input=false", "-lock=false",
                                 "-detailed-exitcode", "-no-color"], env, stack, 600,
            ok=(0, 2))  # 2: changes, reported below; the destroy still runs
        report["second_plan_empty"] = "No changes." in plan
        if not report["second_plan_empty"]:
            report["second_plan"] = plan[plan.find("Terraform will perform"):][-4000:]
        # One attempt: a destroy that needs a second one is a failure of the cycle, not noise.
        _, report["destroy_s"] = step(who, "destroy", cdktf + [
            "destroy", stack_name, "--auto-approve", "--output", str(out)], env, ROOT, 1200)
        report["resources_left"] = len(managed_resources(state_file))
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
        emulator_log.close()
        # SDK retries of a request the emulator had carried out, answered from the first
        # attempt (tools/local_emulator.py): reported, so a rise is seen.
        report["retries_replayed"] = (workdir / "emulator.log").read_text().count("replayed ")
    return report


def run_one(config: Path) -> dict:
    start = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="deploy-local-") as tmp:
            report = cycle(config, Path(tmp))
    except Exception as err:  # noqa: BLE001  (the report is this cycle's only output)
        report = {"config": label(config), "error": f"{type(err).__name__}: {err}"}
    report["total_s"] = round(time.monotonic() - start, 1)
    report["ok"] = (report.get("second_plan_empty") is True
                    and report.get("resources_left") == 0
                    and report.get("resources_deployed") == report.get("resources_declared"))
    return report


def summary(report: dict) -> str:
    if "error" in report:
        first = report["error"].splitlines()[0]
        return f"{report['config']:<28} FAILED after {report['total_s']:.0f} s: {first}"
    verdict = "ok" if report["ok"] else "FAILED"
    return (f"{report['config']:<28} {verdict:<6} {report['stack']:<14} "
            f"deploy {report['deploy_s']:5.0f} s ({report['resources_deployed']} of "
            f"{report['resources_declared']} resources), second plan "
            f"{'empty' if report['second_plan_empty'] else 'NOT EMPTY'}, destroy "
            f"{report['destroy_s']:4.0f} s, {report['retries_replayed']} retries replayed, "
            f"{report['resources_left']} left, {report['total_s']:.0f} s in all")


def warm_plugin_cache() -> None:
    """Fill the project's provider cache with one `terraform init`, alone: the cycles' inits run
    side by side, and two that both find the cache empty race to create the same directory (one
    fails with "mkdir ...: file exists"). Terraform's plugin cache is not safe for concurrent
    use ("Provider Plugin Cache", CLI configuration docs)."""
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch, "main.tf.json").write_text(json.dumps({"terraform": {"required_providers": {
            "aws": {"source": "hashicorp/aws", "version": PROVIDER_VERSION}}}}))
        subprocess.run([RUN, "terraform", "init", "-input=false", "-backend=false"], cwd=scratch,
                       check=True, capture_output=True, timeout=300)


def main(argv: list[str]) -> int:
    if not MOTO_PYTHON.exists():
        print(f"{MOTO_PYTHON.relative_to(ROOT)} is missing: run `make install`", file=sys.stderr)
        return 2
    configs = ALL if argv == ["--all"] else [Path(a).resolve() for a in argv] or DEFAULT
    reports: list[dict] = [{}] * len(configs)
    slots = threading.Semaphore(int(os.environ.get("DEPLOY_LOCAL_JOBS", "4")))

    def work(i: int) -> None:
        with slots:
            reports[i] = run_one(configs[i])

    warm_plugin_cache()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(configs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print()
    for report in reports:
        print(summary(report))
    for report in reports:
        if "error" in report:
            print(f"\n--- {report['config']}\n{report['error']}", file=sys.stderr)
    print(json.dumps(reports, indent=2))
    return 0 if all(r["ok"] for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
