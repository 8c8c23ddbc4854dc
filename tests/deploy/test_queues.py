"""The queues and what invokes each function: every queue encrypted, every work queue with a
dead-letter queue, each feeding its function with partial batch failures; the table's stream
feeding the dispatcher; the scheduler every minute; no placeholder source left."""

import json

from tests.deploy.expected import (
    FOURTEEN_DAYS,
    PLACEHOLDERS,
    REPORT_FAILURES,
    STREAM_FAILURES,
    WORK_QUEUES,
)
from tests.deploy.rendered import Terraform, tf_ref


def test_every_queue_is_encrypted_and_every_work_queue_has_a_dead_letter_queue(rendered):
    queues = rendered.queues()
    assert set(queues) == {
        *WORK_QUEUES,
        *(f"{name}_dead_letter" for name in WORK_QUEUES),
        STREAM_FAILURES,
    }
    for queue in queues.values():
        assert queue["encrypted"] is True
        assert queue["kms_key"] is None
    for name, (consumer, receives) in WORK_QUEUES.items():
        assert queues[name]["dead_letter"] == f"{name}_dead_letter"
        assert queues[name]["receives"] == receives
        timeout = rendered.function_settings(consumer)["timeout"]
        assert queues[name]["visibility"] >= 6 * timeout
        dead_letter = queues[f"{name}_dead_letter"]
        assert dead_letter["retention"] == FOURTEEN_DAYS
        assert dead_letter["dead_letter"] is None
    assert queues[STREAM_FAILURES]["retention"] == FOURTEEN_DAYS


def test_each_queue_feeds_its_function_with_partial_batch_failures(rendered):
    sources = rendered.event_sources()
    for name, (consumer, _) in WORK_QUEUES.items():
        (source,) = sources[consumer]
        assert source["source"] == f"queue/{name}"
        assert source["response_types"] == REPORT_FAILURES
        assert source["batch_size"] == 10


def test_the_stream_feeds_the_dispatcher_until_its_records_expire(rendered):
    (source,) = rendered.event_sources()["dispatcher"]
    del source["batch_size"]  # the service's default
    assert source == {
        "source": "stream",
        "response_types": REPORT_FAILURES,
        "starting_position": "TRIM_HORIZON",
        "bisect": True,
        "retries": -1,
        "record_age": 86_400,  # the stream keeps 24 hours
        "on_failure": f"queue/{STREAM_FAILURES}",
    }


def test_the_scheduler_runs_every_minute_and_nothing_else_is_invoked_but_by_its_source(rendered):
    sources = rendered.event_sources()
    assert sources["scheduler"] == [{"source": "schedule", "expression": "rate(1 minute)"}]
    # The API is invoked by API Gateway alone.
    assert set(sources) == {"dispatcher", "scheduler", *(c for c, _ in WORK_QUEUES.values())}


def test_tf_event_source_mappings_wait_for_their_function_s_permissions(tf):
    """Lambda checks the role's permissions on the source when the mapping is created (in
    CloudFormation the events are the function's, which waits for its policy)."""
    rendered = Terraform(tf)
    for mapping in tf["resource"]["aws_lambda_event_source_mapping"].values():
        _, function, _ = tf_ref(mapping["function_name"])
        assert mapping["depends_on"] == [f"aws_iam_role_policy.{rendered.policy_of(function)}"]


def test_tf_the_scheduler_rule_is_named_for_its_stage(tf):
    (rule,) = tf["resource"]["aws_cloudwatch_event_rule"].values()
    assert rule["name"] == "${local.function_name}-scheduler"


def test_no_placeholder_source_is_left(rendered):
    text = json.dumps(rendered.doc)
    for placeholder in PLACEHOLDERS:
        assert placeholder not in text
