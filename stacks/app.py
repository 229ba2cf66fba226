"""Building the stacks into CDKTF apps, two ways:

- `synthesize`, in this process: the tests, `make cost` and `make diagram` share one jsii kernel per
  process instead of running `python main.py` each.
- `synthesize_in_workers`, for `python main.py`: the stacks are independent (no cross-stack
  references), so they are split round-robin over forked worker processes, one per CPU. A synth
  is a ping-pong between Python and the jsii kernel's Node.js process, so one process leaves part
  of a second core idle (`make bench` shows what the workers give). Each worker writes to a
  directory of its own; only when every worker succeeded are the stacks moved into the output
  directory and one manifest written for all of them, so a failure changes nothing there.
"""

import atexit
import gc
import json
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

from lib.config import (AccountConfig, EnvironmentConfig, Target, check_accounts, load_account,
                        load_environments, load_local_endpoint)
from lib.core import cdk

# A stack to build: the account's bootstrap stack, or one environment.
StackConfig = AccountConfig | EnvironmentConfig

MANIFEST = "manifest.json"


def add_stacks(app, stacks: list[StackConfig], environments: list[EnvironmentConfig],
               target: Target, endpoint: str | None) -> None:
    """Add `stacks` to `app`. A bootstrap stack is built for all of `environments`."""
    from stacks.bootstrap import BootstrapStack
    from stacks.environment import EnvironmentStack

    for stack in stacks:
        if isinstance(stack, AccountConfig):
            BootstrapStack(app, stack, environments, target, endpoint)
        else:
            EnvironmentStack(app, stack, target, endpoint)


def synthesize(outdir: Path, config_paths: list[Path], target: str = "aws",
               account: Path | list[Path] | None = None,
               environment_stacks: bool = True) -> list[Path]:
    """Write one stack per environment file (and, with `account`, the bootstrap stack of each
    account file for them) under `outdir`/stacks, in this process; return the stack
    directories, sorted. `environment_stacks=False` writes the bootstrap stacks alone (they need
    the environments' config, not their stacks). Raises ConfigError."""
    environments = load_environments(config_paths)
    accounts = [] if account is None else [account] if isinstance(account, Path) else account
    stacks: list[StackConfig] = [load_account(path) for path in accounts]
    if stacks:
        check_accounts(environments, stacks)
    outdir.mkdir(parents=True, exist_ok=True)
    _build(outdir, stacks + (environments if environment_stacks else []), environments,
           Target(target), load_local_endpoint() if target == "local" else None)
    return sorted((outdir / "stacks").iterdir())


def synthesize_in_workers(outdir: Path, stacks: list[StackConfig],
                          environments: list[EnvironmentConfig], target: Target,
                          endpoint: str | None, workers: int) -> int:
    """Write `stacks` under `outdir` (stacks/<name>/ and manifest.json, as `App.synth` does) with up
    to `workers` forked processes. Returns the exit code: 0, or 1 when a worker failed (its
    traceback is on stderr, and `outdir` is left as it was).

    Where the CDK core (cdktf, or cdktn: lib/core/cdk.py) is already imported, its jsii kernel is
    running and a forked process cannot have one of its own, so the stacks are built in this
    process instead (and so where os.fork is missing)."""
    in_process = cdk.CORE in sys.modules or not hasattr(os, "fork")
    shares = [stacks] if in_process else \
        [stacks[i::workers] for i in range(min(workers, len(stacks)))]
    outdir.parent.mkdir(parents=True, exist_ok=True)
    # Beside `outdir`, on the same file system, so the stacks are moved, not copied. Not a
    # TemporaryDirectory: its clean-up runs at exit, and so in every worker that exits.
    scratch = Path(tempfile.mkdtemp(prefix=".synth-", dir=outdir.parent))
    try:
        parts = [scratch / str(i) for i in range(len(shares))]
        if in_process:
            _build(parts[0], stacks, environments, target, endpoint)
        else:
            pids = [_fork_worker(part, share, environments, target, endpoint)
                    for part, share in zip(parts, shares)]
            failed = [pid for pid in pids
                      if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0]
            if failed:
                print(f"synth failed in {len(failed)} of {len(pids)} worker processes (see above);"
                      f" {outdir} was not changed", file=sys.stderr)
                return 1
        _merge(parts, outdir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def _build(part: Path, share: list[StackConfig], environments: list[EnvironmentConfig],
           target: Target, endpoint: str | None) -> None:
    from lib.core.cdk import App

    app = App(outdir=str(part))
    add_stacks(app, share, environments, target, endpoint)
    app.synth()


def _fork_worker(part: Path, share: list[StackConfig], environments: list[EnvironmentConfig],
                 target: Target, endpoint: str | None) -> int:
    """Start a process that synthesizes `share` into `part`; return its pid. The process imports
    the CDK core itself, and so starts a jsii kernel of its own."""
    pid = os.fork()
    if pid:
        return pid
    # A worker lives for seconds and leaves with os._exit: the garbage collector would only walk
    # the bindings' objects over and over (about 5% of a synth, more while importing them).
    gc.disable()
    code = 1
    try:
        _build(part, share, environments, target, endpoint)
        code = 0
    except BaseException:  # noqa: BLE001  (this process's only report is its traceback)
        traceback.print_exc()
    finally:
        atexit._run_exitfuncs()  # stops the jsii kernel, which removes its temporary files
        sys.stdout.flush()
        sys.stderr.flush()
        # Skips the interpreter's teardown of the bindings' objects: half a second, nothing to do.
        os._exit(code)


def _merge(parts: list[Path], outdir: Path) -> None:
    """Move every part's stack files into `outdir` (files already there but not written this time,
    such as a stack's .terraform/, stay, as with `App.synth`) and write one manifest for all."""
    manifest: dict = {"stacks": {}}
    for part in parts:
        written = json.loads((part / MANIFEST).read_text())
        manifest["version"] = written["version"]
        manifest["stacks"].update(written["stacks"])
        for source in sorted((part / "stacks").rglob("*")):
            if source.is_file():
                destination = outdir / source.relative_to(part)
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, destination)
    (outdir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
