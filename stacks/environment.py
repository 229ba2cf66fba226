"""One environment (dev, staging, prod, or any config file): composition only.

Each layer is a method that wires constructs from config and hands the next layer what it needs;
no resource is defined here.
"""

import json

from cdktf import Aspects, TerraformOutput, TerraformStack
from constructs import Construct

from lib.core import aws
from lib.network.app_tier import AppTier, AppTierProps
from lib.core.backend import configure_backend
from lib.compute.apprunner import AppRunnerService, AppRunnerServiceProps, vpc_connector
from lib.edge.cdn import ApiOrigin, StaticSite, StaticSiteProps
from lib.data.cache import Cache, CacheProps
from lib.config import PROJECT_ROOT, BackendConfig, EnvironmentConfig, Target
from lib.compute.container_service import ContainerService, ContainerServiceProps, Ingress
from lib.data.database import Database, DatabaseProps
from lib.compute.ecr import ImageRepository, ImageRepositoryProps
from lib.compute.cluster import Cluster, ClusterProps
from lib.serverless.functions import Function, FunctionProps
from lib.serverless.http_api import HttpApi, HttpApiProps
from lib.identity.kms import EncryptionKey, EncryptionKeyProps
from lib.compute.load_balancer import LoadBalancer, LoadBalancerProps
from lib.targets.local import LocalEmulatorAdjustments, cache_stand_in
from lib.serverless.messaging import Messaging, MessagingProps
from lib.core.naming import Naming
from lib.network.vpc import Network, NetworkProps
from lib.observability.alarms import (MonitoredCache, MonitoredDatabase, MonitoredService, Observability,
                               ObservabilityProps, WebTarget)
from lib.core.provider import aws_provider
from lib.serverless.scheduler import FunctionTarget, ScheduledJob, ScheduledJobProps, TaskTarget
from lib.edge.storage import Storage, StorageProps
from lib.identity.secrets import ServiceSecrets, ServiceSecretsProps
from lib.compute.service_access import (BucketAccess, CacheAccess, DatabaseAccess, QueueAccess,
                                 queue_consumer_statement, secret_read_statements,
                                 service_access)
from lib.identity.user_pool import UserPool, UserPoolProps
from lib.edge.waf import WebAcl, WebAclProps

ALB_LOG_PREFIX = "alb"
FUNCTIONS_DIR = PROJECT_ROOT / "functions"
BUILD_DIR = PROJECT_ROOT / ".build" / "functions"


