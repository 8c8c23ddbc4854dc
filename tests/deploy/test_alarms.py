"""The alarms of docs/operations.md ("Alarms") in both outputs: each watches what it says, on
the stage the functions emit, notifies the topic only when one is given, and links its section."""

import json
import re
from pathlib import Path

import pytest

from chalicelib.observability import metrics
from deploy import package
from tests.deploy.expected import ROOT, STAGE, STREAM_FAILURES
from tests.deploy.rendered import CloudFormation

# The Stage the functions' metrics carry: the dev stage's HERALD_STAGE.
METRICS_STAGE = "dev"
STAGE_DIMENSION = {"Stage": f"literal/{METRICS_STAGE}"}
DEAD_LETTER_QUEUES = ("send_dead_letter", "receipts_dead_letter", "callbacks_dead_letter")
# Alarm name (after the stack's or `herald-<stage>`) -> (threshold, periods, its metric or
# metrics). A metric: (namespace, name, {dimension: what it names}, statistic, period);
# what it names is "literal/<value>", "queue/<name>" or "function/<name>". A rate alarm has
# (bad id, good id) and {id: metric}.
ALARMS = {
    **{
        f"{queue.replace('_', '-')}-not-empty": (
            0,
            1,
            (
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                {"QueueName": f"queue/{queue}"},
                "Maximum",
                300,
            ),
        )
        for queue in (*DEAD_LETTER_QUEUES, STREAM_FAILURES)
    },
    "messages-failing": (0.05, 3, ("f", "s"), {"f": "MessagesFailed", "s": "MessagesSent"}),
    "messages-undelivered": (
        0.20,
        3,
        ("u", "d"),
        {"u": "MessagesUndelivered", "d": "MessagesDelivered"},
    ),
    "callbacks-failing": (
        0.10,
        3,
        ("c", "k"),
        {"c": "CallbackFailures", "k": "CallbacksDelivered"},
    ),
    "callback-failures": (100, 1, ("Herald", "CallbackFailures", STAGE_DIMENSION, "Sum", 300)),
    "dispatcher-behind": (
        300_000,
        5,
        ("AWS/Lambda", "IteratorAge", {"FunctionName": "function/dispatcher"}, "Maximum", 60),
    ),
    "carrier-throttling": (100, 3, ("Herald", "SendThrottled", STAGE_DIMENSION, "Sum", 300)),
}
RATE_FLOOR = 20  # a rate alarm ignores a period of fewer messages
ALARM_FUNCTIONS = {"IF", "FILL"}


def expected_alarm(name: str) -> dict:
    """The alarm in the shape `cfn_alarms` and `tf_alarms` read both outputs into."""
    threshold, periods, *rest = ALARMS[name]
    expected = {
        "threshold": threshold,
        "periods": periods,
        "datapoints": periods,
        "comparison": "GreaterThanThreshold",
        "missing": "notBreaching",
    }
    if len(rest) == 1:
        expected["metric"] = rest[0]
    else:
        expected["rate_of"], inputs = rest
        expected["inputs"] = {
            id_: ("Herald", metric, STAGE_DIMENSION, "Sum", 300) for id_, metric in inputs.items()
        }
    return expected


def cfn_dimension(sam: dict, value) -> str:
    if isinstance(value, str):
        return f"literal/{value}"
    if "Fn::GetAtt" in value:
        (logical, attribute) = value["Fn::GetAtt"]
        assert attribute == "QueueName", value
        return f"queue/{CloudFormation(sam).queue_name(logical)}"  # a queue this template creates
    # A function this template creates (Ref: its name).
    (function,) = [
        name
        for name, f in CloudFormation(sam).functions().items()
        if f is sam["Resources"][value["Ref"]]
    ]
    return f"function/{function}"


def cfn_alarm_resources(sam: dict) -> dict:
    return CloudFormation(sam).resources_of("AWS::CloudWatch::Alarm")


def cfn_metric(sam: dict, metric: dict, statistic: str, period: int) -> tuple:
    assert set(metric) == {"Namespace", "MetricName", "Dimensions"}
    dimensions = {d["Name"]: cfn_dimension(sam, d["Value"]) for d in metric["Dimensions"]}
    return (metric["Namespace"], metric["MetricName"], dimensions, statistic, period)


