"""One environment (dev, staging, prod, or any config file): composition only.

The stack builds its layers in order, each mapping config to construct props and handing the next
layer what it needs: keys, network and data stores, queues and topics, buckets, the workloads
(stacks/workloads.py: services, functions, schedules), the edge, identity, alarms. No resource
and no rule is defined here: the constructs own both.
"""

from lib.core.cdk import Aspects, TerraformOutput, TerraformProvider, TerraformStack
from constructs import Construct

from lib.config import EnvironmentConfig, Target
from lib.core.access import CacheAccess, ExternalCacheAccess
from lib.core.backend import LOCAL_STATE, BackendSettings, configure_backend
from lib.core.iam import PermissionsBoundary, boundary_policy_arn
from lib.core.naming import Naming
from lib.core.provider import aws_provider
from lib.core.stateful import PreventDestroy
from lib.data.backup_copy import BackupCopy, BackupCopyProps
from lib.data.cache import Cache, CacheProps, CacheSettings
from lib.data.database import Database, DatabaseProps, DatabaseSettings
from lib.data.proxy import DatabaseProxy, DatabaseProxyProps
from lib.data.serverless_cache import (ServerlessCache, ServerlessCacheProps,
                                       ServerlessCacheSettings)
from lib.config.catalog import VPC_ORIGIN_EXCLUDED_ZONE_IDS
from lib.config.compute import INTERNAL_DISTRIBUTION
from lib.edge.cdn import ApiOrigin, IngressSite, IngressSiteProps, StaticSite, StaticSiteProps
from lib.edge.storage import Storage, StorageProps
from lib.edge.vpc_origin import LoadBalancerVpcOrigin, LoadBalancerVpcOriginProps
from lib.edge.waf import EdgeProtectionProps, protect_edge
from lib.identity.kms import EncryptionKey, EncryptionKeyProps
from lib.identity.secrets import SecretSpec, ServiceSecrets, ServiceSecretsProps
from lib.identity.user_pool import UserPool, UserPoolProps
from lib.network.app_tier import ANYWHERE, REDIS, AppTier, AppTierProps
from lib.network.client_vpn import ClientVpn, ClientVpnProps, ClientVpnSettings
from lib.network.vpc import Network, NetworkProps
from lib.observability.alarms import (AlarmThresholds, MonitoredCache, MonitoredDatabase,
                                      MonitoredServerlessCache, MonitoredService, Observability,
                                      ObservabilityProps, WebTarget)
from lib.observability.chatbot import (CHATBOT_REGION, LOG_REGION, SlackChannel,
                                       SlackChannelProps)
from lib.observability.pagerduty import PagerDutyRelay, PagerDutyRelayProps
from lib.serverless.functions import ZipCode
from lib.serverless.messaging import Messaging, MessagingProps, QueueSpec, TopicSpec
from lib.targets.local import (LocalEmulatorAdjustments, cache_stand_in,
                               database_without_replica)
from stacks.mapping import from_config
from stacks.workloads import (ALB_LOG_PREFIX, BUILD_DIR, FUNCTIONS_DIR, add_serverless,
                              add_services)


