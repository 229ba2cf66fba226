"""Synthesize environment files into a directory, in this process: the tests, `make cost` and
`make diagram` share one jsii kernel per process instead of running `python main.py` each."""

from pathlib import Path

import lib  # noqa: F401  (before any cdktf import: arms the fast AWS import, see lib/__init__.py)


def synthesize(outdir: Path, config_paths: list[Path], target: str = "aws",
               account: Path | None = None) -> list[Path]:
    """Write one stack per environment file (and, with `account`, the bootstrap stack for them)
    under `outdir`/stacks; return the stack directories, sorted. Raises ConfigError."""
    from cdktf import App

    from lib.config import Target, load_account, load_environments, load_local_endpoint
    from stacks.bootstrap import BootstrapStack
    from stacks.environment import EnvironmentStack

    configs = load_environments(config_paths)
    outdir.mkdir(parents=True, exist_ok=True)
    app = App(outdir=str(outdir))
    endpoint = load_local_endpoint() if target == "local" else None
    if account is not None:
        BootstrapStack(app, load_account(account), configs, Target(target), endpoint)
    for config in configs:
        EnvironmentStack(app, config, Target(target), endpoint)
    app.synth()
    return sorted((outdir / "stacks").iterdir())