def cfn_alarms(sam: dict) -> dict:
    """Alarm name (after the stack's) -> the alarm, in the expectation's shape."""
    alarms = {}
    for alarm in cfn_alarm_resources(sam).values():
        p = alarm["Properties"]
        prefix = "${AWS::StackName}-"
        assert p["AlarmName"]["Fn::Sub"].startswith(prefix)
        name = p["AlarmName"]["Fn::Sub"][len(prefix) :]
        read = {
            "threshold": p["Threshold"],
            "periods": p["EvaluationPeriods"],
            "datapoints": p["DatapointsToAlarm"],
            "comparison": p["ComparisonOperator"],
            "missing": p["TreatMissingData"],
        }
        if "Metrics" in p:
            assert not {"MetricName", "Namespace", "Statistic", "Period"} & set(p)
            inputs = [m for m in p["Metrics"] if "MetricStat" in m]
            (result,) = [m for m in p["Metrics"] if "Expression" in m]
            assert [m["ReturnData"] for m in inputs] == [False] * len(inputs)
            assert result["ReturnData"] is True
            read["inputs"] = {
                m["Id"]: cfn_metric(sam, stat["Metric"], stat["Stat"], stat["Period"])
                for m in inputs
                for stat in [m["MetricStat"]]
            }
            read["expression"] = result["Expression"]
        else:
            metric = {k: p[k] for k in ("Namespace", "MetricName", "Dimensions")}
            read["metric"] = cfn_metric(sam, metric, p["Statistic"], p["Period"])
        assert name not in alarms
        alarms[name] = read
    return alarms


TF_VALUE = re.compile(r"^\$\{(aws_sqs_queue|aws_lambda_function)\.(\w+)\.(name|function_name)\}$")


def tf_dimension(tf: dict, value: str) -> str:
    match = TF_VALUE.match(value)
    if match is None:
        assert "${" not in value, value
        return f"literal/{value}"
    kind, name, attribute = match.groups()
    assert name in tf["resource"][kind]  # a resource this configuration creates
    if kind == "aws_sqs_queue":
        assert attribute == "name"
        return f"queue/{name}"
    assert attribute == "function_name"
    return f"function/{name}"


def tf_metric(tf: dict, metric: dict, statistic: str, period: int) -> tuple:
    dimensions = {k: tf_dimension(tf, v) for k, v in metric["dimensions"].items()}
    return (metric["namespace"], metric["metric_name"], dimensions, statistic, period)


def tf_alarms(tf: dict) -> dict:
    alarms = {}
    for alarm in tf["resource"]["aws_cloudwatch_metric_alarm"].values():
        prefix = "${local.function_name}-"
        assert alarm["alarm_name"].startswith(prefix)
        name = alarm["alarm_name"][len(prefix) :]
        read = {
            "threshold": alarm["threshold"],
            "periods": alarm["evaluation_periods"],
            "datapoints": alarm["datapoints_to_alarm"],
            "comparison": alarm["comparison_operator"],
            "missing": alarm["treat_missing_data"],
        }
        if "metric_query" in alarm:
            assert not {"metric_name", "namespace", "statistic", "period"} & set(alarm)
            inputs = [q for q in alarm["metric_query"] if "metric" in q]
            (result,) = [q for q in alarm["metric_query"] if "expression" in q]
            assert [q["return_data"] for q in inputs] == [False] * len(inputs)
            assert result["return_data"] is True
            read["inputs"] = {
                q["id"]: tf_metric(tf, q["metric"], q["metric"]["stat"], q["metric"]["period"])
                for q in inputs
            }
            read["expression"] = result["expression"]
        else:
            read["metric"] = tf_metric(tf, alarm, alarm["statistic"], alarm["period"])
        assert name not in alarms
        alarms[name] = read
    return alarms


def evaluate(expression: str, values: dict) -> float:
    """The metric math of a rate alarm on one period (None: the metric has no data point)."""

    def fill(value, default):
        return default if value is None else value

    def if_(condition, then, otherwise):
        return then if condition else otherwise

    python = expression.replace("IF(", "if_(").replace("FILL(", "fill(")
    # Python evaluates both branches: the cases below all have messages (no 0 / 0).
    return eval(python, {"__builtins__": {}, "if_": if_, "fill": fill}, dict(values))


