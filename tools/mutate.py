"""`make mutate`: prove the fast suite catches the regressions that matter.

Each mutation below is one small, plausible, security- or money-relevant change to the code (the
kind a review or a hurried fix could introduce). The tool copies the tracked files to a scratch
directory, runs the fast suite there once unmutated (it must pass, or a failure would prove
nothing), then applies one mutation at a time, runs the fast suite (`-x`: the first failure is
enough) and prints caught/missed. Every mutation must be caught; the exit status is 1 when one is
missed and 2 when the unmutated copy fails or a mutation no longer applies (its text is gone from
the file: update the mutation with the code, it must not silently stop testing anything). Not
part of `make test`: it runs the fast suite once per mutation (README, "Tests").

    bin/run python tools/mutate.py            # every mutation, two at a time
    bin/run python tools/mutate.py kms-key-principal tls-objects   # some, by id
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The installs a scratch copy shares with the checkout (none of them is written by the fast suite).
SHARED = (".venv", "node_modules", ".tools", ".terraformrc", ".terraform.env")
FAST_SUITE = ["bin/run", "python", "-m", "pytest", "-q", "-x", "-m", "not slow",
              "-p", "no:cacheprovider", "--deselect", "tests/test_local_deploy.py"]


@dataclass(frozen=True)
class Mutation:
    id: str
    what: str      # the regression, as a reviewer would say it
    path: str      # file relative to the repository root
    old: str       # text that must occur exactly once in the file
    new: str


M = Mutation
MUTATIONS = (
    # Who may use what: resource policies.
    M("kms-key-principal", "every customer managed key trusts any AWS principal",
      "lib/identity/kms.py", '"Principal": {"AWS": n.account_root_arn},',
      '"Principal": {"AWS": "*"},'),
    M("tls-objects", "the buckets' TLS-only deny covers the bucket but not its objects",
      "lib/edge/bucket.py", '"Resource": [self.arn, f"{self.arn}/*"],', '"Resource": self.arn,'),
    M("queue-tls", "queues hand out messages over plain HTTP (the TLS deny covers sends only)",
      "lib/serverless/messaging.py", '"Action": "sqs:*", "Resource": queue_arn,',
      '"Action": "sqs:SendMessage", "Resource": queue_arn,'),
    M("public-bucket", "a bucket may be made public by policy",
      "lib/edge/bucket.py", "block_public_policy=True,", "block_public_policy=False,"),
    M("service-confused-deputy", "service roles trust their service from any account",
      "lib/core/iam.py",
      '"Condition": {"StringEquals": {"aws:SourceAccount": naming.account_id}},', ""),
    M("alerts-topic-any-owner", "any account's alarms and events may publish to the account's "
      "alerts topic", "lib/delivery/detection.py",
      '"Resource": topic_arn, "Condition": {"StringEquals": {"AWS:SourceOwner": n.account_id}}},',
      '"Resource": topic_arn},'),
    # Who may deploy what: delivery roles.
    M("deploy-subject", "the deploy role trusts any job of the repository, not its environment",
      "lib/delivery/github_oidc.py", 'sub=f"repo:{repo}:environment:{props.github_environment}"',
      'sub=f"repo:{repo}:*"'),
    M("plan-reads-parameters", "the plan role may read SSM parameter values",
      "lib/delivery/policies.py",
      '{"Sid": "NoParameterValues", "Effect": "Deny", "Action": "ssm:GetParameter*",',
      '{"Sid": "NoParameterValues", "Effect": "Deny", "Action": "ssm:NoSuchAction",'),
    # (Not GetSecretValue: ReadOnlyAccess does not grant it, so its deny is belt and braces.)
    M("plan-reads-log-events", "the plan role may read log events (one action left off a list)",
      "lib/delivery/plan_denies.py", '"logs:GetLogEvents", "logs:FilterLogEvents",',
      '"logs:FilterLogEvents",'),
    M("deploy-iam-star", "the deploy role gets iam:* on everything",
      "lib/delivery/policies.py",
      '{"Sid": "NoUnscopableWrites", "Effect": "Deny", "Resource": "*",',
      '{"Sid": "Oops", "Effect": "Allow", "Action": "iam:*", "Resource": "*"},\n'
      '            {"Sid": "NoUnscopableWrites", "Effect": "Deny", "Resource": "*",'),
    M("boundary-off", "roles the platform creates lose their permissions boundary",
      "lib/core/iam.py", "node.permissions_boundary = self.arn", "pass"),
    # Who can reach what: the network.
    M("nacl-private-any-port", "the private tier admits any TCP port from the internet",
      "lib/network/vpc.py", 'rule(110, "tcp", ANYWHERE, private_low, private_high)',
      'rule(110, "tcp", ANYWHERE, 0, 65535)'),
    M("data-store-all-ports", "database and cache groups admit every port from the app groups",
      "lib/core/security_group.py", 'ip_protocol="tcp", from_port=port,\n            to_port=port,',
      'ip_protocol="tcp", from_port=0,\n            to_port=65535,'),
    M("database-public", "the database gets a public address",
      "lib/data/database.py", "publicly_accessible=False,", "publicly_accessible=True,"),
    # What is encrypted.
    M("database-unencrypted", "database storage is not encrypted",
      "lib/data/database.py", "storage_encrypted=True,", "storage_encrypted=False,"),
    M("cache-plain-transit", "Redis accepts plain-text connections",
      "lib/data/cache.py", 'transit_encryption_mode="required",',
      'transit_encryption_mode="preferred",'),
    M("cdn-plain-http", "CloudFront serves the application over plain HTTP",
      "lib/edge/cdn.py", 'viewer_protocol_policy="redirect-to-https", compress=True,',
      'viewer_protocol_policy="allow-all", compress=True,'),
    M("old-tls", "the load balancer negotiates TLS 1.0",
      "lib/compute/load_balancer.py", 'TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"',
      'TLS_POLICY = "ELBSecurityPolicy-2016-08"'),
    # What survives a mistake.
    M("prod-no-deletion-protection", "prod's database loses deletion protection",
      "lib/config/profiles.py",
      '"multi_az": True, "deletion_protection": True, "final_snapshot": True},',
      '"multi_az": True, "deletion_protection": False, "final_snapshot": True},'),
    M("ecr-mutable-tags", "image tags may be overwritten, so a digest promoted to prod can change",
      "lib/compute/ecr.py", 'image_tag_mutability="IMMUTABLE" if props.immutable_tags',
      'image_tag_mutability="MUTABLE" if props.immutable_tags'),
    M("no-prevent-destroy", "stateful resources lose prevent_destroy",
      "lib/core/stateful.py", 'node.add_override("lifecycle.prevent_destroy", True)', "pass"),
    # Rules keyed on what they mean.
    M("https-rule-by-name", "'prod must serve HTTPS' keyed on the file's name, not the profile",
      "lib/config/compute.py", 'c.profile == "prod" and c.ingress.domain is None',
      'c.environment == "prod" and c.ingress.domain is None'),
    M("single-nat-by-name", "'no single NAT in prod' keyed on the name, not the profile",
      "lib/config/network.py", 'c.profile == "prod" and net.nat == "single"',
      'c.environment == "prod" and net.nat == "single"'),
    M("security-logs-by-name", "'staging and prod keep security logs a year' keyed on the name",
      "lib/config/observability.py", 'if c.profile in ("staging", "prod") and days <',
      'if c.environment in ("staging", "prod") and days <'),
    M("credential-pass", "a plain DB_PASS or SMTP_PASS in a service's environment is accepted",
      "lib/config/credentials.py",
      "passphrase | pass             # GPG_PASSPHRASE, DB_PASS, SMTP_PASS",
      "passphrase                    # GPG_PASSPHRASE"),
    # Money.
    M("nat-hours", "NAT gateways priced per hour once instead of per month",
      "lib/analysis/cost.py",
      'add("NAT gateway", 1, "gateway-month", p["vpc.nat_gateway_hour"] * p.hours)',
      'add("NAT gateway", 1, "gateway-month", p["vpc.nat_gateway_hour"])'),
    M("budget-yearly", "`make cost` compares the monthly estimate with twelve times the budget",
      "lib/analysis/cost_report.py", "self.monthly_usd <= self.budget_usd",
      "self.monthly_usd <= 12 * self.budget_usd"),
    M("dev-nat-per-az", "dev gets a NAT gateway per zone",
      "lib/config/profiles.py", '"network": {"az_count": 2, "nat": "instance"},',
      '"network": {"az_count": 2, "nat": "per_az"},'),
)


def scratch_copy(into: Path) -> None:
    """The tracked files as they are in the working tree, plus links to the installs."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                             capture_output=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    for name in SHARED:
        if (ROOT / name).exists():
            (into / name).symlink_to(ROOT / name)
    # Some tests list the repository's files (the secret scan): the copy gets the same index.
    subprocess.run(["git", "init", "-q"], cwd=into, check=True)
    subprocess.run(["git", "add", "--", *filter(None, tracked)], cwd=into, check=True)


