"""Compute and ingress: the ECS cluster (`cluster`), container services (`container_service`), the
load balancer (`load_balancer`), image repositories (`ecr`), App Runner (`apprunner`) and what a
service may do with the data stores, queues and secrets it uses (`service_access`).
"""
