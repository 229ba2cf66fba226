"""The network layer: the VPC with its subnets, routes, NAT, NACLs, flow logs and endpoints (`vpc`),
and the application tier's security group (`app_tier`).
"""
