"""The CloudWatch alarms in the stack (deploy/alarms.py): they notify the SNS topic in the
`AlarmTopicArn` parameter, and nobody when it is left empty (condition `HasAlarmTopic`)."""

from deploy import alarms, shared
from deploy.cloudformation.logical_ids import (
    ALARM_TOPIC,
    HAS_ALARM_TOPIC,
    alarm_id,
    function_id,
    queue_id,
)


def add(template: dict) -> tuple[alarms.Alarm, ...]:
    """Add the alarms to `template`, with the condition their actions depend on; the alarms
    added."""
    resources = template["Resources"]
    template.setdefault("Conditions", {})[HAS_ALARM_TOPIC] = {
        "Fn::Not": [{"Fn::Equals": [{"Ref": ALARM_TOPIC}, ""]}]
    }
    described = alarms.alarms(_metrics_stage(resources))
    for alarm in described:
        resources[alarm_id(alarm.name)] = _alarm(alarm)
    return described


def _metrics_stage(resources: dict) -> str:
    """The Stage the functions' metrics carry: the HERALD_STAGE Chalice wrote into them."""
    return alarms.metrics_stage(
        {
            name: resources[function_id(name)]["Properties"]
            .get("Environment", {})
            .get("Variables", {})
            for name in shared.FUNCTIONS
        }
    )


def _dimension_value(value):
    if isinstance(value, str):
        return value  # the metrics' Stage
    if value.kind == "queue_name":
        return {"Fn::GetAtt": [queue_id(value.name), "QueueName"]}
    if value.kind == "function_name":
        return {"Ref": function_id(value.name)}
    raise ValueError(value)


def _metric(metric: alarms.Metric) -> dict:
    return {
        "Namespace": metric.namespace,
        "MetricName": metric.name,
        "Dimensions": [{"Name": metric.dimension, "Value": _dimension_value(metric.value)}],
    }


def _alarm(alarm: alarms.Alarm) -> dict:
    # Actions only when the stack is given a topic.
    actions = {"Fn::If": [HAS_ALARM_TOPIC, [{"Ref": ALARM_TOPIC}], {"Ref": "AWS::NoValue"}]}
    properties = {
        "AlarmName": {"Fn::Sub": "${AWS::StackName}-" + alarm.dashed},
        "AlarmDescription": alarm.description,
        "ComparisonOperator": alarm.comparison,
        "Threshold": alarm.threshold,
        "EvaluationPeriods": alarm.periods,
        "DatapointsToAlarm": alarm.datapoints,
        "TreatMissingData": alarm.treat_missing_data,
        "AlarmActions": actions,
        "OKActions": actions,
    }
    if alarm.metric is not None:
        properties.update(
            _metric(alarm.metric),
            Statistic=alarm.metric.statistic,
            Period=alarm.metric.period,
        )
    else:
        inputs = [
            {
                "Id": id_,
                "MetricStat": {
                    "Metric": _metric(metric),
                    "Period": metric.period,
                    "Stat": metric.statistic,
                },
                "ReturnData": False,
            }
            for id_, metric in alarm.inputs
        ]
        result = {
            "Id": alarms.EXPRESSION_ID,
            "Expression": alarm.expression,
            "Label": alarm.label,
            "ReturnData": True,
        }
        properties["Metrics"] = [*inputs, result]
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}
