"""`make adopt`: start config/ from a preset of examples/, consistently.

    make adopt PRESET=portfolio PROJECT=acme ACCOUNT=210987654321
    make adopt PRESET=portfolio PROJECT=acme ACCOUNT=210987654321 DOMAIN=acme.com ZONE=Z0123...
    bin/run python tools/adopt.py --preset portfolio --project acme --account 210987654321

Writes config/dev.toml, config/staging.toml, config/prod.toml and config/account.toml: the
preset's design in every environment (a preset with one file per environment, such as rayman,
gives each its own), under one project name and account id. A base file the preset's files
extend (examples/rayman.base.toml) is copied beside them under its own name, and they keep
extending it. dev is disposable: no deletion
protection, no Terraform guard against destroying it. A preset's domain belongs to the seed's
owner, so it never survives: with DOMAIN (and ZONE, the Route 53 zone that answers for it) prod
serves DOMAIN, staging staging.DOMAIN and dev dev.DOMAIN; without it dev and staging serve plain
HTTP on the load balancer's name, and prod, which must serve HTTPS, gets a placeholder under
example.com to replace before its first deploy. A preset's placeholder certificate ARNs (its
Client VPN) move to the adopter's account, placeholders still. Budgets, sizes and everything
else stay as the preset sets them; comments stay too.

Every file is checked as `make synth` would check it before any is written: a mistake prints
one line per problem and writes nothing. Then docs/architecture.md is redrawn and the next
commands are printed.
"""

import argparse
import json
import math
import re
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.config import (ACCOUNT_FILE, CONFIG_DIR, ConfigError, config_files,  # noqa: E402
                        load_account, load_config_dir, load_environments,
                        read_environment_file)

EXAMPLES = ROOT / "examples"
ENVIRONMENTS = ("dev", "staging", "prod")
PLACEHOLDER_ZONE = "Z0123456789EXAMPLE"
HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")
ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_\"-]+)\s*=")


def presets() -> dict[str, dict[str, Path]]:
    """{preset: {environment: its file}}. `<name>-dev.toml` and `<name>-staging.toml` are that
    environment of preset <name>; a preset's other environments come from `<name>.toml`."""
    found: dict[str, dict[str, Path]] = {}
    for path in config_files(EXAMPLES)[0]:
        name, _, env = path.stem.rpartition("-")
        if name and env in ENVIRONMENTS and (EXAMPLES / f"{name}.toml").exists():
            found.setdefault(name, {})[env] = path
        else:
            found.setdefault(path.stem, {})
            found[path.stem]["*"] = path
    return {name: {env: files.get(env, files["*"]) for env in ENVIRONMENTS}
            for name, files in found.items()}


class Toml:
    """A TOML file edited line by line, so its comments stay; only single-line values of plain
    tables are touched, and the result is parsed again by the caller."""

    def __init__(self, text: str):
        self.lines = text.splitlines()

    def _find(self, table: str, key: str) -> int | None:
        current = ""
        for i, line in enumerate(self.lines):
            header = HEADER.match(line)
            if header:
                current = header.group(1)
                continue
            assigned = ASSIGNMENT.match(line)
            if current == table and assigned and assigned.group(1).strip('"') == key:
                return i
        return None

    def set(self, table: str, key: str, value, note: str = "") -> None:
        line = f"{key} = {literal(value)}" + (f"  # {note}" if note else "")
        at = self._find(table, key)
        if at is not None:
            self.lines[at] = line
        elif not table:
            first = next((i for i, text in enumerate(self.lines) if HEADER.match(text)),
                         len(self.lines))
            self.lines.insert(first, line)
        else:
            header = next((i for i, text in enumerate(self.lines)
                           if (m := HEADER.match(text)) and m.group(1) == table
                           and not text.lstrip().startswith("[[")), None)
            if header is None:
                self.lines += ["", f"[{table}]", line]
            else:
                self.lines.insert(header + 1, line)

    def drop(self, table: str, key: str) -> None:
        at = self._find(table, key)
        if at is not None:
            del self.lines[at]

    def drop_values_naming(self, domain: str) -> None:
        """Every single-line assignment whose value (not its comment) names `domain`."""
        self.lines = [line for line in self.lines
                      if not (ASSIGNMENT.match(line) and domain in line.split("#", 1)[0])]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(value)


def registrable(domain: str) -> str:
    """The name its owner registered: the last two labels (the presets' domains are all .com)."""
    return ".".join(domain.split(".")[-2:])


def renamed(match: re.Match, preset_domain: str, target: str) -> str:
    """A name of the preset's registrable domain under `target`: the preset's domain itself and
    names under it (`www.` + domain, ingress.hosts) keep their place relative to it."""
    name = match.group(0)
    if name == preset_domain or name.endswith(f".{preset_domain}"):
        return name.removesuffix(preset_domain) + target
    return match.group(1) + target


