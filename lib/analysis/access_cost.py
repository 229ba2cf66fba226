"""The cost of the database's and the private tier's ways in and copies: an RDS Proxy (per vCPU of
the instance it fronts), automated backups replicated to a second Region, and AWS Client VPN (per
association and connection hour). Pricers as lib/analysis/cost.py calls them:
`pricer(body, stack, prices, add)`.
"""

from __future__ import annotations

from typing import Any, Callable


def _db_proxy_target(body: dict, stack: Any, p: Any, add: Callable) -> None:
    """RDS Proxy: per vCPU of the instance it fronts (a Multi-AZ standby is not counted)."""
    cls = (stack.follow(body.get("db_instance_identifier")) or {}).get("instance_class", "")
    vcpus = p.rate("rds.instance_vcpus", cls)
    if vcpus is None:
        add(f"RDS Proxy for {cls or 'an instance outside this stack'}", 1, "", None)
        return
    vcpus = max(vcpus, p["rds.proxy.minimum_vcpus"])
    add(f"RDS Proxy ({cls}, {vcpus:g} vCPUs)", vcpus, "vCPU-month",
        vcpus * p["rds.proxy.vcpu_hour"] * p.hours,
        f"billed for at least {p['rds.proxy.minimum_vcpus']:g} vCPUs")


def _backup_copy(body: dict, stack: Any, p: Any, add: Callable) -> None:
    """Automated backups replicated to a second Region (lib/data/backup_copy.py): backup storage
    there, none of it free (the free allowance is the source Region's), and the copy's transfer
    between Regions. Backups are taken as large as the database's allocated storage."""
    source = stack.follow(body.get("source_db_instance_arn"))
    if source is None:
        add("RDS replicated backups of an instance not in this stack", 1, "", None)
        return
    gb = float(source.get("allocated_storage", 0))
    add("RDS replicated backup storage (second Region)", gb, "GB-month",
        gb * p["rds.backup_gb_month"], "backups as large as the allocated storage")
    copied = gb * p.usage["backup_copy_gb_per_gb"]
    add("RDS backup replication transfer between Regions", copied, "GB",
        copied * p["rds.cross_region_transfer_gb"],
        f"{p.usage['backup_copy_gb_per_gb']:g} x the allocated storage copied a month")


def _client_vpn_association(body: dict, stack: Any, p: Any, add: Callable) -> None:
    add("Client VPN endpoint association", 1, "association-month",
        p["clientvpn.association_hour"] * p.hours)


def _client_vpn(body: dict, stack: Any, p: Any, add: Callable) -> None:
    hours = p.usage["vpn_connection_hours_per_month"]
    add("Client VPN connections", hours, "connection-hours", hours * p["clientvpn.connection_hour"],
        f"{hours:g} connection-hours a month per endpoint")


PRICERS: dict[str, Callable] = {
    "aws_db_proxy_target": _db_proxy_target,
    "aws_db_instance_automated_backups_replication": _backup_copy,
    "aws_ec2_client_vpn_endpoint": _client_vpn,
    "aws_ec2_client_vpn_network_association": _client_vpn_association,
}
