"""`make cost`: a monthly estimate per stack from what the project synthesizes.

    bin/run python tools/cost.py                  config/*.toml, bootstrap and examples/*.toml
    bin/run python tools/cost.py --json           the same, machine-readable (for CI)
    bin/run python tools/cost.py examples/x.toml  only the given environment files
    bin/run python tools/cost.py --stacks cdktf.out   stacks already synthesized

Exit status 1 when a stack whose profile has a budget (lib/cost.py BUDGETS: dev $80, lean $40)
is over it; 2 on a config mistake.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.config import ConfigError, config_paths, load_environments  # noqa: E402
from lib.cost import BUDGETS, PRICES_FILE, as_json, as_table, estimate, load_prices  # noqa: E402

EXAMPLES = ROOT / "examples"
ACCOUNT = ROOT / "config" / "account.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", type=Path, help="environment files (default: "
                        "config/*.toml and examples/*.toml)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--prices", type=Path, default=PRICES_FILE, help="the price file")
    parser.add_argument("--stacks", type=Path, help="estimate this cdktf.out (or one stack "
                        "directory) instead of synthesizing")
    args = parser.parse_args(argv)
    prices = load_prices(args.prices)
    try:
        if args.stacks:
            directories = _stack_dirs(args.stacks)
            budgets: dict[str, float] = {}
            stacks = _read(directories)
        else:
            paths = args.configs or config_paths() + sorted(EXAMPLES.glob("*.toml"))
            configs = load_environments(paths)
            budgets = {c.stack_name: BUDGETS[c.profile] for c in configs if c.profile in BUDGETS}
            stacks = _synthesize(paths, with_bootstrap=not args.configs)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    estimates = [estimate(name, document, prices) for name, document in stacks.items()]
    if args.json:
        print(json.dumps(as_json(estimates, prices, budgets), indent=2))
    else:
        print(as_table(estimates, prices, budgets))
    over = [e.stack for e in estimates if e.stack in budgets and e.total > budgets[e.stack]]
    if over:
        print(f"over budget: {', '.join(over)}", file=sys.stderr)
    return 1 if over else 0


def _stack_dirs(path: Path) -> list[Path]:
    if (path / "cdk.tf.json").is_file():
        return [path]
    return sorted(d for d in (path / "stacks").iterdir() if (d / "cdk.tf.json").is_file())


def _read(directories: list[Path]) -> dict[str, dict]:
    return {d.name: json.loads((d / "cdk.tf.json").read_text()) for d in directories}


def _synthesize(paths: list[Path], with_bootstrap: bool) -> dict[str, dict]:
    from lib.synth import synthesize

    with tempfile.TemporaryDirectory(prefix="cost-") as tmp:
        # Environments from several directories may share a name (config/dev.toml and a preset
        # called dev): one synth per directory keeps their stacks apart.
        stacks: dict[str, dict] = {}
        for directory in sorted({p.parent for p in paths}):
            group = [p for p in paths if p.parent == directory]
            account = ACCOUNT if with_bootstrap and directory == ROOT / "config" else None
            out = Path(tmp) / str(len(stacks))
            for d in synthesize(out, group, account=account):
                stacks[d.name] = json.loads((d / "cdk.tf.json").read_text())
        return stacks


if __name__ == "__main__":
    sys.exit(main())
