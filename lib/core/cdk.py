"""Which CDK the project is built with, the one module that names the packages.

- ``cdktf`` (the default): CDK for Terraform 0.21 and its prebuilt AWS bindings
  (cdktf-cdktf-provider-aws 20.1.0, hashicorp/aws 5.100.0). HashiCorp archived CDKTF in December
  2025; this is what the project is tested and validated against.
- ``cdktn``: CDK Terrain, the fork (``import cdktn``, the same classes, ``cdktf.json``, output
  layout and logical ids) and its bindings (cdktn-provider-aws 25.x, hashicorp/aws 6.x), chosen
  with PLATFORM_CDK=cdktn; bin/run then runs the fork's own environment (.cdktn/, from
  ``make install``). README, "CDK Terrain (cdktn)".

Everything else imports the core's classes from here (``from lib.core.cdk import TerraformStack``)
and the AWS bindings through lib.core.aws. The core is imported on first use of one of its names,
not with this module: ``python main.py`` forks its synth workers before any jsii kernel runs
(stacks/app.py), so reading ``CORE`` must not start one.
"""

import importlib
import os

ENV_CDK = "PLATFORM_CDK"
# name: (core package, AWS bindings package, the bindings' npm package in the jsii kernel,
#        the hashicorp/aws major version the bindings are generated from)
FLAVORS = {
    "cdktf": ("cdktf", "cdktf_cdktf_provider_aws", "@cdktf/provider-aws", 5),
    "cdktn": ("cdktn", "cdktn_provider_aws", "@cdktn/provider-aws", 6),
}
NAME = os.environ.get(ENV_CDK, "").strip() or "cdktf"
if NAME not in FLAVORS:
    raise SystemExit(f"{ENV_CDK}={NAME!r}: must be one of {', '.join(FLAVORS)} (README, "
                     f"\"CDK Terrain (cdktn)\")")
CORE, BINDINGS, BINDINGS_NPM, AWS_MAJOR = FLAVORS[NAME]

# The core's names the project uses; both packages export each of them.
_CORE_NAMES = frozenset({
    "App", "Aspects", "AssetType", "CloudBackend", "Fn", "IAspect", "LocalBackend",
    "NamedCloudWorkspace", "Postcondition", "S3Backend", "TerraformAsset", "TerraformLocal",
    "TerraformOutput", "TerraformProvider", "TerraformResource", "TerraformResourceLifecycle",
    "TerraformStack",
})


def __getattr__(name: str) -> object:
    if name in _CORE_NAMES:
        return getattr(importlib.import_module(CORE), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