class EnvironmentStack(TerraformStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig, target: Target,
                 local_endpoint: str | None = None):
        super().__init__(scope, config.stack_name)
        self.config = config
        self.naming = Naming(config.project, config.environment, config.account_id,
                             config.region)
        self.disposable = config.profile in ("dev", "lean")
        self.outputs: dict = {}
        self.local = target is Target.LOCAL
        if self.local:
            Aspects.of(self).add(LocalEmulatorAdjustments())
        aws_provider(self, self.naming, config.tags, target, local_endpoint=local_endpoint)
        # CloudFront's certificates, web ACL and log deliveries must be in us-east-1.
        self.us_east_1 = aws_provider(self, self.naming, config.tags, target,
                                      region="us-east-1", local_endpoint=local_endpoint) \
            if config.edge.cloudfront or config.edge.waf else None
        # Without AWS (offline plan, local emulator) a remote backend is out of reach too: state
        # stays in a local file.
        configure_backend(self, self.naming, config.backend if target is Target.AWS
                          else BackendConfig())

        self._keys()
        self._network_and_data()
        self._messaging()
        self._storage()
        self._compute()
        self._edge()
        self._serverless()
        self._identity()
        self._observability()
        for name, value in self.outputs.items():
            TerraformOutput(self, name.replace("-", "_"), value=value)

    def _key(self, purpose: str, description: str, **grants) -> EncryptionKey:
        return EncryptionKey(self, f"{purpose}-key", EncryptionKeyProps(
            naming=self.naming, purpose=purpose,
            description=f"{self.naming.prefix}: {description}",
            deletion_window_days=7 if self.disposable else 30, **grants))

    def _keys(self) -> None:
        self.logs_key = self._key("logs", "CloudWatch log groups", allow_cloudwatch_logs=True)
        # CloudFront reads static assets through origin access control and must decrypt them.
        self.data_key = self._key("data", "RDS, ElastiCache, ECR, S3 and Lambda data at rest",
                                  allow_services=("cloudfront.amazonaws.com",))
        self.secrets_key = self._key("secrets", "Secrets Manager secrets")
        self.messaging_key = self._key(
            "messaging", "SNS topics",
            allow_services=("cloudwatch.amazonaws.com", "events.amazonaws.com"))

    def _network_and_data(self) -> None:
        c, n = self.config, self.naming
        self.network = Network(self, "network", NetworkProps(
            naming=n, cidr=c.network.cidr, availability_zones=c.availability_zones,
            subnet_plan=c.subnet_plan, nat=c.network.nat,
            nat_instance_type=c.network.nat_instance_type,
            interface_endpoints=list(c.network.interface_endpoints),
            ipv6_public=c.dual_stack_ingress,
            flow_log_retention_days=c.logs.retention_days, flow_log_key_arn=self.logs_key.arn))
        net = self.network
        self.app = AppTier(self, "app-tier", AppTierProps(
            naming=n, vpc_id=net.vpc_id, data_subnet_cidrs=net.isolated_subnet_cidrs))
        self.database = Database(self, "database", DatabaseProps(
            naming=n, settings=c.database, vpc_id=net.vpc_id, subnet_ids=net.isolated_subnet_ids,
            allowed_security_group_ids=[self.app.security_group_id],
            storage_key_arn=self.data_key.arn, secret_key_arn=self.secrets_key.arn,
            log_key_arn=self.logs_key.arn, log_retention_days=c.logs.retention_days))
        self.cache = Cache(self, "cache", CacheProps(
            naming=n, settings=c.cache, vpc_id=net.vpc_id, subnet_ids=net.isolated_subnet_ids,
            multi_az_capable=len(net.availability_zones) >= 2,
            allowed_security_group_ids=[self.app.security_group_id],
            storage_key_arn=self.data_key.arn, log_key_arn=self.logs_key.arn,
            log_retention_days=c.logs.retention_days))
        db, cache = self.database, self.cache
        self.db_access = DatabaseAccess(endpoint=db.endpoint, port=db.port,
                                        name=c.database.database_name, secret_arn=db.secret_arn)
        self.cache_access = cache_stand_in(n, cache.port) if self.local else CacheAccess(
            endpoint=cache.primary_endpoint, port=cache.port, user_name=cache.app_user_name,
            replication_group_arn=cache.replication_group_arn, user_arn=cache.app_user_arn)
        self.outputs.update({
            "vpc_id": net.vpc_id, "private_subnet_ids": net.private_subnet_ids,
            "app_security_group_id": self.app.security_group_id,
            "database_endpoint": db.endpoint, "database_secret_arn": db.secret_arn,
            "redis_primary_endpoint": self.cache_access.endpoint,
            "redis_user": self.cache_access.user_name})
        if not self.local:
            self.outputs["redis_reader_endpoint"] = cache.reader_endpoint
        if db.reader_endpoint:
            self.outputs["database_reader_endpoint"] = db.reader_endpoint

    def _messaging(self) -> None:
        c = self.config
        self.messaging = Messaging(self, "messaging", MessagingProps(
            naming=self.naming, queues=list(c.messaging.queues), topics=list(c.messaging.topics),
            topic_key_arn=self.messaging_key.arn))
        for name, queue in self.messaging.queues.items():
            self.outputs[f"{name}_queue_url"] = queue["url"]
        for name, arn in self.messaging.topic_arns.items():
            self.outputs[f"{name}_topic_arn"] = arn

    def _storage(self) -> None:
        c = self.config
        load_balancer_logs = c.compute.platform == "ecs" and c.ingress.access_logs
        self.storage = Storage(self, "storage", StorageProps(
            naming=self.naming, settings=c.storage, data_key_arn=self.data_key.arn,
            alb_log_prefix=ALB_LOG_PREFIX if load_balancer_logs else None,
            cloudfront_logs=c.edge.cloudfront, disposable=self.disposable))
        for name, bucket in [("logs", self.storage.logs), ("media", self.storage.media),
                             ("artifacts", self.storage.artifacts),
                             *((f"{s}_assets", b) for s, b in self.storage.static.items())]:
            if bucket is not None:
                self.outputs[f"{name}_bucket"] = bucket.name

    def _queue(self, name: str) -> QueueAccess:
        queue = self.messaging.queues[name]
        return QueueAccess(name=name, arn=queue["arn"], url=queue["url"],
                           queue_name=queue["name"])

    def _data_access(self, uses) -> dict:
        media = self.storage.media
        return {"database": self.db_access if "database" in uses else None,
                "cache": self.cache_access if "cache" in uses else None,
                "media": BucketAccess(name=media.name, arn=media.arn, key_arn=self.data_key.arn,
                                      region=self.naming.region)
                if "media" in uses and media is not None else None}

    def _compute(self) -> None:
        c, n, net = self.config, self.naming, self.network
        secrets = self.secrets = ServiceSecrets(self, "secrets", ServiceSecretsProps(
            naming=n, secrets=list(c.secrets), kms_key_arn=self.secrets_key.arn,
            recovery_days=7 if self.disposable else 30))
        repositories = {svc.name: ImageRepository(self, f"{svc.name}-images", ImageRepositoryProps(
            naming=n, service=svc.name, kms_key_arn=self.data_key.arn,
            immutable_tags=c.compute.immutable_tags,
            keep_release_images=c.compute.keep_release_images,
            untagged_image_days=c.compute.untagged_image_days, force_delete=self.disposable))
            for svc in c.services if svc.builds_image}
        for name, repo in repositories.items():
            self.outputs[f"{name}_repository_url"] = repo.url

        def image(svc) -> str:
            repo = repositories.get(svc.name)
            return f"{repo.url}:{svc.image_tag}" if repo else svc.image

        def common(svc) -> dict:
            return dict(naming=n, settings=svc, image=image(svc),
                        repository_arn=repositories[svc.name].arn if svc.builds_image else None,
                        secret_arns={secrets.env_names[s]: secrets.arns[s] for s in svc.secrets},
                        secrets_key_arn=self.secrets_key.arn,
                        sends_to=tuple(self._queue(q) for q in svc.sends_to),
                        **self._data_access(svc.access))

        self.services: dict[str, ContainerService] = {}
        self.cluster = None
        self.load_balancer = None
        if c.compute.platform == "apprunner":
            connector = vpc_connector(self, n, net.private_subnet_ids,
                                      [self.app.security_group_id])
            for svc in c.services:
                runner = AppRunnerService(self, f"service-{svc.name}", AppRunnerServiceProps(
                    vpc_connector_arn=connector, encryption_key_arn=self.data_key.arn,
                    **common(svc)))
                self.outputs[f"{svc.name}_url"] = runner.url
            return

        lb = self.load_balancer = LoadBalancer(self, "load-balancer", LoadBalancerProps(
            naming=n, vpc_id=net.vpc_id, subnet_ids=net.public_subnet_ids,
            allowed_cidrs=list(c.ingress.allowed_cidrs), domain=c.ingress.domain,
            hosted_zone_id=c.ingress.hosted_zone_id, zone_name=c.ingress.zone_name,
            access_log_bucket=self.storage.logs.name if c.ingress.access_logs else None,
            access_log_prefix=ALB_LOG_PREFIX, deletion_protection=c.ingress.deletion_protection,
            ipv6=c.dual_stack_ingress, allowed_ipv6_cidrs=tuple(c.ingress.allowed_ipv6_cidrs)))
        self.cluster = Cluster(self, "cluster", ClusterProps(
            naming=n, capacity=c.compute.capacity, architecture=c.compute.architecture,
            ec2=c.compute.ec2, subnet_ids=net.private_subnet_ids, vpc_id=net.vpc_id,
            volume_key_arn=self.data_key.arn,
            container_insights=c.observability.container_insights))
        for svc in c.services:
            self.services[svc.name] = ContainerService(
                self, f"service-{svc.name}", ContainerServiceProps(
                    cluster_name=self.cluster.name,
                    capacity_strategy=[(self.cluster.ec2_provider_name, 0, 1)]
                    if svc.capacity == "ec2" else self.cluster.default_strategy,
                    architecture=c.compute.architecture, vpc_id=net.vpc_id,
                    subnet_ids=net.private_subnet_ids,
                    app_security_group_id=self.app.security_group_id,
                    ingress=Ingress(lb.security_group_id, lb.listener_arn, lb.arn_suffix)
                    if svc.kind == "web" else None,
                    log_key_arn=self.logs_key.arn, log_retention_days=c.logs.retention_days,
                    otel_sidecar=c.observability.otel_sidecar,
                    consumes=self._queue(svc.queue) if svc.queue else None, **common(svc)))
        self.outputs.update(url=lb.url, cluster_name=self.cluster.name)

    def _edge(self) -> None:
        """WAF on the load balancer and the distributions; a distribution per static surface."""
        c, n, lb = self.config, self.naming, self.load_balancer
        cloudfront_acl = None
        if c.edge.waf:
            def acl(scope: str, provider=None) -> WebAcl:
                regional = scope == "REGIONAL" or c.region == "us-east-1"
                return WebAcl(self, f"waf-{scope.lower()}", WebAclProps(
                    naming=n, scope=scope, rate_limit=c.edge.waf_rate_limit,
                    log_key_arn=self.logs_key.arn if regional else None,
                    log_retention_days=c.logs.retention_days, provider=provider))

            if lb is not None:
                aws.wafv2_web_acl_association.Wafv2WebAclAssociation(
                    self, "waf-alb", resource_arn=lb.arn, web_acl_arn=acl("REGIONAL").arn)
            if c.edge.cloudfront:
                cloudfront_acl = acl("CLOUDFRONT", self.us_east_1).arn
        for surface, bucket in self.storage.static.items():
            if not c.edge.cloudfront:
                bucket.attach_policy([])
                continue
            api = None
            if c.edge.api_behavior and lb is not None:
                api = ApiOrigin(domain=c.ingress.domain or lb.dns_name, https=lb.https)
            site = StaticSite(self, f"cdn-{surface}", StaticSiteProps(
                naming=n, surface=surface, bucket=bucket, price_class=c.edge.price_class,
                us_east_1=self.us_east_1, log_bucket_arn=self.storage.logs.arn,
                web_acl_arn=cloudfront_acl, api_origin=api,
                domain=c.edge.surface_domains.get(surface), zone_id=c.edge.hosted_zone_id))
            self.outputs[f"{surface}_url"] = site.url
            self.outputs[f"{surface}_distribution_id"] = site.distribution_id

    def _serverless(self) -> None:
        """API Gateway + the API and worker functions (seed 004), then the scheduled jobs."""
        c, n, net = self.config, self.naming, self.network
        self.functions: dict[str, Function] = {}
        self.http_api = None
        if c.api.enabled:
            access = service_access({}, {}, **self._data_access(c.api.access))
            # Lambda has no secret injection: the functions read their secrets at runtime, by the
            # ARNs in their environment.
            own = {f"{self.secrets.env_names[s]}_SECRET_ARN": self.secrets.arns[s]
                   for s in c.api.secrets}
            runtime = access.runtime_statements + secret_read_statements(
                access.readable_secret_arns + list(own.values()), self.secrets_key.arn, n.region)
            environment = {**access.environment, **own}
            if "database" in c.api.access:
                environment["DATABASE_SECRET_ARN"] = self.db_access.secret_arn

            def function(name: str, timeout: int, statements: list[dict]) -> Function:
                return Function(self, f"{name}-function", FunctionProps(
                    naming=n, name=name, source_dir=FUNCTIONS_DIR / name, build_dir=BUILD_DIR,
                    vpc_id=net.vpc_id, subnet_ids=net.private_subnet_ids,
                    extra_security_group_ids=[self.app.security_group_id],
                    log_key_arn=self.logs_key.arn, log_retention_days=c.logs.retention_days,
                    environment_key_arn=self.data_key.arn, memory_mb=c.api.memory_mb,
                    timeout_seconds=timeout, environment=environment,
                    statements=runtime + statements))

            api_fn = function("api", c.api.api_timeout_seconds, [])
            self.functions["api"] = api_fn
            http = self.http_api = HttpApi(self, "http-api", HttpApiProps(
                naming=n, function_arn=api_fn.arn, function_name=api_fn.name,
                cors_origins=list(c.api.cors_origins), throttle_rate=c.api.throttle_rate,
                throttle_burst=c.api.throttle_burst, log_key_arn=self.logs_key.arn,
                log_retention_days=c.logs.retention_days, domain=c.api.domain,
                zone_id=c.api.hosted_zone_id))
            self.outputs["api_url"] = http.url
            if c.api.worker_queue:
                queue = self.messaging.queues[c.api.worker_queue]
                worker = function("worker", c.api.worker_timeout_seconds,
                                  [queue_consumer_statement(queue["arn"])])
                self.functions["worker"] = worker
                worker.consume(queue["arn"])

        for job in c.schedules:
            kind, name = job.target.split(":", 1)
            if kind == "function":
                target = FunctionTarget(self.functions[name].arn)
            else:
                svc = self.services[name]
                target = TaskTarget(
                    capacity_strategy=svc.capacity_strategy,  # it runs where its service runs
                    cluster_arn=self.cluster.arn, family=svc.task_family,
                    subnet_ids=net.private_subnet_ids,
                    security_group_ids=svc.network_security_group_ids,
                    pass_role_arns=[svc.execution_role_arn, svc.task_role_arn])
            payload = job.input
            if job.command:
                # ECS task targets take their input as the task's overrides.
                payload = json.dumps({"containerOverrides": [
                    {"name": name, "command": list(job.command)}]})
            ScheduledJob(self, f"schedule-{job.name}", ScheduledJobProps(
                naming=n, name=job.name, expression=job.expression, timezone=job.timezone,
                input=payload, target=target))

    def _identity(self) -> None:
        c = self.config
        if not c.auth.enabled:
            return
        pool = UserPool(self, "user-pool", UserPoolProps(
            naming=self.naming, mfa=c.auth.mfa, advanced_security=c.auth.advanced_security,
            callback_urls=list(c.auth.callback_urls), logout_urls=list(c.auth.logout_urls),
            deletion_protection=not self.disposable))
        self.outputs.update(user_pool_id=pool.user_pool_id, user_pool_client_id=pool.client_id,
                            hosted_ui_domain=pool.hosted_ui_domain)

    def _observability(self) -> None:
        c, n = self.config, self.naming
        alerts = self.messaging.topic_arns.get("alerts")
        if alerts is None:
            return  # no alerts topic: nowhere to send alarms (config keeps one by default)
        lb = self.load_balancer
        # Literal names (not resource references): they also name the alarms.
        services = [MonitoredService(
            name=n.name(name), cluster=n.name("cluster"),
            web=WebTarget(lb.arn_suffix, svc.target_group_arn_suffix)
            if svc.target_group_arn_suffix else None) for name, svc in self.services.items()]
        db = c.database
        Observability(self, "observability", ObservabilityProps(
            naming=n, thresholds=c.observability.alarms, alerts_topic_arn=alerts,
            dashboard=c.observability.dashboard, services=services,
            database=MonitoredDatabase(n.name("db"), db.allocated_storage_gb,
                                       n.name("db", "replica") if db.read_replica else None),
            cache=MonitoredCache([f"{n.name('redis')}-{i:03d}"
                                  for i in range(1, c.cache.num_nodes + 1)]),
            queues=[n.name(q.name) for q in c.messaging.queues],
            dead_letter_queues=[n.name(q.name, "dlq") for q in c.messaging.queues],
            functions=[n.name(name) for name in self.functions],
            api_id=self.http_api.api_id if self.http_api else None))