def check_rate(expression: str, bad: str, good: str, threshold: float) -> None:
    ids = set(re.findall(r"\b[a-z]\w*\b", expression))
    assert ids == {bad, good}, expression  # the ids it reads are the alarm's metrics
    assert set(re.findall(r"\b[A-Z]+(?=\()", expression)) <= ALARM_FUNCTIONS
    # bad / (bad + good) from RATE_FLOOR messages in the period, else 0.
    assert evaluate(expression, {bad: 3, good: 17}) == pytest.approx(3 / 20)
    assert evaluate(expression, {bad: 1, good: 99}) == pytest.approx(0.01)
    assert evaluate(expression, {bad: 5, good: 5}) == 0  # 10 messages: too few to tell
    # A count is published only where it happened: failures alone are a rate of 1 ...
    assert evaluate(expression, {bad: RATE_FLOOR, good: None}) == 1
    assert evaluate(expression, {bad: RATE_FLOOR, good: None}) > threshold
    assert evaluate(expression, {bad: RATE_FLOOR - 1, good: None}) == 0
    # ... and no failures at all a rate of 0.
    assert evaluate(expression, {bad: None, good: 500}) == 0


def alarms_of(rendered) -> dict:
    return (cfn_alarms if rendered.name == "cloudformation" else tf_alarms)(rendered.doc)


def test_the_alarms_of_docs_operations_are_in_the_templates(rendered):
    alarms = alarms_of(rendered)
    assert set(alarms) == set(ALARMS)
    for name, alarm in alarms.items():
        expected = expected_alarm(name)
        if "rate_of" in expected:
            bad, good = expected.pop("rate_of")
            check_rate(alarm.pop("expression"), bad, good, expected["threshold"])
        assert alarm == expected, name


def test_the_alarms_watch_the_stage_the_functions_emit(rendered):
    """The Stage dimension is the HERALD_STAGE each function is told outright, as
    .chalice/config.json gives it to the stage packaged."""
    assert package.stage_config(STAGE).environment_variables["HERALD_STAGE"] == METRICS_STAGE
    told = {rendered.told(name)["HERALD_STAGE"] for name in rendered.functions()}
    assert told == {METRICS_STAGE}
    for alarm in alarms_of(rendered).values():
        for metric in alarm.get("inputs", {"": alarm.get("metric")}).values():
            if metric[0] == "Herald":
                assert metric[0] == metrics.NAMESPACE
                assert metric[1] in metrics.METRICS
                assert [list(metric[2])] == metrics.DIMENSIONS


