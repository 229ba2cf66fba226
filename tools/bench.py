"""Benchmark: wall time of `python main.py` (all stacks) as shipped ("fast": lib/core/aws.py's import of
the AWS bindings, the stacks split over one worker process per CPU) against the documented import
style, which runs the bindings package's `__init__` and so loads all of its ~2,100 resource modules,
in Python and in the jsii kernel (with that kernel running, main.py builds in one process). A third
line, "1 worker", is the fast import in one process, to show what each part gives. Where CDK Terrain
is installed (.cdktn/, `make install`), "cdktn" is the same synth on the fork (PLATFORM_CDK=cdktn,
its own environment) and "cdktn documented" the fork with the documented import style: whether the
fork's lazily loaded Python bindings still need lib/core/aws.py.

Runs the styles alternately, RUNS times each (default 5, or $BENCH_RUNS), each in a fresh process
and a fresh temp directory, then prints the medians and the ratio. Numbers, not assertions: the
targets (fast <= 4 s, >= 4x faster) are printed next to them.
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "main.py"
FORK_PYTHON = ROOT / ".cdktn" / "venv" / "bin" / "python"
sys.path.insert(0, str(ROOT))

# Names only: importing lib.core.cdk starts no jsii kernel.
from lib.core.cdk import ENV_CDK, FLAVORS  # noqa: E402


# The same main.py either way. "documented" imports the bindings package the way its README shows
# before main.py runs, so the jsii kernel starts without lib/core/aws_lazy_index.js and the package's
# __init__ runs: both halves of the documented cost. Like main.py's workers, it runs under -O and
# without garbage collection.
def documented(python: str, cdk: str) -> list[str]:
    bindings = FLAVORS[cdk][1]
    return [python, "-O", "-c",
            f"import gc, sys, runpy; gc.disable(); import {bindings}; "
            f"sys.path.insert(0, {str(ROOT)!r}); sys.argv = [{str(MAIN)!r}]; "
            f"runpy.run_path({str(MAIN)!r}, run_name='__main__')"]


COMMANDS = {
    "fast": [sys.executable, str(MAIN)],
    "documented": documented(sys.executable, "cdktf"),
    "cdktn": [str(FORK_PYTHON), str(MAIN)],
    "cdktn documented": documented(str(FORK_PYTHON), "cdktn"),
}


# What the bench runs: a style's command, plus environment variables for it.
RUNS_OF = {"fast": ("fast", {}), "1 worker": ("fast", {"PLATFORM_SYNTH_WORKERS": "1"}),
           "documented": ("documented", {})}
if FORK_PYTHON.exists():
    RUNS_OF.update({style: (style, {ENV_CDK: "cdktn"}) for style in ("cdktn", "cdktn documented")})


def style_env(style: str) -> dict[str, str]:
    """The process environment for a style: no lazy-index preload inherited from the caller."""
    env = dict(os.environ)
    env["NODE_OPTIONS"] = re.sub(r'\s*--require "[^"]*aws_lazy_index\.js"', "",
                                 env.get("NODE_OPTIONS", "")).strip()
    return env


def synth(name: str, outdir: Path) -> float:
    """Run one synth with cwd=outdir (so cdktf.out/ lands there); return seconds of wall time."""
    style, extra_env = RUNS_OF[name]
    start = time.perf_counter()
    subprocess.run(COMMANDS[style], cwd=outdir, env={**style_env(style), **extra_env},
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    times: dict[str, list[float]] = {name: [] for name in RUNS_OF}
    with tempfile.TemporaryDirectory() as tmp:
        synth("fast", Path(tmp))  # warm-up: byte-compile, jsii package cache, OS file cache
        for i in range(runs):
            for name in RUNS_OF:
                outdir = Path(tmp) / f"run-{i}-{name.replace(' ', '-')}"
                outdir.mkdir()
                times[name].append(synth(name, outdir))
        stacks = sorted(p.name for p in (Path(tmp) / "run-0-fast" / "cdktf.out" / "stacks")
                        .iterdir())
    fast, documented = (statistics.median(times[s]) for s in ("fast", "documented"))
    print(f"python main.py, all stacks ({', '.join(stacks)}), {runs} runs each, "
          f"{os.cpu_count()} CPUs")
    for style in RUNS_OF:
        samples = " ".join(f"{t:.2f}" for t in times[style])
        print(f"  {style:<16} median {statistics.median(times[style]):6.2f} s   runs: {samples}")
    print(f"  ratio            {documented / fast:6.2f}x faster with lib/core/aws.py")
    if "cdktn" in times:
        fork, fork_documented = (statistics.median(times[s]) for s in ("cdktn", "cdktn documented"))
        print(f"  cdktn            {fork / fast:6.2f}x the time of cdktf; "
              f"{fork_documented / fork:.2f}x faster with lib/core/aws.py")
    print(f"  targets          fast <= 4.00 s: {'met' if fast <= 4 else 'MISSED'};"
          f"  ratio >= 4x: {'met' if documented / fast >= 4 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
