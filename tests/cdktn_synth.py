"""The CDK Terrain half of tests/test_cdktn.py, run in the fork's own environment:
`PLATFORM_CDK=cdktn bin/run python -O tests/cdktn_synth.py OUT` (tests/conftest.py starts it in the
background as soon as the test is collected; README, "CDK Terrain (cdktn)").

1. Synthesizes every stack the product's tests synthesize, with the fork: OUT/sample (the sample
   config with its bootstrap stack, as `synth_dir`), OUT/fixtures (tests/fixtures/*.toml, as
   `fixture_stacks`), OUT/examples/<preset> (each preset in its own app, as `presets`). One
   process, one jsii kernel.
2. `terraform validate`s them against hashicorp/aws 5.100.0, the only AWS provider this machine
   has (no 6.x binary, no registry). What exists only in provider 6 is then an "Unsupported
   argument" or "Unsupported block type", a question of argument names: the stacks validated are
   a few that hold every (resource type, argument path) of all of them (`covering`: 9 of
   24), each a child module of one configuration (`as_aws_5`), so the provider's schema loads
   once. The fork's output must have no such error. One more module, the canary, is the dev
   stack with a resource-level `region` (version 6's "Enhanced Region Support"), which must
   fail: the proof that a version-6-only argument is caught. OUT/validate.json holds the exit
   code and the output.
"""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stacks.app import synthesize  # noqa: E402  (arms the fast AWS import before the CDK loads)
from lib.config import config_files  # noqa: E402
from tools.terraform_cli_config import PROVIDER_VERSION  # noqa: E402

SAMPLE = ROOT / "tests" / "fixtures" / "sample"
CANARY = "canary"
VALIDATE_REPORT = "validate.json"


def synthesize_all(out: Path) -> None:
    synthesize(out / "sample", [SAMPLE / f"{env}.toml" for env in ("dev", "staging", "prod")],
               account=SAMPLE / "account.toml")
    synthesize(out / "fixtures", sorted((ROOT / "tests" / "fixtures").glob("*.toml")))
    for path in config_files(ROOT / "examples")[0]:
        synthesize(out / "examples" / path.stem, [path])


def stack_files(out: Path) -> dict[str, Path]:
    """{label: cdk.tf.json} of every synthesized stack: `sample/dev-stack`,
    `examples/lean/lean-stack`..."""
    return {str(p.parent.relative_to(out)).replace("/stacks/", "/"): p
            for p in sorted(out.glob("**/stacks/*/cdk.tf.json"))}


def as_aws_5(stack: dict) -> dict:
    """The stack as a child module that asks for hashicorp/aws 5.100.0: its required version
    overridden, its backend dropped (only a root module has one; validate never reads it)."""
    terraform = {**stack["terraform"], "required_providers": {
        **stack["terraform"]["required_providers"],
        "aws": {**stack["terraform"]["required_providers"]["aws"], "version": PROVIDER_VERSION}}}
    terraform.pop("backend", None)
    return {**stack, "terraform": terraform}


def with_v6_region(stack: dict) -> dict:
    """The canary: the stack with `region` on its first bucket, an argument only version 6 has."""
    buckets = stack["resource"]["aws_s3_bucket"]
    first = sorted(buckets)[0]
    return {**stack, "resource": {**stack["resource"], "aws_s3_bucket": {
        **buckets, first: {**buckets[first], "region": "us-east-1"}}}}


def argument_paths(stack: dict) -> set[tuple]:
    """Every (resource type or "provider", key, nested key...) the stack sets."""
    def walk(value, prefix: tuple) -> set[tuple]:
        if isinstance(value, list):
            return {p for item in value for p in walk(item, prefix)}
        if isinstance(value, dict):
            return {p for key, item in value.items() if key != "//"
                    for p in {(*prefix, key)} | walk(item, (*prefix, key))}
        return set()
    found = {p for type_, bodies in stack.get("resource", {}).items()
             for body in bodies.values() for p in walk(body, (type_,))}
    return found | {p for provider in stack["provider"]["aws"]
                    for p in walk(provider, ("provider",))}


def covering(stacks: dict[str, dict]) -> list[str]:
    """The labels of a few stacks that together set every argument path any of them sets:
    greedily, the one adding the most paths first (ties by label)."""
    left = set().union(*(argument_paths(s) for s in stacks.values()))
    chosen = []
    while left:
        best = max(sorted(stacks), key=lambda label: len(argument_paths(stacks[label]) & left))
        chosen.append(best)
        left -= argument_paths(stacks[best])
    return chosen


def module_name(label: str) -> str:
    return label.replace("/", "__")


def validate_all(out: Path, synth_seconds: float) -> None:
    workdir = out / "validate"
    stacks = {label: json.loads(path.read_text()) for label, path in stack_files(out).items()}
    modules = {module_name(label): as_aws_5(stacks[label]) for label in covering(stacks)}
    modules[CANARY] = with_v6_region(as_aws_5(stacks["sample/dev-stack"]))
    for name, body in modules.items():
        (workdir / name).mkdir(parents=True)
        (workdir / name / "main.tf.json").write_text(json.dumps(body, indent=1))
    (workdir / "main.tf.json").write_text(json.dumps(
        {"module": {name: {"source": f"./{name}"} for name in modules}}, indent=1))
    terraform = shutil.which("terraform") or "terraform"
    start = time.perf_counter()
    output = ""
    for step in (["init", "-input=false", "-backend=false"], ["validate"]):
        result = subprocess.run([terraform, *step, "-no-color"], cwd=workdir,
                                capture_output=True, text=True)
        output += result.stdout + result.stderr
        if step[0] == "init" and result.returncode != 0:
            break
    (out / VALIDATE_REPORT).write_text(json.dumps(
        {"step": step[0], "returncode": result.returncode, "output": output,
         "modules": sorted(modules), "synth_seconds": round(synth_seconds, 1),
         "validate_seconds": round(time.perf_counter() - start, 1)}, indent=1))


if __name__ == "__main__":
    target = Path(sys.argv[1])
    began = time.perf_counter()
    synthesize_all(target)
    validate_all(target, time.perf_counter() - began)
