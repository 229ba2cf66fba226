"""Contract: every target tracking policy on a customized metric is one Application Auto Scaling
accepts and that can ever move its service, in every stack the project synthesizes.

`terraform plan` checks none of it: a malformed metric-math query fails at apply, and a policy on
a metric nothing publishes (Container Insights off, another service's target group) is created
and then never scales. Each rule cites its AWS page, walks every policy, and has a test that feeds
it a hand-made broken stack.
"""

import re

import pytest

from contracts import TOKEN, FakeStack, Report, assert_clean, each, listed, run

# Application Auto Scaling API Reference, "TargetTrackingMetricDataQuery": an Id's "valid
# characters are letters, numbers, and underscores. The first character must be a lowercase
# letter."
QUERY_ID = re.compile(r"[a-z][A-Za-z0-9_]{0,254}")
# "CustomizedMetricSpecification": the plain form's Statistic.
PLAIN_STATISTICS = {"Average", "Minimum", "Maximum", "SampleCount", "Sum"}
# Amazon CloudWatch API Reference, "Metric": Dimensions, "Maximum number of 30 items".
DIMENSIONS_MAX = 30


def _custom(policy) -> dict:
    config = policy.body.get("target_tracking_scaling_policy_configuration") or {}
    return config.get("customized_metric_specification") or {}


def metric_math_is_well_formed(gs, report: Report) -> None:
    """TargetTrackingMetricDataQuery: each query has "either Expression or MetricStat, but not
    both", ids unique, and "Any expressions used in a metric specification must eventually return
    a single time series" (one query returns data); an expression names only ids defined beside
    it. A percentile is a TargetTrackingMetricStat `Stat` ("any CloudWatch statistic or extended
    statistic"), never the plain form's Statistic."""
    for policy in each(gs, "aws_appautoscaling_policy"):
        custom = _custom(policy)
        if not custom:
            continue
        queries = listed(custom.get("metrics"))
        if not queries:
            report.check(policy, custom.get("statistic") in PLAIN_STATISTICS,
                         f"statistic {custom.get('statistic')!r} is not one of {PLAIN_STATISTICS}")
            continue
        ids = [q.get("id", "") for q in queries]
        report.check(policy, len(set(ids)) == len(ids), f"query ids repeat: {ids}")
        report.check(policy, all(QUERY_ID.fullmatch(i) for i in ids), f"bad query ids: {ids}")
        report.check(policy, sum(bool(q.get("return_data")) for q in queries) == 1,
                     "not exactly one query returns data")
        for q in queries:
            report.check(policy, bool(q.get("expression")) != bool(q.get("metric_stat")),
                         f"query {q.get('id')} needs an expression or a metric_stat, not both")
            # Ids start lower case; metric math's functions (FILL, SUM...) are upper case.
            named = set(re.findall(r"\b[a-z][A-Za-z0-9_]*\b", q.get("expression") or ""))
            report.check(policy, named <= set(ids) - {q.get("id")},
                         f"query {q.get('id')} refers to ids that are not defined: {named}")
            dimensions = listed((q.get("metric_stat") or {}).get("metric", {}).get("dimensions"))
            report.check(policy, len(dimensions) <= DIMENSIONS_MAX,
                         f"query {q.get('id')} has {len(dimensions)} dimensions")


def policies_follow_their_scalable_target(gs, report: Report) -> None:
    """Application Auto Scaling API Reference, "PutScalingPolicy": "You cannot create a scaling
    policy until you have registered the resource as a scalable target", so a policy refers to
    its target's resource id and scalable dimension (which orders it after the target)."""
    for policy in each(gs, "aws_appautoscaling_policy"):
        target = policy.graph.ref(policy.body.get("resource_id"))
        dimension = policy.graph.ref(policy.body.get("scalable_dimension"))
        report.check(policy, target is not None and target.type == "aws_appautoscaling_target"
                     and dimension == target, "does not refer to its scalable target")


def tracked_metrics_are_published(gs, report: Report) -> None:
    """What the queries read must exist, or the policy never has data ("A target tracking scaling
    policy does not perform scaling when the specified metric has insufficient data": Amazon ECS
    Developer Guide, "Use a target metric to scale Amazon ECS services"): ECS/ContainerInsights
    metrics only from a cluster with Container Insights on, for the service the policy scales;
    a target group's TargetResponseTime only for the target group that service is behind."""
    for policy in each(gs, "aws_appautoscaling_policy"):
        g = policy.graph
        target = g.ref(policy.body.get("resource_id"))
        # service/<cluster>/<service>: the service is the target's second reference.
        service = next((g.resources.get(f"{type_}.{id_}") for type_, id_, _ in TOKEN.findall(
            target.body.get("resource_id", "")) if type_ == "aws_ecs_service"), None) \
            if target else None
        for q in listed(_custom(policy).get("metrics")):
            stat = q.get("metric_stat") or {}
            namespace = stat.get("metric", {}).get("namespace")
            dims = {d["name"]: d["value"] for d in listed(stat.get("metric", {})
                                                          .get("dimensions"))}
            if namespace == "ECS/ContainerInsights":
                cluster = g.ref(dims.get("ClusterName"))
                on = cluster is not None and any(
                    s.get("name") == "containerInsights" and s.get("value") in
                    ("enabled", "enhanced") for s in listed(cluster.body.get("setting")))
                report.check(policy, on, "reads Container Insights, which its cluster has off")
                report.check(policy, g.ref(dims.get("ServiceName")) == service,
                             "reads another service's Container Insights metrics")
            if namespace == "AWS/ApplicationELB" and "TargetGroup" in dims:
                behind = {g.ref(lb.get("target_group_arn")) for lb in
                          listed((service.body if service else {}).get("load_balancer"))}
                report.check(policy, g.ref(dims["TargetGroup"]) in behind,
                             "reads a target group its service is not behind")


