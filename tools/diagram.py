"""`make diagram`: docs/architecture.md, one Mermaid diagram per environment in config/ and one of
the bootstrap stack (config/account.toml), drawn from the synthesized JSON
(lib/analysis/diagram.py).

    bin/run python tools/diagram.py            write docs/architecture.md
    bin/run python tools/diagram.py --check    exit 1 if the committed file is stale
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.config import CONFIG_DIR, ConfigError, config_files, load_environments  # noqa: E402
from lib.analysis.diagram import document  # noqa: E402

OUTPUT = ROOT / "docs" / "architecture.md"
ACCOUNT = CONFIG_DIR / "account.toml"
BOOTSTRAP = "bootstrap-stack"
PROFILE_ORDER = ("dev", "lean", "staging", "prod")


def environments() -> list[tuple[Path, str]]:
    """(file, stack name) of config/*.toml but the account files, dev first and prod last."""
    paths = config_files(CONFIG_DIR)[0]
    configs = dict(zip(paths, load_environments(paths)))
    ordered = sorted(paths, key=lambda p: (PROFILE_ORDER.index(configs[p].profile),
                                           configs[p].environment))
    return [(p, configs[p].stack_name) for p in ordered]


def render(stack_dirs: dict[str, Path]) -> str:
    return document({name: json.loads((d / "cdk.tf.json").read_text())
                     for name, d in stack_dirs.items()})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    from stacks.app import synthesize

    try:
        envs = environments()
        names = [name for _, name in envs] + [BOOTSTRAP]
        with tempfile.TemporaryDirectory(prefix="diagram-") as tmp:
            dirs = {d.name: d for d in synthesize(Path(tmp), [p for p, _ in envs],
                                                  account=ACCOUNT)}
            text = render({name: dirs[name] for name in names})
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run `make diagram`", file=sys.stderr)
            return 1
        print(f"{OUTPUT.relative_to(ROOT)} is current")
        return 0
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
