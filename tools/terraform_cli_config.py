"""Write the project-local Terraform CLI config (`.terraformrc`, ignored by git).

Terraform needs the hashicorp/aws provider. Where the registry is unreachable, it can install it from
a filesystem mirror (a directory holding `registry.terraform.io/hashicorp/aws/<version>/<os_arch>/`).
The mirror is taken from $PLATFORM_PROVIDER_MIRROR when set, otherwise looked for in Terraform's own
implied mirror directories and, one or two levels down, under /opt and /usr/local. Without a mirror the
config lets Terraform download from the registry as usual.

The project's commands (bin/run) point TF_CLI_CONFIG_FILE at the written file, so a user's global
Terraform config (or a TF_CLI_CONFIG_FILE pointing at a file that does not exist) cannot interfere.
They also load `.terraform.env`, written here too: `terraform providers lock`, which the cdktf CLI
runs on a stack's first init, ignores the CLI config's mirrors and needs `-fs-mirror` to work offline.

Stdlib only: it runs before the project's virtualenv exists.
"""

import glob
import os
import platform
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / ".terraformrc"
ENV_FILE = ROOT / ".terraform.env"
PLUGIN_CACHE = ROOT / ".terraform-plugin-cache"
ENV_MIRROR = "PLATFORM_PROVIDER_MIRROR"
PROVIDER = "registry.terraform.io/hashicorp/aws"
# The hashicorp/aws version the prebuilt bindings (cdktf-cdktf-provider-aws 20.1.0) are made for;
# tests/test_stacks.py checks the synthesized required_providers agrees.
PROVIDER_VERSION = "5.100.0"


def os_arch() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine)
    return f"{platform.system().lower()}_{arch}"


def holds_provider(mirror: Path) -> bool:
    return (mirror / PROVIDER / PROVIDER_VERSION / os_arch()).is_dir()


def implied_mirrors() -> list[Path]:
    """Terraform's own implied local mirror directories on Unix, in its search order."""
    home = Path.home()
    data_home = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    data_dirs = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    return [home / ".terraform.d" / "plugins", data_home / "terraform" / "plugins",
            *(Path(d) / "terraform" / "plugins" for d in data_dirs.split(":") if d)]


def discover() -> Path | None:
    for candidate in implied_mirrors():
        if holds_provider(candidate):
            return candidate
    for root in ("/opt", "/usr/local"):
        for depth in ("*", "*/*"):
            pattern = os.path.join(root, depth, PROVIDER)
            for found in sorted(glob.glob(pattern)):
                mirror = Path(found).parents[len(Path(PROVIDER).parts) - 1]
                if holds_provider(mirror):
                    return mirror
    return None


def render(mirror: Path | None) -> str:
    lines = [
        "# Written by tools/terraform_cli_config.py (make install); machine-specific, not committed.",
        f'plugin_cache_dir = "{PLUGIN_CACHE}"',
        # Since Terraform 1.4 a cache entry the working directory's lock file does not list
        # (cdktf.out has none, and lock files are not committed here) is not used: init
        # installs the provider again and rewrites the shared entry, while another terraform
        # (a parallel local deploy cycle, a test's validate) may be starting that very binary:
        # "Failed to load plugin schemas" (hashicorp/terraform#32129; "Provider Plugin Cache"
        # in the CLI configuration docs). The lock files written instead list this platform's
        # h1 checksum only, which is all a filesystem mirror gives anyway.
        "plugin_cache_may_break_dependency_lock_file = true",
    ]
    if mirror is None:
        lines.append("# No provider mirror found: providers come from the registry.")
    else:
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f'    path    = "{mirror}"',
            f'    include = ["{PROVIDER}"]',
            "  }",
            "  direct {",
            f'    exclude = ["{PROVIDER}"]',
            "  }",
            "}",
        ]
    return "\n".join(lines) + "\n"


def write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def main() -> int:
    configured = os.environ.get(ENV_MIRROR, "").strip()
    if configured:
        mirror: Path | None = Path(configured).expanduser().resolve()
        if not holds_provider(mirror):
            print(f"${ENV_MIRROR}: {mirror} has no {PROVIDER}/{PROVIDER_VERSION}/{os_arch()}/; "
                  "point it at the directory that contains registry.terraform.io/",
                  file=sys.stderr)
            return 2
    else:
        mirror = discover()
    PLUGIN_CACHE.mkdir(exist_ok=True)
    write_if_changed(CONFIG_FILE, render(mirror))
    lock_args = f"-fs-mirror={mirror}" if mirror else ""
    write_if_changed(ENV_FILE, f"TF_CLI_ARGS_providers_lock={shlex.quote(lock_args)}\n")
    source = f"mirror {mirror}" if mirror else "the Terraform registry (no local mirror found)"
    print(f"terraform: {CONFIG_FILE.name} uses {source} for hashicorp/aws {PROVIDER_VERSION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
