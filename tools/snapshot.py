"""Proof for a refactor: every synthesized file, byte for byte, before and after.

    bin/run python tools/snapshot.py write DIR     synthesize everything into DIR
    bin/run python tools/snapshot.py compare DIR   synthesize again and compare with DIR

"Everything" is what the project ships and tests: config/ with the bootstrap stack for the aws,
offline and local targets, every preset in examples/ and every fixture in tests/fixtures/ (not the
*.base.toml files they extend, which are in their JSON), each file in its own app (presets share
environment names). All of it in one process (one jsii kernel), so a full snapshot takes well
under a minute. `compare` exits 1 and names each file that
differs, is new or is gone.
"""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stacks.app import synthesize  # noqa: E402  (arms the fast AWS import before cdktf loads)
from lib.config import config_files  # noqa: E402

# The local target's endpoint is part of its JSON: one fixed value, whatever the caller's shell.
LOCAL_ENDPOINT = "http://127.0.0.1:4566"


def cases() -> dict[str, tuple[list[Path], str, Path | None]]:
    """{label: (environment files, target, account file or None)}."""
    config = config_files(ROOT / "config")[0]
    account = ROOT / "config" / "account.toml"
    found = {f"config-{target}": (config, target, account)
             for target in ("aws", "offline", "local")}
    for folder in ("examples", "tests/fixtures"):
        for path in config_files(ROOT / folder)[0]:
            found[f"{folder.replace('/', '-')}-{path.stem}"] = ([path], "aws", None)
    return found


def write(out: Path) -> dict[str, bytes]:
    """Synthesize every case under `out`; return {relative path: content}."""
    os.environ["PLATFORM_LOCAL_ENDPOINT"] = LOCAL_ENDPOINT
    files = {}
    for label, (paths, target, account) in cases().items():
        synthesize(out / label, paths, target, account)
        for path in sorted((out / label).rglob("*")):
            if path.is_file():
                files[path.relative_to(out).as_posix()] = path.read_bytes()
    return files


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("write", "compare"):
        print(__doc__.strip().splitlines()[2:4], file=sys.stderr)
        return 2
    command, directory = argv[0], Path(argv[1]).resolve()
    if command == "write":
        files = write(directory)
        print(f"{len(files)} files in {len(cases())} cases written to {directory}")
        return 0
    before = {p.relative_to(directory).as_posix(): p.read_bytes()
              for p in sorted(directory.rglob("*")) if p.is_file()}
    with tempfile.TemporaryDirectory() as scratch:
        after = write(Path(scratch))
    problems = [f"differs: {name}" for name in sorted(before.keys() & after.keys())
                if before[name] != after[name]]
    problems += [f"new: {name}" for name in sorted(after.keys() - before.keys())]
    problems += [f"gone: {name}" for name in sorted(before.keys() - after.keys())]
    for problem in problems:
        print(problem)
    print(f"{len(after)} files compared with {directory}: "
          f"{'byte-identical' if not problems else f'{len(problems)} differences'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
