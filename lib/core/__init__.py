"""The pieces every construct shares: the one import of the AWS bindings (`aws`), names and tags
(`naming`), the provider per target, the backend per environment, IAM role and security-group helpers,
DNS-validated certificates and subnet address planning. Nothing here reads config.
"""
