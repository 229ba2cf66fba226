"""Constructs and the config schema of the AWS web platform (docs/design.md: the layering rules).

Importing this package also arms the Node.js half of the fast AWS import (see lib/core/aws.py): the jsii
kernel, which starts with the process's first `import cdktf`, gets lib/core/aws_lazy_index.js preloaded
through NODE_OPTIONS. Import `lib` before `cdktf` (main.py and the tests do); if cdktf comes first
the synthesized output is the same, only slower.
"""

import os
from pathlib import Path

_PRELOAD = f'--require "{Path(__file__).parent / "core" / "aws_lazy_index.js"}"'
if _PRELOAD not in os.environ.get("NODE_OPTIONS", ""):
    os.environ["NODE_OPTIONS"] = f'{os.environ.get("NODE_OPTIONS", "")} {_PRELOAD}'.strip()