def environment_file(source: Path, env: str, args: argparse.Namespace) -> str:
    """The preset's file as config/<env>.toml. Its decisions read what the file says with the
    files it extends; its edits go to the file itself, which overrides them."""
    data = read_environment_file(source).data
    doc = owned(source, args)
    doc.set("", "environment", env)
    profile = data.get("profile", env)
    if env == "dev":  # disposable (the dev profile's defaults): `cdktf destroy dev-stack` works
        if data.get("database", {}).get("deletion_protection"):
            doc.set("database", "deletion_protection", False, "dev is disposable")
        doc.drop("", "prevent_destroy")
    vpn = data.get("access", {}).get("client_vpn", {})
    for key in ("server_certificate_arn", "client_root_certificate_chain_arn"):
        if key in vpn:  # the preset's placeholders, moved to the adopter's account
            arn = vpn[key].split(":")
            doc.set("access.client_vpn", key, ":".join([*arn[:4], args.account, *arn[5:]]),
                    "placeholder: your certificate in ACM (README, \"Client VPN\")")
    if data.get("compute", {}).get("images_pushed"):  # a preset on Lambda shows phase two
        doc.set("compute", "images_pushed", False, "phase one: push each image, then true "
                                                   "(README, \"Lambda\")")
    preset_domain = data.get("ingress", {}).get("domain")
    if args.domain:
        target = args.domain if env == "prod" else f"{env}.{args.domain}"
    elif profile == "prod":  # prod must serve HTTPS: a name to replace, not someone else's
        target = f"{args.project}.example.com"
    else:
        target = None
    if preset_domain:
        base = registrable(preset_domain)
        if target is None:
            for key in ("domain", "hosted_zone_id", "zone_name", "zone_delegated", "hosts",
                        "redirect"):
                doc.drop("ingress", key)
            doc.drop_values_naming(base)
        else:
            named = re.compile(r"\b((?:[a-z0-9-]+\.)*)" + re.escape(base) + r"\b")
            doc.lines = [named.sub(lambda m: renamed(m, preset_domain, target), line)
                         for line in doc.lines]
    if target is not None:
        placeholder = not args.domain
        doc.set("ingress", "domain", target,
                "placeholder: replace before prod's first deploy (make adopt ... DOMAIN= ZONE=)"
                if placeholder else "")
        doc.set("ingress", "hosted_zone_id", args.zone or PLACEHOLDER_ZONE,
                "placeholder: the Route 53 zone of the domain" if placeholder else "")
        doc.drop("ingress", "zone_name")
        doc.drop("ingress", "zone_delegated")
    return doc.text()


def owned(source: Path, args: argparse.Namespace) -> Toml:
    """A preset's file under the adopter's project and account id: set where the file writes
    them, or in the file itself when it extends none (they are required)."""
    own = tomllib.loads(source.read_text())
    doc = Toml(source.read_text())
    for key, value in (("project", args.project), ("account_id", args.account)):
        if key in own or "extends" not in own:
            doc.set("", key, value)
    return doc


def account_file(args: argparse.Namespace, region: str) -> str:
    """config/account.toml: the existing one's settings (baseline, tags, Terraform Cloud) for the
    adopted project and account."""
    existing = CONFIG_DIR / ACCOUNT_FILE
    doc = Toml(existing.read_text() if existing.exists() else "")
    doc.set("", "project", args.project)
    doc.set("", "account_id", args.account)
    doc.set("", "region", region)
    if args.repository:
        doc.set("github", "repository", args.repository)
    return doc.text()


def adopt(args: argparse.Namespace) -> dict[str, str]:
    """{file name: text} of the config files to write. Raises ConfigError."""
    known = presets()
    if args.preset not in known:
        raise ConfigError([f"PRESET: '{args.preset}' is not a preset; presets: "
                           f"{', '.join(sorted(known))} (examples/README.md)"])
    if args.domain and not args.zone:
        raise ConfigError(["ZONE: needed with DOMAIN: the id of the Route 53 hosted zone that "
                           f"answers for {args.domain} (`aws route53 list-hosted-zones-by-name "
                           f"--dns-name {args.domain}`), where prod's certificate is validated"])
    files = {f"{env}.toml": environment_file(path, env, args)
             for env, path in known[args.preset].items()}
    for path in known[args.preset].values():
        for base in read_environment_file(path).chain[1:]:  # `extends` names it beside the file
            files[base.name] = owned(base, args).text()
    region = read_environment_file(known[args.preset]["prod"]).data.get("region", "us-east-1")
    files[ACCOUNT_FILE] = account_file(args, region)
    check(files, args)
    return files