def resolve(value, parameters: dict, conditions: dict):
    """CloudFormation's Ref, Fn::If, Fn::Not, Fn::Equals and AWS::NoValue on `value`."""
    if isinstance(value, list):
        resolved = [resolve(item, parameters, conditions) for item in value]
        return [item for item in resolved if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if value == {"Ref": "AWS::NoValue"}:
        return NO_VALUE
    if set(value) == {"Ref"} and value["Ref"] in parameters:
        return parameters[value["Ref"]]
    if "Fn::If" in value:
        condition, then, otherwise = value["Fn::If"]
        chosen = then if resolve(conditions[condition], parameters, conditions) else otherwise
        return resolve(chosen, parameters, conditions)
    if "Fn::Not" in value:
        (operand,) = value["Fn::Not"]
        return not resolve(operand, parameters, conditions)
    if "Fn::Equals" in value:
        left, right = (resolve(v, parameters, conditions) for v in value["Fn::Equals"])
        return left == right
    if any(key == "Ref" or key.startswith("Fn::") for key in value):
        return value  # another intrinsic function, left as it is
    resolved = {key: resolve(item, parameters, conditions) for key, item in value.items()}
    return {key: item for key, item in resolved.items() if item is not NO_VALUE}


NO_VALUE = object()
TOPIC = "arn:aws:sns:eu-west-1:123456789012:herald-prod-alarms"


def test_cfn_alarms_notify_the_topic_only_when_one_is_given(sam):
    parameter = sam["Parameters"]["AlarmTopicArn"]
    assert parameter["Type"] == "String" and parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch(TOPIC)
    assert not pattern.fullmatch("herald-prod-alarms")
    conditions = sam["Conditions"]
    alarms = cfn_alarm_resources(sam)
    assert len(alarms) == len(ALARMS)
    for alarm in alarms.values():
        properties = alarm["Properties"]
        assert "ActionsEnabled" not in properties  # enabled (checkov's CKV_AWS_319)
        for key in ("AlarmActions", "OKActions"):
            assert "Fn::If" in properties[key]  # on a condition of the parameter
            for given, expected in (("", NO_VALUE), (TOPIC, [TOPIC])):
                resolved = resolve(properties[key], {"AlarmTopicArn": given}, conditions)
                assert resolved == expected or resolved is expected, (given, key)
        assert "InsufficientDataActions" not in properties


def test_tf_alarms_notify_the_topic_only_when_one_is_given(tf):
    variable = tf["variable"]["alarm_topic_arn"]
    assert variable["type"] == "string" and variable["default"] == ""
    (validation,) = variable["validation"]
    assert 'var.alarm_topic_arn == "" ||' in validation["condition"]
    # The actions are one list: the topic when it is given, else empty.
    assert tf["locals"]["alarm_actions"] == (
        '${var.alarm_topic_arn == "" ? [] : [var.alarm_topic_arn]}'
    )
    alarms = tf["resource"]["aws_cloudwatch_metric_alarm"]
    assert len(alarms) == len(ALARMS)
    for alarm in alarms.values():
        assert alarm["alarm_actions"] == alarm["ok_actions"] == "${local.alarm_actions}"
        assert "actions_enabled" not in alarm and "insufficient_data_actions" not in alarm


def test_alarm_names_carry_the_stack_or_the_stage(sam, tf):
    cfn = [a["Properties"]["AlarmName"] for a in cfn_alarm_resources(sam).values()]
    assert all(name["Fn::Sub"].startswith("${AWS::StackName}-") for name in cfn)
    assert tf["locals"]["function_name"] == "herald-${var.stage}"
    terraform = [a["alarm_name"] for a in tf["resource"]["aws_cloudwatch_metric_alarm"].values()]
    assert all(name.startswith("${local.function_name}-") for name in terraform)
    alarm_ids = [{"Ref": logical} for logical in cfn_alarm_resources(sam)]
    assert sam["Outputs"]["AlarmNames"]["Value"] == {"Fn::Join": [",", alarm_ids]}
    output = tf["output"]["AlarmNames"]["value"]
    names = re.findall(r"aws_cloudwatch_metric_alarm\.(\w+)\.alarm_name", output)
    assert sorted(names) == sorted(tf["resource"]["aws_cloudwatch_metric_alarm"])


def markdown_anchors(path: Path) -> set[str]:
    """GitHub's anchors for a page's headings."""
    anchors = set()
    for heading in re.findall(r"^#+ (.+)$", path.read_text(), flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def test_each_alarm_says_what_to_do_and_links_its_section(sam, tf):
    anchors = markdown_anchors(ROOT / "docs" / "operations.md")
    descriptions = [a["Properties"]["AlarmDescription"] for a in cfn_alarm_resources(sam).values()]
    assert descriptions == [
        a["alarm_description"] for a in tf["resource"]["aws_cloudwatch_metric_alarm"].values()
    ]
    for description in descriptions:
        assert len(description) <= 1024  # CloudWatch's limit
        assert description.startswith(("Page: ", "Ticket: "))
        (anchor,) = re.findall(r"docs/operations\.md#([\w-]+)", description)
        assert anchor in anchors, anchor


def test_cfn_alarms_are_put_metric_alarm_requests(sam):
    """Each alarm's properties, with its references filled in, are a PutMetricAlarm request
    botocore accepts (CloudFormation's properties are the API's)."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("cloudwatch")
    shape = model.operation_model("PutMetricAlarm").input_shape
    for logical, alarm in cfn_alarm_resources(sam).items():
        request = resolve(alarm["Properties"], {"AlarmTopicArn": TOPIC}, sam["Conditions"])
        text = json.dumps(request)
        text = re.sub(r'\{"Fn::Sub": "\$\{AWS::StackName\}-([\w-]+)"\}', r'"herald-dev-\1"', text)
        text = re.sub(r'\{"Fn::GetAtt": \["(\w+)", "QueueName"\]\}', r'"herald-dev-\1"', text)
        text = re.sub(r'\{"Ref": "Dispatcher"\}', '"herald-dev-dispatcher"', text)
        report = ParamValidator().validate(json.loads(text), shape)
        assert not report.has_errors(), (logical, report.generate_report())
        for metric in json.loads(text).get("Metrics", []):
            assert re.fullmatch(r"[a-z]\w*", metric["Id"])  # CloudWatch's rule for ids