class EnvironmentStack(TerraformStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig, target: Target,
                 local_endpoint: str | None = None):
        super().__init__(scope, config.stack_name)
        c = self.config = config
        self.naming = Naming(c.project, c.environment, c.account_id, c.region)
        self.disposable = c.disposable
        self.outputs: dict = {}
        self.local = target is Target.LOCAL
        self.offline = target is Target.OFFLINE
        if c.prevent_destroy and not self.local:
            # Not for the emulator: its cycle destroys what it deploys (tools/deploy_local.py).
            Aspects.of(self).add(PreventDestroy())
        if self.local:
            Aspects.of(self).add(LocalEmulatorAdjustments())
        elif c.backend.kind != "local":
            # Deployed by the bootstrap stack's roles, which create roles only with it attached.
            Aspects.of(self).add(PermissionsBoundary(boundary_policy_arn(self.naming)))
        aws_provider(self, self.naming, c.tags, target, local_endpoint=local_endpoint)
        self._regional: dict[str, TerraformProvider] = {}
        # CloudFront's certificates, web ACL and log deliveries must be in us-east-1.
        self.us_east_1 = self._provider_in("us-east-1", target, local_endpoint) \
            if c.edge.cloudfront or c.edge.waf else None
        slack = any(t.slack for t in c.messaging.topics)
        self.chatbot_provider = self._provider_in(CHATBOT_REGION, target, local_endpoint) \
            if slack else None
        # Chatbot's log groups are in us-east-1 whatever the stack's Region.
        self.chatbot_log_provider = self._provider_in(LOG_REGION, target, local_endpoint) \
            if slack and c.region != LOG_REGION else None
        self.backup_provider = self._provider_in(c.database.backup_copy_region, target,
                                                 local_endpoint) \
            if c.database.backup_copy_region else None
        # Without AWS (offline plan, local emulator) a remote backend is out of reach too: state
        # stays in a local file.
        configure_backend(self, self.naming, from_config(BackendSettings, c.backend)
                          if target is Target.AWS else LOCAL_STATE)
        self._keys()
        self._network_and_data()
        self._messaging()
        self._storage()
        add_services(self)
        self._client_vpn()
        self._edge()
        add_serverless(self)
        self._identity()
        self._observability()
        for name, value in self.outputs.items():
            TerraformOutput(self, name.replace("-", "_"), value=value)

    def _provider_in(self, region: str, target: Target,
                     local_endpoint: str | None) -> TerraformProvider:
        """The aliased provider of another Region, one per Region whatever needs it there."""
        if region not in self._regional:
            self._regional[region] = aws_provider(self, self.naming, self.config.tags, target,
                                                  region=region, local_endpoint=local_endpoint)
        return self._regional[region]

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
        # CloudWatch alarms publish to the topics; no EventBridge rule of an environment does
        # (the bootstrap stack's findings do, with a key scoped by topic, not by account).
        self.messaging_key = self._key(
            "messaging", "SNS topics", allow_services=("cloudwatch.amazonaws.com",))
        # ECS Exec sessions: the task roles decrypt with it, whoever starts a session generates
        # data keys with it (README, "Shell access (ECS Exec)").
        self.exec_key = self._key("exec", "ECS Exec sessions") \
            if self.config.compute.exec else None

    def _network_and_data(self) -> None:
        c, n = self.config, self.naming
        net = self.network = Network(self, "network", NetworkProps(
            naming=n, cidr=c.network.cidr, availability_zones=c.availability_zones,
            subnet_plan=c.subnet_plan, nat=c.network.nat,
            nat_instance_type=c.network.nat_instance_type,
            interface_endpoints=list(c.network.interface_endpoints),
            ipv6_public=c.dual_stack_ingress,
            private_ingress_ports=(c.ingress.origin_port,) if c.ingress.internal else (),
            flow_log_retention_days=c.logs.security_retention_days,
            flow_log_key_arn=self.logs_key.arn))
        self.app = AppTier(self, "app-tier", AppTierProps(
            naming=n, vpc_id=net.vpc_id, data_subnet_cidrs=net.isolated_subnet_cidrs,
            redis_cidrs=net.isolated_subnet_cidrs if c.cache.elasticache
            else [ANYWHERE] if c.cache.external else [],
            redis_port=c.cache.external_port if c.cache.external else REDIS))
        placement = dict(naming=n, vpc_id=net.vpc_id, subnet_ids=net.isolated_subnet_ids,
                         allowed_security_group_ids=[self.app.security_group_id])
        logs = dict(log_key_arn=self.logs_key.arn, log_retention_days=c.logs.retention_days)
        db = self.database = Database(self, "database", DatabaseProps(
            settings=from_config(DatabaseSettings, c.database,
                                 max_allocated_storage_gb=c.database.storage_ceiling_gb),
            storage_key_arn=self.data_key.arn, secret_key_arn=self.secrets_key.arn,
            **placement, **logs))
        self._cache(placement, logs)
        direct = database_without_replica(db.access) if self.local else db.access
        self.database_access = self._proxy(direct, logs) if c.database.proxy else direct
        self.outputs.update({
            "vpc_id": net.vpc_id, "private_subnet_ids": net.private_subnet_ids,
            "app_security_group_id": self.app.security_group_id,
            "database_endpoint": db.endpoint, "database_app_user": c.database.app_user,
            "database_secret_arn": db.secret_arn})
        if isinstance(self.cache_access, CacheAccess):
            self.outputs.update(redis_primary_endpoint=self.cache_access.endpoint,
                                redis_user=self.cache_access.user_name)
        elif isinstance(self.cache_access, ExternalCacheAccess):
            self.outputs["redis_url_secret_arn"] = self.cache_access.url_secret_arn
        if not self.local and isinstance(self.cache, Cache):
            self.outputs["redis_reader_endpoint"] = self.cache.reader_endpoint
        if db.reader_endpoint and not self.local:  # no replica in the emulator
            self.outputs["database_reader_endpoint"] = db.reader_endpoint
        if c.database.backup_copy_region:
            self._backup_copy(db)

    def _backup_copy(self, db: Database) -> None:
        """The primary's automated backups replicated to `database.backup_copy_region`."""
        c = self.config
        copy = BackupCopy(self, "backup-copy", BackupCopyProps(
            naming=self.naming, source_instance_arn=db.arn, region=c.database.backup_copy_region,
            provider=self.backup_provider, retention_days=c.database.copy_retention_days,
            key_deletion_window_days=7 if self.disposable else 30))
        self.outputs["database_backup_copy_region"] = copy.region
        if not self.local:  # the emulator has no backup replication (lib/targets/local.py)
            self.outputs["database_backup_copy_arn"] = copy.arn

    def _proxy(self, direct, logs: dict):
        """An RDS Proxy in front of the primary (`database.proxy`) and the secret of the role it
        logs in as: what workloads are given instead of the primary's address."""
        c, net, db = self.config, self.network, self.database
        login = ServiceSecrets(self, "database-proxy-user", ServiceSecretsProps(
            naming=self.naming, secrets=[SecretSpec(
                name="proxy-user", service="database",
                description=f"{c.database.proxy_user} and its password: RDS Proxy logs in "
                            "with them (sql/proxy-role.sql)")],
            kms_key_arn=self.secrets_key.arn, recovery_days=7 if self.disposable else 30))
        self.proxy = DatabaseProxy(self, "database-proxy", DatabaseProxyProps(
            naming=self.naming, vpc_id=net.vpc_id, subnet_ids=net.isolated_subnet_ids,
            client_security_group_ids=[self.app.security_group_id],
            database_security_group_id=db.security_group_id, database_identifier=db.identifier,
            secret_arn=login.arns["proxy-user"], secret_key_arn=self.secrets_key.arn,
            idle_client_timeout_seconds=c.database.proxy_idle_client_timeout_seconds,
            connection_borrow_timeout_seconds=c.database.proxy_connection_borrow_timeout_seconds,
            **logs))
        self.outputs.update(database_proxy_endpoint=self.proxy.endpoint,
                            database_proxy_user=c.database.proxy_user,
                            database_proxy_user_secret_arn=login.arns["proxy-user"])
        return self.proxy.through(direct, c.database.proxy_user)

    def _cache(self, placement: dict, logs: dict) -> None:
        """Redis OSS nodes, ElastiCache Serverless for Valkey (`cache.serverless`), the secret
        that holds an outside Redis's URL (`cache.external`), or nothing."""
        c, n = self.config, self.naming
        self.cache = self.cache_access = None
        if not c.cache.enabled:
            return
        if c.cache.external:
            url = ServiceSecrets(self, "external-cache", ServiceSecretsProps(
                naming=n, secrets=[SecretSpec(name="url", service="cache",
                                              description="The outside Redis's URL")],
                kms_key_arn=self.secrets_key.arn, recovery_days=7 if self.disposable else 30))
            self.cache_access = ExternalCacheAccess(url.arns["url"])
            return
        if c.cache.serverless:
            cache = self.cache = ServerlessCache(self, "serverless-cache", ServerlessCacheProps(
                settings=from_config(ServerlessCacheSettings, c.cache),
                storage_key_arn=self.data_key.arn, **placement))
        else:
            cache = self.cache = Cache(self, "cache", CacheProps(
                settings=from_config(CacheSettings, c.cache,
                                     automatic_failover=c.cache.failover),
                multi_az_capable=len(self.network.availability_zones) >= 2,
                storage_key_arn=self.data_key.arn, **placement, **logs))
        self.cache_access = cache_stand_in(n, cache.port, c.cache.serverless) if self.local \
            else cache.access

    def _client_vpn(self) -> None:
        """AWS Client VPN into the private tier (`[access.client_vpn]`), authorized to the
        tiers of what `reach` lists, and admitted by each of them: every ECS web service on its
        port, the database, the cache. Nothing else admits the VPN's group."""
        c, net = self.config, self.network
        vpn = c.access.client_vpn
        if not vpn.enabled:
            return
        letters = [az[-1] for az in net.availability_zones]
        tiers = (["private"] if "services" in vpn.reach else []) + \
            (["isolated"] if {"database", "cache"} & set(vpn.reach) else [])
        client_vpn = ClientVpn(self, "client-vpn", ClientVpnProps(
            naming=self.naming, settings=from_config(ClientVpnSettings, vpn), vpc_id=net.vpc_id,
            vpc_cidr=net.vpc_cidr,
            subnets=dict(zip(letters[:vpn.associations], net.private_subnet_ids)),
            destinations={f"{tier}-{letter}": str(block) for tier in tiers
                          for letter, block in zip(letters, c.subnet_plan.tier(tier))},
            log_key_arn=self.logs_key.arn, log_retention_days=c.logs.security_retention_days))
        if "services" in vpn.reach:
            for svc in (s for s in c.services if s.kind == "web"):
                client_vpn.admit(f"service-{svc.name}",
                                 self.services[svc.name].security_group_id, svc.port)
        if "database" in vpn.reach:
            client_vpn.admit("database", self.database.security_group_id, self.database.port)
        if "cache" in vpn.reach:
            client_vpn.admit("cache", self.cache.security_group_id, self.cache.port)
        if not self.local:  # the emulator has no Client VPN (lib/targets/local.py)
            self.outputs.update(client_vpn_endpoint_id=client_vpn.endpoint_id,
                                client_vpn_log_group=client_vpn.log_group_name)

    def _messaging(self) -> None:
        c = self.config
        self.messaging = Messaging(self, "messaging", MessagingProps(
            naming=self.naming, queues=[from_config(QueueSpec, q) for q in c.messaging.queues],
            topics=[from_config(TopicSpec, t) for t in c.messaging.topics],
            topic_key_arn=self.messaging_key.arn))
        for name, queue in self.messaging.queues.items():
            self.outputs[f"{name}_queue_url"] = queue["url"]
        for name, arn in self.messaging.topic_arns.items():
            self.outputs[f"{name}_topic_arn"] = arn
        self._topic_destinations()

    def _topic_destinations(self) -> None:
        """PagerDuty and Slack, per topic that asks for them (`pagerduty`, `slack`)."""
        c, n = self.config, self.naming
        self.relays: list[PagerDutyRelay] = []
        for t in c.messaging.topics:
            arn = self.messaging.topic_arns[t.name]
            if t.pagerduty:
                relay = PagerDutyRelay(self, f"{t.name}-pagerduty", PagerDutyRelayProps(
                    naming=n, topic=t.name, topic_arn=arn,
                    code=ZipCode(FUNCTIONS_DIR / "pagerduty", BUILD_DIR),
                    secrets_key_arn=self.secrets_key.arn,
                    secret_recovery_days=7 if self.disposable else 30,
                    log_key_arn=self.logs_key.arn, log_retention_days=c.logs.retention_days,
                    environment_key_arn=self.data_key.arn))
                self.relays.append(relay)
                self.outputs[f"{t.name}_pagerduty_secret_name"] = relay.secret_name
            if t.slack:
                SlackChannel(self, f"{t.name}-slack", SlackChannelProps(
                    naming=n, topic=t.name, topic_arn=arn, workspace_id=t.slack.workspace_id,
                    channel_id=t.slack.channel_id, provider=self.chatbot_provider,
                    log_retention_days=c.logs.retention_days,
                    log_provider=self.chatbot_log_provider,
                    # A key serves log groups of its own Region only (as for CloudFront's WAF).
                    log_key_arn=None if self.chatbot_log_provider else self.logs_key.arn))

    def _storage(self) -> None:
        c = self.config
        load_balancer_logs = c.compute.platform == "ecs" and c.ingress.access_logs
        self.storage = Storage(self, "storage", from_config(
            StorageProps, c.storage, naming=self.naming, data_key_arn=self.data_key.arn,
            alb_log_prefix=ALB_LOG_PREFIX if load_balancer_logs else None,
            cloudfront_logs=c.edge.cloudfront, disposable=self.disposable))
        for name, bucket in self.storage.buckets.items():
            self.outputs[f"{name}_bucket"] = bucket.name

    def _edge(self) -> None:
        """WAF on the load balancer and the distributions; a distribution per static surface;
        with an internal load balancer, its VPC origin and the distribution for its domain."""
        c, n, lb = self.config, self.naming, self.load_balancer
        internal = lb is not None and c.ingress.internal
        # An internal load balancer gets no regional web ACL: every request it sees came
        # through CloudFront's, which applies the same rules, and a per-IP rate limit there
        # would count CloudFront's addresses, not the viewers'.
        cloudfront_acl = protect_edge(self, EdgeProtectionProps(
            naming=n, rate_limit=c.edge.waf_rate_limit, log_key_arn=self.logs_key.arn,
            log_retention_days=c.logs.security_retention_days,
            load_balancer_arn=lb.arn if lb is not None and not internal else None,
            cloudfront_provider=self.us_east_1 if c.edge.cloudfront else None)) \
            if c.edge.waf else None
        # The custom domain only once the load balancer serves it (HTTPS); before that (no
        # domain, or a created zone not yet delegated) its own DNS name over HTTP.
        origin = ApiOrigin(domain=c.ingress.domain if lb.https else lb.dns_name,
                           https=lb.https) if lb is not None else None
        if internal:
            origin = LoadBalancerVpcOrigin(self, "alb-origin", LoadBalancerVpcOriginProps(
                naming=n, vpc_id=self.network.vpc_id, load_balancer_arn=lb.arn,
                load_balancer_security_group_id=lb.security_group_id, domain=origin.domain,
                https=lb.https, internet_gateway=self.network.internet_gateway,
                zones=() if self.offline else tuple(c.availability_zones),
                excluded_zone_ids=VPC_ORIGIN_EXCLUDED_ZONE_IDS)).origin
            self._ingress_site(origin, cloudfront_acl)
        api = origin if c.edge.api_behavior else None
        for surface, bucket in self.storage.static.items():
            if not c.edge.cloudfront:
                bucket.attach_policy([])  # nothing serves it: only the TLS and owner rules
                continue
            site = StaticSite(self, f"cdn-{surface}", StaticSiteProps(
                naming=n, surface=surface, bucket=bucket, price_class=c.edge.price_class,
                us_east_1=self.us_east_1, log_bucket_arn=self.storage.logs.arn,
                log_bucket_policy=self.storage.logs.policy,
                web_acl_arn=cloudfront_acl, api_origin=api,
                domain=c.edge.surface_domains.get(surface), zone_id=c.edge.hosted_zone_id))
            self.outputs[f"{surface}_url"] = site.url
            self.outputs[f"{surface}_distribution_id"] = site.distribution_id

    def _ingress_site(self, origin: ApiOrigin, web_acl_arn: str | None) -> None:
        """The distribution in front of the internal load balancer: it answers for
        ingress.domain once the load balancer serves HTTPS there, and is the stack's `url`."""
        c, lb = self.config, self.load_balancer
        site = IngressSite(self, f"cdn-{INTERNAL_DISTRIBUTION}", IngressSiteProps(
            naming=self.naming, component=INTERNAL_DISTRIBUTION, origin=origin,
            price_class=c.edge.price_class, us_east_1=self.us_east_1,
            log_bucket_arn=self.storage.logs.arn, log_bucket_policy=self.storage.logs.policy,
            web_acl_arn=web_acl_arn, domain=c.ingress.domain if lb.https else None,
            zone_id=lb.hosted_zone_id or c.ingress.hosted_zone_id))
        self.outputs.update(url=site.url, ingress_distribution_id=site.distribution_id)

    def _identity(self) -> None:
        c = self.config
        if not c.auth.enabled:
            return
        pool = UserPool(self, "user-pool", from_config(UserPoolProps, c.auth, naming=self.naming))
        self.outputs.update(user_pool_id=pool.user_pool_id, user_pool_client_id=pool.client_id,
                            hosted_ui_domain=pool.hosted_ui_domain)

    def _observability(self) -> None:
        c, n = self.config, self.naming
        alerts = self.messaging.topic_arns.get("alerts")
        if alerts is None:
            return  # no alerts topic: nowhere to send alarms (config keeps one by default)
        lb, db = self.load_balancer, self.database
        relays = [r.function for r in self.relays]
        # Literal names (not resource references): they also name the alarms.
        services = [MonitoredService(
            name=svc.task_family, cluster=n.name("cluster"),
            web=WebTarget(lb.arn_suffix, svc.target_group_arn_suffix)
            if svc.target_group_arn_suffix else None, scaling=tuple(svc.tracked_metrics))
            for svc in self.services.values()]
        Observability(self, "observability", ObservabilityProps(
            naming=n, thresholds=from_config(AlarmThresholds, c.observability.alarms),
            alerts_topic_arn=alerts, dashboard=c.observability.dashboard, services=services,
            database=MonitoredDatabase(db.instance_name, c.database.allocated_storage_gb,
                                       db.replica_name),
            cache=MonitoredServerlessCache(self.cache.name, c.cache.max_data_storage_gb,
                                           c.cache.max_ecpu_per_second)
            if isinstance(self.cache, ServerlessCache) else MonitoredCache(self.cache.member_ids)
            if isinstance(self.cache, Cache) else None,
            queues=self.messaging.queue_names,
            dead_letter_queues=self.messaging.dead_letter_queue_names + [
                f.dead_letter_queue_name for f in [*self.functions.values(), *relays]
                if f.dead_letter_queue_name],
            functions=[f.function_name for f in [*self.service_functions.values(),
                                                 *self.functions.values(), *relays]],
            api_id=self.http_api.api_id if self.http_api else None))
