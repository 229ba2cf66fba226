"""What a plan must never destroy without meaning to: the stateful resource types, and the Aspect
that gives them Terraform's `lifecycle.prevent_destroy`.

One list decides what is stateful (`STATEFUL_TYPES`): `PreventDestroy` protects those types, and
tests/test_stateful.py pins their Terraform addresses in every stack (README, "Stateful
resources"). The two guard different mistakes. prevent_destroy makes Terraform refuse a plan that
destroys or replaces a resource whose block is still in the configuration (`cdktf destroy`, a
changed argument that forces a new resource). It cannot see a renamed construct id: the resource
gets a new address, the old block is gone with its lifecycle, and Terraform plans destroy and
create without complaint (Terraform, "lifecycle" reference: "Terraform destroys the actual
infrastructure ... if you remove the resource's configuration, even if prevent_destroy is
enabled"). The pinned addresses catch that one in CI.

A type is here when destroying it loses what the next apply cannot create again from config.
Not here, on purpose: what config rebuilds identically (roles, security groups, listeners,
distributions, alarms), SNS topics (they hold no messages; an email subscriber confirms again),
the NAT gateways' Elastic IPs (the project publishes no egress address, and `network.nat` is a
cost switch that legitimately removes them).
"""

import jsii
from lib.core.cdk import IAspect, TerraformResource
from constructs import IConstruct

# {Terraform type: what a destroy or replacement loses}
STATEFUL_TYPES: dict[str, str] = {
    "aws_db_instance": "the database (and its replica): automated backups go with it",
    "aws_elasticache_replication_group": "the cache's keys and its automatic snapshots",
    "aws_elasticache_serverless_cache": "the cache's keys and its automatic snapshots",
    "aws_s3_bucket": "every object and every version",
    "aws_cognito_user_pool": "the users, their passwords and MFA devices: no export brings "
                             "them back",
    "aws_kms_key": "a replaced key is scheduled for deletion; what it encrypted (snapshots, "
                   "state versions, logs, messages) becomes unreadable when it goes",
    "aws_secretsmanager_secret": "values set out of band (Terraform creates them empty)",
    "aws_sqs_queue": "the messages waiting in it, dead letters included",
    "aws_dynamodb_table": "the Terraform state lock",
    "aws_cloudtrail": "the account's audit trail: a gap while it is re-created",
    "aws_guardduty_detector": "the findings and their history",
    "aws_ecr_repository": "the images CI pushed, which the running task definitions name",
    # Every log group, not only the security ones (flow logs, WAF, API access, RDS): which one
    # an incident needs is known only afterwards, and its events exist nowhere else.
    "aws_cloudwatch_log_group": "the log events",
    # A zone the stack created: a new one gets new name servers, and the parent zone's
    # delegation (set by hand, README "Deploying") points at the old ones.
    "aws_route53_zone": "the name servers the parent zone delegates to",
}


@jsii.implements(IAspect)
class PreventDestroy:
    """Sets `lifecycle.prevent_destroy` on every resource of a `STATEFUL_TYPES` type in the
    construct it is added to (an Aspect, so a stateful resource added later cannot be missed).
    Merged into the resource's own lifecycle block (`ignore_changes` and the like stay)."""

    def __init__(self):
        # Binding class -> stateful? Reading a resource's type is a round trip to the jsii
        # kernel; every instance of a class has the same type, so each class is asked once.
        self._stateful: dict[type, bool] = {}

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, TerraformResource):
            return
        kind = type(node)
        stateful = self._stateful.get(kind)
        if stateful is None:
            stateful = node.terraform_resource_type in STATEFUL_TYPES
            if kind is not TerraformResource:  # the generic class stands for any type
                self._stateful[kind] = stateful
        if stateful:
            node.add_override("lifecycle.prevent_destroy", True)
