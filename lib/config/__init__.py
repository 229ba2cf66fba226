"""The environment config: its schema split by domain, the profiles, and the loader, the only
code that reads config files or the process environment. Nothing here imports CDKTF, so bad input
is reported in a fraction of a second and before any output is written.

    fields.py         reusable field types, each with a message saying what is allowed; `Section`
    network.py        [network]                  data.py      [database], [cache]
    compute.py        [compute], [ingress]       services.py  [[services]]
    scaling.py        a service's scale_on_metric and scale_on_latency_p99_ms
    identity.py       [[secrets]], [auth]        edge.py      [edge], [storage]
    access.py         [access] ([access.client_vpn])
    serverless.py     [messaging], [api], [[schedules]]
    observability.py  [logs], [observability], [cost]
    delivery.py       [backend], [github], and the account file (AccountConfig: [github],
                      [terraform_cloud], [baseline])
    environment.py    EnvironmentConfig, the root, and the order its rules are reported in
    profiles.py       the dev, lean, staging and prod defaults a file is merged over
    loader.py         load_environment(s) (with the files they extend), load_account(s), the
                      environment variables
    errors.py         ConfigError and the one-line message for each validation error
    credentials.py    the rule for a variable name that says it holds a credential
    catalog.py        what AWS offers: instance classes, sizes, retention periods

Adding a section for a new construct: a model (subclass `Section`, a description on every field)
in the module of its domain, with its cross-field rules beside it; a field on `EnvironmentConfig`
and its rules in `cross_field_problems`; per-profile defaults in profiles.py when they differ by
environment; then `make docs` regenerates the README's config reference from all of it.

Everything callers use is importable from `lib.config` itself.
"""

from lib.config.compute import ComputeConfig, Ec2CapacityConfig, IngressConfig
from lib.config.data import CacheConfig, DatabaseConfig
from lib.config.delivery import (AccountConfig, BackendConfig, BaselineConfig, GithubAccountConfig,
                                 GithubConfig, TerraformCloudConfig)
from lib.config.edge import EdgeConfig, StorageConfig
from lib.config.environment import RESERVED_TAGS, EnvironmentConfig
from lib.config.errors import ConfigError
from lib.config.fields import Section
from lib.config.identity import AuthConfig, SecretConfig
from lib.config.loader import (ACCOUNT_FILE, CONFIG_DIR, DEFAULT_LOCAL_ENDPOINT, ENV_CONFIG_DIR,
                               ENV_CONFIG_FILES, ENV_LOCAL_ENDPOINT, ENV_OUTDIR,
                               ENV_SYNTH_WORKERS, ENV_TARGET, PROJECT_ROOT, check_accounts,
                               config_files, config_paths, is_base_file, load_account,
                               load_accounts, load_config_dir, load_environment,
                               load_environment_named, load_environments, load_local_endpoint,
                               load_outdir, load_synth_workers, load_target,
                               read_environment_file)
from lib.config.network import NetworkConfig, SubnetCidrs
from lib.config.observability import AlarmThresholds, CostConfig, LogsConfig, ObservabilityConfig
from lib.config.profiles import PROFILE_DEFAULTS
from lib.config.serverless import (ApiConfig, MessagingConfig, QueueConfig, ScheduleConfig,
                                   TopicConfig)
from lib.config.services import ServiceConfig
from lib.core.target import Target

__all__ = [
    "ACCOUNT_FILE", "CONFIG_DIR", "DEFAULT_LOCAL_ENDPOINT", "ENV_CONFIG_DIR", "ENV_CONFIG_FILES",
    "ENV_LOCAL_ENDPOINT", "ENV_OUTDIR", "ENV_SYNTH_WORKERS", "ENV_TARGET", "PROFILE_DEFAULTS",
    "PROJECT_ROOT", "RESERVED_TAGS", "AccountConfig", "AlarmThresholds", "ApiConfig", "AuthConfig",
    "BackendConfig", "BaselineConfig", "CacheConfig", "ComputeConfig", "ConfigError",
    "CostConfig", "DatabaseConfig", "Ec2CapacityConfig", "EdgeConfig", "EnvironmentConfig",
    "GithubAccountConfig", "GithubConfig", "IngressConfig", "LogsConfig", "MessagingConfig",
    "NetworkConfig", "ObservabilityConfig", "QueueConfig", "ScheduleConfig", "SecretConfig",
    "Section", "ServiceConfig", "StorageConfig", "SubnetCidrs", "Target", "TerraformCloudConfig",
    "TopicConfig", "check_accounts", "config_files", "config_paths", "is_base_file",
    "load_account",
    "load_accounts", "load_config_dir", "load_environment", "load_environment_named",
    "load_environments", "load_local_endpoint", "load_outdir",
    "load_synth_workers", "load_target", "read_environment_file",
]
