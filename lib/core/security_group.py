"""A security group that admits one TCP port from named security groups and nothing else."""

from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming


def port_only_from_groups(scope: Construct, naming: Naming, component: str, vpc_id: str,
                          port: int, source_group_ids: list[str], description: str) -> str:
    """Create `<project>-<env>-<component>`: ingress `port` from each source group, no CIDR
    ingress, no egress (the stores it guards only answer). Returns the group id."""
    sg = aws.security_group.SecurityGroup(
        scope, "sg", name=naming.name(component), vpc_id=vpc_id, description=description,
        tags=naming.tags(component))
    sg_id: str = sg.id
    for i, source in enumerate(source_group_ids):
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            scope, f"ingress-{i}", security_group_id=sg_id, ip_protocol="tcp", from_port=port,
            to_port=port, referenced_security_group_id=source,
            description=f"{component} port {port} from an admitted application group")
    return sg_id
