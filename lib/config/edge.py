"""The edge and storage sections (`[edge]`: CloudFront and WAF, `[storage]`: the environment's
buckets) and their rules: a distribution and a custom domain only for a surface that exists (bucket names
within S3's 63 characters: names.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lib.config.fields import DomainName, Section, Slug

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


class EdgeConfig(Section):
    """CloudFront per static surface and the WAF web ACLs (CloudFront and the load balancer)."""

    cloudfront: bool = Field(description="A CloudFront distribution per surface in "
                                         "`storage.surfaces` (origin access control, HTTPS only, "
                                         "compression).")
    waf: bool = Field(description="WAFv2 web ACLs on the load balancer (not an internal one: "
                                  "CloudFront's filters all its traffic) and the distributions "
                                  "(AWS managed rule groups and a per-IP rate limit).")
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = Field(
        description="The edge locations CloudFront serves from: `PriceClass_100` (the cheapest: "
                    "North America and Europe) up to `PriceClass_All` (all of them).")
    api_behavior: bool = Field(default=True, description="`/api/*` on each distribution goes "
                                                         "uncached to the load balancer.")
    surface_domains: dict[str, DomainName] = Field(
        default={}, description="`{ surface = \"domain\" }`: a custom domain per surface, with a "
                                "us-east-1 certificate, TLSv1.2_2021, alias A and AAAA records "
                                "in `hosted_zone_id`.")
    hosted_zone_id: str | None = Field(
        default=None, description="The Route53 zone that holds `surface_domains` (their "
                                  "certificates are validated there); required with them.")
    waf_rate_limit: int = Field(default=2000, ge=100, le=2_000_000_000,
                                description="Requests per 5 minutes per IP before the rate rule "
                                            "blocks.")


class StorageConfig(Section):
    """Buckets: <project>-<env>-<name>-<account id>. All private, encrypted and TLS-only."""

    media: bool = Field(default=True, description="The uploads bucket `media`: versioned, "
                                                  "Infrequent Access after 30 days, Glacier "
                                                  "after 90.")
    media_cors_origins: list[str] = Field(default=[], description="Origins allowed to GET/PUT "
                                                                  "media from a browser.")
    surfaces: list[Slug] = Field(default=["static"],
                                 description="A static-asset bucket `<surface>-assets` per "
                                             "frontend surface.")
    artifacts: bool = Field(default=True, description="The `artifacts` bucket: build artifacts "
                                                      "and function bundles.")


def edge_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    st, edge = c.storage, c.edge
    if len(set(st.surfaces)) != len(st.surfaces):
        problems.append(("storage.surfaces", "lists a surface twice"))
    if edge.cloudfront and not st.surfaces:
        problems.append(("edge.cloudfront", "is on but storage.surfaces is empty: a distribution "
                                            "serves a surface's static-asset bucket"))
    if edge.surface_domains and not edge.hosted_zone_id:
        problems.append(("edge.hosted_zone_id", "surface_domains need the Route53 zone that "
                                                "holds them (their certificates are validated "
                                                "there)"))
    for surface in edge.surface_domains:
        if surface not in st.surfaces:
            problems.append((f"edge.surface_domains.{surface}",
                             f"'{surface}' is not in storage.surfaces "
                             f"({', '.join(st.surfaces) or 'none'})"))
    return problems
