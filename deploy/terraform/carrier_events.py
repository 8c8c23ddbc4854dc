"""The carrier events in the configuration (deploy/carrier_events.py): the topic End User
Messaging publishes to, its key and policy, and the receipt queue's subscription; on an End
User Messaging stage, the configuration set's event destination (which needs the AWS provider
6.48 or later) and the MMS media bucket."""

import json

from deploy import carrier_events
from deploy.terraform.addresses import (
    ACCOUNT_ID,
    ACCOUNT_ROOT,
    CONFIGURATION_SET,
    EVENTS_KEY,
    EVENTS_SUBSCRIPTION,
    EVENTS_TOPIC,
    EVENTS_TOPIC_POLICY,
    MEDIA_BUCKET,
    RECEIPTS_QUEUE_POLICY,
    SMS_VOICE,
    queue,
    ref,
)
from deploy.token_key import KEY_DELETION_WINDOW_DAYS


def topic() -> dict:
    """The topic End User Messaging publishes delivery events to, and its way into the
    receipt queue."""
    receipts = queue("receipts")
    return {
        EVENTS_KEY: {
            "description": carrier_events.EVENTS_KEY_DESCRIPTION,
            "enable_key_rotation": True,
            "deletion_window_in_days": KEY_DELETION_WINDOW_DAYS,
            "policy": json.dumps(
                carrier_events.events_key_policy(ACCOUNT_ROOT, ACCOUNT_ID, SMS_VOICE + "*")
            ),
        },
        EVENTS_TOPIC: {
            "name": "${local.function_name}-carrier-events",
            "kms_master_key_id": ref(EVENTS_KEY, "arn"),
        },
        EVENTS_TOPIC_POLICY: {
            "arn": ref(EVENTS_TOPIC, "arn"),
            "policy": json.dumps(
                carrier_events.events_topic_policy(
                    ref(EVENTS_TOPIC, "arn"), ACCOUNT_ID, SMS_VOICE + "*"
                )
            ),
        },
        RECEIPTS_QUEUE_POLICY: {
            "queue_url": ref(receipts, "url"),
            "policy": json.dumps(
                carrier_events.receipt_queue_policy(ref(receipts, "arn"), ref(EVENTS_TOPIC, "arn"))
            ),
        },
        EVENTS_SUBSCRIPTION: {
            "topic_arn": ref(EVENTS_TOPIC, "arn"),
            "protocol": "sqs",
            "endpoint": ref(receipts, "arn"),
            "raw_message_delivery": carrier_events.RAW_MESSAGE_DELIVERY,
            # Nothing is published before the queue takes it.
            "depends_on": [RECEIPTS_QUEUE_POLICY],
        },
    }


def event_destination() -> dict:
    return {
        "configuration_set_name": ref(CONFIGURATION_SET, "name"),
        "event_destination_name": carrier_events.EVENT_DESTINATION_NAME,
        "matching_event_types": carrier_events.EVENT_TYPES,
        "sns_destination": {"topic_arn": ref(EVENTS_TOPIC, "arn")},
        # End User Messaging checks that it may publish when the destination is created.
        "depends_on": [EVENTS_TOPIC_POLICY, EVENTS_SUBSCRIPTION],
    }


def media_bucket() -> dict:
    """The private bucket End User Messaging sends MMS media from (chalicelib.storage.
    media_objects): the sender writes each file, SendMediaMessage reads it as the sender."""
    bucket = ref(MEDIA_BUCKET, "id")
    return {
        MEDIA_BUCKET: {"bucket_prefix": "${local.function_name}-media-"},
        "aws_s3_bucket_public_access_block.media": {
            "bucket": bucket,
            "block_public_acls": True,
            "block_public_policy": True,
            "ignore_public_acls": True,
            "restrict_public_buckets": True,
        },
        "aws_s3_bucket_ownership_controls.media": {
            "bucket": bucket,
            "rule": {"object_ownership": "BucketOwnerEnforced"},
        },
        "aws_s3_bucket_server_side_encryption_configuration.media": {
            "bucket": bucket,
            "rule": {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}},
        },
        "aws_s3_bucket_lifecycle_configuration.media": {
            "bucket": bucket,
            "rule": {
                "id": "expire-sent-media",
                "status": "Enabled",
                "filter": {},
                "expiration": {"days": carrier_events.MEDIA_RETENTION_DAYS},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
            },
        },
        "aws_s3_bucket_policy.media": {
            "bucket": bucket,
            "policy": json.dumps(
                carrier_events.media_bucket_policy(
                    ref(MEDIA_BUCKET, "arn"), ref(MEDIA_BUCKET, "arn") + "/*"
                )
            ),
            # Both change the bucket's policy settings; one at a time.
            "depends_on": ["aws_s3_bucket_public_access_block.media"],
        },
    }
