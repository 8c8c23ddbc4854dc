"""The CloudWatch alarms in the configuration (deploy/alarms.py): they notify the SNS topic in
`var.alarm_topic_arn`, and nobody when it is left empty (`local.alarm_actions` is then an
empty list)."""

from deploy import alarms, shared
from deploy.terraform import addresses

# Every alarm's actions: the user's topic, or none (var.alarm_topic_arn left empty).
ALARM_ACTIONS = '${var.alarm_topic_arn == "" ? [] : [var.alarm_topic_arn]}'


def add(config: dict) -> tuple[alarms.Alarm, ...]:
    """Add the alarms to `config`, with the local their actions read; the alarms added."""
    resources = config["resource"]
    config["locals"]["alarm_actions"] = ALARM_ACTIONS
    added = alarms.alarms(_metrics_stage(resources))
    for described in added:
        addresses.add(resources, addresses.alarm(described.name), _alarm(described))
    return added


def _metrics_stage(resources: dict) -> str:
    """The Stage the functions' metrics carry: the HERALD_STAGE Chalice wrote into them
    (from the stage packaged: var.stage names the resources, it does not change this)."""
    functions = resources["aws_lambda_function"]
    return alarms.metrics_stage(
        {
            name: functions[name].get("environment", {}).get("variables", {})
            for name in shared.FUNCTIONS
        }
    )


def _dimension_value(value) -> str:
    if isinstance(value, str):
        return value  # the metrics' Stage
    if value.kind == "queue_name":
        return addresses.ref(addresses.queue(value.name), "name")
    if value.kind == "function_name":
        return addresses.ref(addresses.function(value.name), "function_name")
    raise ValueError(value)


def _metric(metric: alarms.Metric) -> dict:
    return {
        "namespace": metric.namespace,
        "metric_name": metric.name,
        "dimensions": {metric.dimension: _dimension_value(metric.value)},
    }


def _alarm(described: alarms.Alarm) -> dict:
    body = {
        "alarm_name": "${local.function_name}-" + described.dashed,
        "alarm_description": described.description,
        "comparison_operator": described.comparison,
        "threshold": described.threshold,
        "evaluation_periods": described.periods,
        "datapoints_to_alarm": described.datapoints,
        "treat_missing_data": described.treat_missing_data,
        "alarm_actions": "${local.alarm_actions}",
        "ok_actions": "${local.alarm_actions}",
    }
    if described.metric is not None:
        body.update(
            _metric(described.metric),
            statistic=described.metric.statistic,
            period=described.metric.period,
        )
        return body
    inputs = [
        {
            "id": id_,
            "return_data": False,
            "metric": {**_metric(metric), "stat": metric.statistic, "period": metric.period},
        }
        for id_, metric in described.inputs
    ]
    result = {
        "id": alarms.EXPRESSION_ID,
        "expression": described.expression,
        "label": described.label,
        "return_data": True,
    }
    body["metric_query"] = [*inputs, result]
    return body