def fast_suite(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(FAST_SUITE, cwd=tree, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def run(mutation: Mutation, tree: Path) -> dict:
    target = tree / mutation.path
    original = target.read_text(encoding="utf-8")
    target.write_text(original.replace(mutation.old, mutation.new), encoding="utf-8")
    start = time.monotonic()
    try:
        result = fast_suite(tree)
    finally:
        target.write_text(original, encoding="utf-8")
    seconds = time.monotonic() - start
    failed = re.findall(r"^FAILED (\S+)", result.stdout, re.M)
    # Exit 1: tests failed (caught). 0: all passed (missed). Anything else (collection error,
    # crash) means the mutation broke the code rather than weakened it: not a real catch.
    verdict = {1: "caught", 0: "MISSED"}.get(result.returncode,
                                             f"BROKEN (exit {result.returncode})")
    summary = result.stdout.strip().splitlines()
    return {"verdict": verdict, "seconds": seconds,
            "detail": failed[0] if failed else summary[-1] if summary else ""}


def main(argv: list[str]) -> int:
    chosen = [m for m in MUTATIONS if not argv or m.id in argv]
    unknown = set(argv) - {m.id for m in MUTATIONS}
    if unknown:
        print(f"unknown mutation: {', '.join(sorted(unknown))}; have: "
              f"{', '.join(m.id for m in MUTATIONS)}", file=sys.stderr)
        return 2
    stale = [f"{m.id}: its text occurs {n} times in {m.path}, not once" for m in chosen
             if (n := (ROOT / m.path).read_text(encoding="utf-8").count(m.old)) != 1]
    if stale:
        print("\n".join(stale), file=sys.stderr)
        return 2
    jobs = max(1, int(os.environ.get("MUTATE_JOBS", "2")))
    results: dict[str, dict] = {}
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="mutate-") as tmp:
        trees = [Path(tmp, f"tree-{i}") for i in range(jobs)]
        for tree in trees:
            scratch_copy(tree)
        # A catch means something only if the copy passes unmutated.
        start = time.monotonic()
        baseline = fast_suite(trees[0])
        print(f"{'(no mutation)':<28} {'passes' if baseline.returncode == 0 else 'FAILS':<8} "
              f"{time.monotonic() - start:5.0f} s", flush=True)
        if baseline.returncode != 0:
            print(baseline.stdout[-3000:], file=sys.stderr)
            return 2
        queue = list(chosen)

        def worker(tree: Path) -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    mutation = queue.pop(0)
                outcome = run(mutation, tree)
                with lock:
                    results[mutation.id] = outcome
                    print(f"{mutation.id:<28} {outcome['verdict']:<8} "
                          f"{outcome.get('seconds', 0):5.0f} s  {outcome['detail']}", flush=True)

        threads = [threading.Thread(target=worker, args=(t,)) for t in trees]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    print()
    for m in chosen:
        print(f"{results[m.id]['verdict']:<8} {m.id:<28} {m.what}")
    caught = sum(r["verdict"] == "caught" for r in results.values())
    print(f"\n{caught} of {len(chosen)} mutations caught")
    if any(r["verdict"].startswith("BROKEN") for r in results.values()):
        return 2
    return 0 if caught == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
