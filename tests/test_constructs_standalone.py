"""Every example of docs/constructs.md, run as written in a bare stack: a construct works in anyone's
CDKTF app, without this project's config or stacks, and the docs cannot go stale."""

import ast
import json
import re

import pytest

from conftest import ROOT

DOC = ROOT / "docs" / "constructs.md"
EXAMPLE = re.compile(r"<!-- synthesizes: (?P<types>[^>]*?) -->\n```python\n(?P<code>.*?)```",
                     re.S)
ACCOUNT = "123456789012"


def examples() -> list[tuple[str, list[str], str]]:
    """(heading, resource types it must synthesize, code) per example, in document order."""
    text = DOC.read_text()
    found = []
    for match in EXAMPLE.finditer(text):
        heading = re.findall(r"^## (.+)$", text[:match.start()], re.M)[-1]
        types = [t for t in match["types"].split() if t.startswith("aws_")]
        found.append((heading, types, match["code"]))
    return found


def test_the_document_has_an_example_per_layer():
    headings = " ".join(h for h, _, _ in examples())
    for layer in ("lib/core", "lib/network", "lib/data", "lib/compute", "lib/identity",
                  "lib/edge", "lib/serverless", "lib/observability", "lib/delivery"):
        assert f"`{layer}`" in headings, layer


@pytest.mark.parametrize("heading,types,code", examples(), ids=[h for h, _, _ in examples()])
def test_example_synthesizes_alone(heading, types, code, tmp_path):
    imports = {node.module for node in ast.walk(ast.parse(code))
               if isinstance(node, ast.ImportFrom)}
    assert not {m for m in imports if m.startswith(("lib.config", "stacks"))}, \
        "an example must not need the project's config or stacks"

    # A relative outdir is resolved by the jsii kernel, whose working directory is where this
    # process started: the example writes to this test's directory instead.
    assert code.count('App(outdir="cdktf.out")') == 1
    code = code.replace('App(outdir="cdktf.out")', f"App(outdir={str(tmp_path)!r})")
    exec(compile(code, f"{DOC.name}: {heading}", "exec"), {"__name__": "__main__"})
    [stack_dir] = (tmp_path / "stacks").iterdir()
    document = json.loads((stack_dir / "cdk.tf.json").read_text())
    resources = document.get("resource", {})
    assert sorted(set(types) - set(resources)) == []

    # What a reviewer checks whatever the construct: the account guard, and everything that
    # stores data encrypted and private.
    [provider] = document["provider"]["aws"]
    assert provider["allowed_account_ids"] == [ACCOUNT]
    for key in resources.get("aws_kms_key", {}).values():
        assert key["enable_key_rotation"] is True
    for db in resources.get("aws_db_instance", {}).values():
        assert db["storage_encrypted"] is True and db["publicly_accessible"] is False
        assert db["manage_master_user_password"] is True and "password" not in db
    blocks = resources.get("aws_s3_bucket_public_access_block", {}).values()
    assert len(blocks) == len(resources.get("aws_s3_bucket", {}))
    for block in blocks:
        assert all(block[flag] is True for flag in ("block_public_acls", "block_public_policy",
                                                    "ignore_public_acls",
                                                    "restrict_public_buckets"))
    for queue in resources.get("aws_sqs_queue", {}).values():
        assert queue["sqs_managed_sse_enabled"] is True