RULES = [metric_math_is_well_formed, policies_follow_their_scalable_target,
         tracked_metrics_are_published]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_scaling_contract_holds_in_every_stack(rule, every_stack):
    assert_clean(run(rule, every_stack))


def test_every_scaling_rule_has_something_to_check(every_stack):
    assert [r.__name__ for r in RULES if not run(r, every_stack).checked] == []


# --- each rule fails on a broken stack -----------------------------------------------------------

def problems(rule, resources: dict) -> list[str]:
    return run(rule, [FakeStack(resources)]).problems


def policy(*queries: dict, **custom) -> dict:
    spec = {"metrics": list(queries)} if queries else custom
    return {"aws_appautoscaling_policy": {"p": {
        "resource_id": "${aws_appautoscaling_target.t.resource_id}",
        "scalable_dimension": "${aws_appautoscaling_target.t.scalable_dimension}",
        "target_tracking_scaling_policy_configuration": {
            "customized_metric_specification": spec}}}}


def stat(id_: str, namespace: str, dims: dict, returned: bool = False) -> dict:
    return {"id": id_, "return_data": returned, "metric_stat": {"stat": "Average", "metric": {
        "namespace": namespace, "metric_name": "x",
        "dimensions": [{"name": k, "value": v} for k, v in dims.items()]}}}


GOOD = (stat("m1", "BullMQ", {"queue": "q"}), stat("m2", "Other", {}),
        {"id": "e1", "expression": "m1 / m2", "return_data": True})


def test_malformed_metric_math_fails():
    assert problems(metric_math_is_well_formed, policy(*GOOD)) == []
    assert problems(metric_math_is_well_formed, policy(statistic="p99")) == [
        f"fake-stack: aws_appautoscaling_policy p: statistic 'p99' is not one of "
        f"{PLAIN_STATISTICS}"]
    two_returned = (GOOD[0], GOOD[1], {**GOOD[2]}, {"id": "e2", "expression": "m1",
                                                    "return_data": True})
    assert problems(metric_math_is_well_formed, policy(*two_returned))
    assert problems(metric_math_is_well_formed, policy(GOOD[0], {**GOOD[2], "id": "E1"}))
    assert problems(metric_math_is_well_formed, policy(GOOD[0], {**GOOD[2], "metric_stat": {}}))
    assert problems(metric_math_is_well_formed, policy(GOOD[0], GOOD[2]))  # m2 is not defined
    too_many = stat("m1", "BullMQ", {f"d{i}": "x" for i in range(31)}, returned=True)
    assert problems(metric_math_is_well_formed, policy(too_many))


def test_a_policy_without_its_scalable_target_fails():
    alone = policy(*GOOD)
    assert problems(policies_follow_their_scalable_target, alone) == [
        "fake-stack: aws_appautoscaling_policy p: does not refer to its scalable target"]
    target = {"aws_appautoscaling_target": {"t": {"resource_id": "service/c/s"}}}
    assert problems(policies_follow_their_scalable_target, {**alone, **target}) == []


def test_a_metric_nothing_publishes_fails():
    target = {"aws_appautoscaling_target": {"t": {
        "resource_id": "service/${aws_ecs_cluster.c.name}/${aws_ecs_service.s.name}"}}}
    services = {"aws_ecs_service": {
        "s": {"load_balancer": [{"target_group_arn": "${aws_lb_target_group.mine.arn}"}]},
        "other": {}}}
    tasks = stat("m2", "ECS/ContainerInsights", {"ClusterName": "${aws_ecs_cluster.c.name}",
                                                 "ServiceName": "${aws_ecs_service.s.name}"})

    def cluster(insights: str) -> dict:
        return {"aws_ecs_cluster": {"c": {"setting": [{"name": "containerInsights",
                                                       "value": insights}]}}}
    stack = {**target, **services, **cluster("enabled"), **policy(tasks)}
    assert problems(tracked_metrics_are_published, stack) == []
    assert problems(tracked_metrics_are_published, {**stack, **cluster("disabled")}) == [
        "fake-stack: aws_appautoscaling_policy p: reads Container Insights, which its cluster "
        "has off"]
    others = stat("m2", "ECS/ContainerInsights", {"ClusterName": "${aws_ecs_cluster.c.name}",
                                                  "ServiceName": "${aws_ecs_service.other.name}"})
    assert problems(tracked_metrics_are_published, {**stack, **policy(others)})
    latency = {"aws_lb_target_group": {"mine": {}, "theirs": {}}}
    for group, ok in (("mine", True), ("theirs", False)):
        p99 = stat("m1", "AWS/ApplicationELB", {"LoadBalancer": "app/x/1",
                                                "TargetGroup": f"${{aws_lb_target_group.{group}"
                                                               ".arn_suffix}"})
        found = problems(tracked_metrics_are_published, {**stack, **latency, **policy(p99)})
        assert (found == []) is ok, group
