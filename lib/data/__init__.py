"""The data layer: RDS PostgreSQL (`database`) and ElastiCache Redis (`cache`), each in the isolated
subnets, reachable only from the security groups it is given, encrypted with the keys it is given.
"""
