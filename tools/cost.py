"""`make cost`: a monthly estimate per stack from what the project synthesizes, opening with a
summary (stack, total, budget, verdict).

    bin/run python tools/cost.py                  config/*.toml, bootstrap and examples/*.toml
    bin/run python tools/cost.py --json           the same, machine-readable (for CI)
    bin/run python tools/cost.py examples/x.toml  only the given environment files
                                                  (make cost CONFIG=examples/x.toml)
    bin/run python tools/cost.py --stacks cdktf.out   stacks already synthesized, with the
                                                  budgets of the environments that built them

Exit status 1 when a stack is over its environment's budget (`[cost] monthly_budget_usd`, which
every profile sets: dev $80, lean $30, staging $350, prod $650); 2 on a config mistake.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.config import ConfigError, config_files, config_paths, load_environments  # noqa: E402
from lib.analysis.cost import estimate  # noqa: E402
from lib.analysis.cost_report import as_json, as_table, summary  # noqa: E402
from lib.analysis.pricing import PRICES_FILE, load_prices  # noqa: E402

EXAMPLES = ROOT / "examples"
ACCOUNT = ROOT / "config" / "account.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", type=Path, help="environment files (default: "
                        "config/*.toml and examples/*.toml)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--prices", type=Path, default=PRICES_FILE, help="the price file")
    parser.add_argument("--stacks", type=Path, help="estimate this cdktf.out (or one stack "
                        "directory) instead of synthesizing; budgets from $PLATFORM_CONFIG or "
                        "config/*.toml, by stack name")
    args = parser.parse_args(argv)
    prices = load_prices(args.prices)
    try:
        if args.stacks:
            stacks = _read(_stack_dirs(args.stacks))
            # The environments main.py would synthesize: the ones that built these stacks. With
            # none, the summary says "no budget" for each stack.
            paths = config_paths()
            budgets = {c.stack_name: c.cost.monthly_budget_usd
                       for c in (load_environments(paths) if paths else [])}
        else:
            environments = [] if args.configs else config_paths()
            singles = args.configs or config_files(EXAMPLES)[0]
            stacks, budgets = _synthesize(environments, singles)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    estimates = [estimate(name, document, prices) for name, document in stacks.items()]
    if args.json:
        print(json.dumps(as_json(estimates, prices, budgets), indent=2))
    else:
        print(as_table(estimates, prices, budgets))
    over = [row.stack for row in summary(estimates, budgets) if row.over_by_usd is not None]
    if over:
        print(f"over budget: {', '.join(over)}", file=sys.stderr)
    return 1 if over else 0


def _stack_dirs(path: Path) -> list[Path]:
    if (path / "cdk.tf.json").is_file():
        return [path]
    return sorted(d for d in (path / "stacks").iterdir() if (d / "cdk.tf.json").is_file())


def _read(directories: list[Path]) -> dict[str, dict]:
    return {d.name: json.loads((d / "cdk.tf.json").read_text()) for d in directories}


def _synthesize(environments: list[Path], singles: list[Path]
                ) -> tuple[dict[str, dict], dict[str, float]]:
    """({label: stack JSON}, {label: budget}). `environments` (config/) are synthesized together
    with the bootstrap stack and labelled by stack name; each of `singles` on its own (presets
    share environment names) and labelled by its file, e.g. examples/lean."""
    from stacks.app import synthesize

    stacks: dict[str, dict] = {}
    budgets: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="cost-") as tmp:
        groups = [(environments, None)] if environments else []
        groups += [([path], _label(path)) for path in singles]
        for index, (paths, label) in enumerate(groups):
            configs = load_environments(paths)
            account = ACCOUNT if label is None else None
            for d in synthesize(Path(tmp) / str(index), paths, account=account):
                stacks[label or d.name] = json.loads((d / "cdk.tf.json").read_text())
            for c in configs:
                budgets[label or c.stack_name] = c.cost.monthly_budget_usd
    return stacks, budgets


def _label(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT).with_suffix("")) if path.is_relative_to(ROOT) \
        else path.stem


if __name__ == "__main__":
    sys.exit(main())
