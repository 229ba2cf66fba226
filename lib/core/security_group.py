"""A security group that admits one TCP port (or one range) from named security groups and
nothing else."""

from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming


def port_only_from_groups(scope: Construct, naming: Naming, component: str, vpc_id: str,
                          port: int, source_group_ids: list[str], description: str,
                          to_port: int | None = None) -> str:
    """Create `<project>-<env>-<component>`: ingress `port` (to `to_port`, when given) from each
    source group, no CIDR ingress, no egress (the stores it guards only answer). Returns the
    group id."""
    sg = aws.security_group.SecurityGroup(
        scope, "sg", name=naming.name(component), vpc_id=vpc_id, description=description,
        tags=naming.tags(component))
    sg_id: str = sg.id
    ports = f"{port}-{to_port}" if to_port else f"port {port}"
    for i, source in enumerate(source_group_ids):
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            scope, f"ingress-{i}", security_group_id=sg_id, ip_protocol="tcp", from_port=port,
            to_port=to_port or port, referenced_security_group_id=source,
            description=f"{component} {ports} from an admitted application group")
    return sg_id