def fit_budgets(files: dict[str, str]) -> list[str]:
    """A design whose estimate is over the budget its file would have (a prod preset's dev
    under the dev profile's $80) gets the estimate plus a quarter, rounded up to $10, as its
    `cost.monthly_budget_usd`, said in a comment: the budget then guards against growth, as
    `make cost` and `make test` check it. Returns one line per budget set."""
    from lib.analysis.cost import estimate
    from lib.analysis.cost_report import Row
    from lib.analysis.pricing import load_prices
    from stacks.app import synthesize

    notes = []
    with tempfile.TemporaryDirectory(prefix="adopt-cost-") as tmp:
        write(files, Path(tmp))
        paths = config_files(Path(tmp))[0]
        stacks = {d.name: d for d in synthesize(Path(tmp) / "out", paths)}
        prices = load_prices()
        for path, config in zip(paths, load_environments(paths)):
            document = json.loads((stacks[config.stack_name] / "cdk.tf.json").read_text())
            total = estimate(config.stack_name, document, prices).total
            budget = config.cost.monthly_budget_usd
            if Row(config.stack_name, total, budget).over_by_usd is None:  # within it
                continue
            fitted = math.ceil(total * 1.25 / 10) * 10
            doc = Toml(files[path.name])
            doc.set("cost", "monthly_budget_usd", fitted,
                    f"make adopt: this design's estimate (${total:,.2f}) and a quarter more; "
                    f"${budget:,.0f} was the budget")
            files[path.name] = doc.text()
            notes.append(f"config/{path.name}: cost.monthly_budget_usd = {fitted}: the estimate "
                         f"is ${total:,.2f} a month, over the ${budget:,.0f} this file had")
    return notes


def check(files: dict[str, str], args: argparse.Namespace) -> None:
    """Load config/ as it would be after writing `files`, with `make synth`'s rules; the problems
    name config/<file>. Also: dev is disposable."""
    with tempfile.TemporaryDirectory(prefix="adopt-") as tmp:
        scratch = Path(tmp)
        kept = [p for p in CONFIG_DIR.glob("*.toml") if p.name not in files]
        for path in kept:
            (scratch / path.name).write_text(path.read_text())
        write(files, scratch)
        try:
            environments, _ = load_config_dir(scratch)
        except ConfigError as err:
            raise ConfigError([line.replace(str(scratch), "config") for line in err.problems]) \
                from None
    [dev] = [env for env in environments if env.environment == "dev"]
    if dev.database.deletion_protection or dev.prevent_destroy:  # the preset's edits missed one
        raise ConfigError([f"config/dev.toml: dev must stay disposable, and preset "
                           f"{args.preset} keeps it from being destroyed: report this"])


def parser() -> argparse.ArgumentParser:
    parsed = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parsed.add_argument("--preset", required=True, help="an examples/ preset, e.g. portfolio")
    parsed.add_argument("--project", required=True, help="your project's name")
    parsed.add_argument("--account", required=True, help="your AWS account id (12 digits)")
    parsed.add_argument("--domain", default="", help="prod's domain (with --zone)")
    parsed.add_argument("--zone", default="", help="the Route 53 zone id of --domain")
    parsed.add_argument("--repository", default="",
                        help="owner/name of the GitHub repository that deploys (account.toml)")
    return parsed


def arguments(preset: str, project: str, account: str, **options: str) -> argparse.Namespace:
    """The arguments of `make adopt PRESET= PROJECT= ACCOUNT= ...` (options: domain, zone,
    repository), as the command line gives them."""
    return parser().parse_args([f"--preset={preset}", f"--project={project}",
                                f"--account={account}",
                                *(f"--{key}={value}" for key, value in options.items())])


def write(files: dict[str, str], directory: Path) -> None:
    """The adopted files into `directory` (config/, or a scratch copy of it)."""
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        files = adopt(args)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    notes = fit_budgets(files)
    write(files, CONFIG_DIR)
    print(f"wrote config/{', config/'.join(files)} from examples/ preset {args.preset} "
          f"(project {args.project}, account {args.account})")
    print("\n".join(notes) or "every environment's estimate is within its budget")
    from tools import diagram
    diagram.main([])
    github = load_account(CONFIG_DIR / ACCOUNT_FILE).github
    if github is not None and not args.repository:
        print(f"config/account.toml: github.repository stays {github.repository}, the one "
              f"repository whose workflows may deploy (REPOSITORY=owner/name to change it)")
    print("next:\n"
          "  make test         the product's tests and the checks of your config/\n"
          "  make cost         the monthly estimate of each stack against its budget\n"
          "  bin/cdktf deploy bootstrap-stack   then dev-stack: docs/first-deploy.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
