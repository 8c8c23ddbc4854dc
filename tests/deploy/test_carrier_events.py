"""End User Messaging's events and texts reach the receipt queue through an encrypted topic; on
an End User Messaging stage, its configuration set sends them there and the media bucket is
private and forgets; a sandbox stage has none of these."""

import json
import re

from deploy import carrier_events
from tests.deploy.expected import EVENT_TYPES, STAGE

SMS_VOICE = "sms-voice.amazonaws.com"


def check_events_key_policy(policy: dict, root, account_id) -> None:
    """The account administers the topic's key; End User Messaging, for this account only,
    may use it to publish; nobody else may use it."""
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    assert set(by_sid) == {"AccountAdministersTheKey", "EndUserMessagingPublishesEvents"}
    assert by_sid["AccountAdministersTheKey"]["Principal"] == {"AWS": root}
    publishing = by_sid["EndUserMessagingPublishesEvents"]
    assert publishing["Principal"] == {"Service": SMS_VOICE}
    assert publishing["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
    assert publishing["Condition"]["StringEquals"] == {"aws:SourceAccount": account_id}
    for action in by_sid["AccountAdministersTheKey"]["Action"]:
        pattern = re.escape(action).replace(r"\*", ".*")
        assert not re.fullmatch(pattern, "kms:Decrypt") and not re.fullmatch(pattern, "kms:Encrypt")


def check_topic_policy(policy: dict, topic, account_id, sms_voice_arns) -> None:
    """End User Messaging publishes for this account's resources only: its configuration
    set's events, and two-way texts (a number whose two-way channel is the topic)."""
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": SMS_VOICE}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == topic
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": account_id},
        "ArnLike": {"aws:SourceArn": sms_voice_arns},
    }


def check_queue_policy(policy: dict, queue_arn, topic) -> None:
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == queue_arn
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": topic}}


def test_carrier_events_reach_the_receipt_queue_from_an_encrypted_topic(rendered):
    topic, key_name = rendered.events_topic()
    _, rotates, key_policy = rendered.keys()[key_name]
    assert rotates is True
    account, sms_voice = rendered.account_id, rendered.sms_voice_arns
    check_events_key_policy(key_policy, rendered.root, account)
    # End User Messaging may use the key for this account's resources only.
    publishing = {s["Sid"]: s for s in key_policy["Statement"]}["EndUserMessagingPublishesEvents"]
    assert publishing["Condition"]["ArnLike"] == {"aws:SourceArn": sms_voice}
    topics, topic_policy = rendered.topic_policy()
    assert topics == [topic]
    check_topic_policy(topic_policy, topic, account, sms_voice)
    assert rendered.subscription() == {
        "topic": topic,
        "protocol": "sqs",
        "endpoint": "queue/receipts",
        "raw": True,
        "after_queue_policy_of": "receipts",
    }
    # Only the receipt queue takes anything from outside IAM.
    ((queue, (queue_arn, queue_policy)),) = rendered.queue_policies().items()
    assert queue == "receipts"
    check_queue_policy(queue_policy, queue_arn, topic)


# An End User Messaging stage's parameters (Terraform's variables): (a list?, its default). The
# configuration set's name defaults to herald-<stage> either way (configuration_sets()).
EUM_PARAMETERS = {
    "origination_identity_arns": (True, None),  # the user's numbers: no default
    "default_origination_identity": (False, ""),
}
EUM_NAMES = {*EUM_PARAMETERS, "configuration_set_name"}


def test_the_configuration_set_sends_events_to_the_topic_on_end_user_messaging(rendered, carrier):
    parameters = rendered.parameters()
    if carrier == "sandbox":
        assert rendered.configuration_sets() == [] and rendered.buckets() == []
        assert not EUM_NAMES & set(parameters)
        assert "sms-voice:" not in json.dumps(rendered.statements())
        return
    assert {name: parameters[name] for name in EUM_PARAMETERS} == EUM_PARAMETERS
    assert rendered.configuration_sets() == [
        {
            "name": f"herald-{STAGE}",
            "destinations": [
                {
                    "name": "herald-receipts",
                    "enabled": True,
                    "types": EVENT_TYPES,
                    "topic": "carrier_events_topic",
                }
            ],
            # The topic lets End User Messaging publish before the destination is made.
            "after": ["subscription", "topic_policy"],
        }
    ]
    assert rendered.value(rendered.outputs()["ConfigurationSetName"]) == "configuration_set"


def test_the_parameters_are_the_table_the_alarm_topic_and_the_carrier_s(rendered, carrier):
    """And, in Terraform, the stage and the region (a CloudFormation stack has its own)."""
    expected = {"table_name", "alarm_topic_arn"}
    expected |= EUM_NAMES if carrier == "end-user-messaging" else set()
    expected |= {"stage", "region"} if rendered.name == "terraform" else set()
    assert set(rendered.parameters()) == expected


def test_the_configuration_set_matches_only_events_end_user_messaging_has():
    import botocore.session

    model = botocore.session.get_session().get_service_model("pinpoint-sms-voice-v2")
    assert set(EVENT_TYPES) <= set(model.shape_for("EventType").enum)
    assert set(EVENT_TYPES) == set(carrier_events.EVENT_TYPES)


TLS_ONLY = {
    "Sid": "TlsOnly",
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "s3:*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def test_the_media_bucket_is_private_and_forgets(rendered, carrier):
    if carrier == "sandbox":
        assert rendered.buckets() == []  # the sandbox keeps no media
        return
    assert rendered.media_bucket() == {
        "public_access_block": {
            "block_public_acls": True,
            "block_public_policy": True,
            "ignore_public_acls": True,
            "restrict_public_buckets": True,
        },
        "ownership": "BucketOwnerEnforced",
        "encryption": {"SSEAlgorithm": "AES256"},
        "expires": ("Enabled", 7),
        "policy": TLS_ONLY,
        "policy_on": ["bucket", "objects"],
    }
    assert rendered.value(rendered.outputs()["MediaBucketName"]) == "media_bucket"


def test_cfn_media_bucket_outlives_the_stack(sam, carrier):
    if carrier == "sandbox":
        assert "MediaBucket" not in sam["Resources"]
        return
    assert sam["Resources"]["MediaBucket"]["DeletionPolicy"] == "Retain"
