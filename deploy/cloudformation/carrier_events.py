"""The carrier events in the stack (deploy/carrier_events.py): the topic End User Messaging
publishes to, its key and policy, and the receipt queue's subscription; on an End User
Messaging stage, the configuration set whose event destination is the topic, and the MMS
media bucket."""

from deploy import carrier_events
from deploy.cloudformation.logical_ids import (
    EVENTS_KEY,
    EVENTS_SUBSCRIPTION,
    EVENTS_TOPIC,
    EVENTS_TOPIC_POLICY,
    MEDIA_BUCKET,
    MEDIA_BUCKET_POLICY,
    RECEIPTS_QUEUE_POLICY,
    queue_id,
)
from deploy.token_key import KEY_DELETION_WINDOW_DAYS

_ACCOUNT_ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
_ACCOUNT_ID = {"Ref": "AWS::AccountId"}
_SMS_VOICE_ARNS = {"Fn::Sub": "arn:${AWS::Partition}:sms-voice:${AWS::Region}:${AWS::AccountId}:*"}


def topic() -> dict:
    """The topic End User Messaging publishes delivery events to, and its way into the
    receipt queue."""
    receipts = queue_id("receipts")
    return {
        EVENTS_KEY: {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "Description": carrier_events.EVENTS_KEY_DESCRIPTION,
                "EnableKeyRotation": True,
                "PendingWindowInDays": KEY_DELETION_WINDOW_DAYS,
                "KeyPolicy": carrier_events.events_key_policy(
                    _ACCOUNT_ROOT,
                    _ACCOUNT_ID,
                    _SMS_VOICE_ARNS,
                ),
            },
        },
        EVENTS_TOPIC: {
            "Type": "AWS::SNS::Topic",
            "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": [EVENTS_KEY, "Arn"]}},
        },
        EVENTS_TOPIC_POLICY: {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [{"Ref": EVENTS_TOPIC}],
                "PolicyDocument": carrier_events.events_topic_policy(
                    {"Ref": EVENTS_TOPIC}, _ACCOUNT_ID, _SMS_VOICE_ARNS
                ),
            },
        },
        RECEIPTS_QUEUE_POLICY: {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": receipts}],
                "PolicyDocument": carrier_events.receipt_queue_policy(
                    {"Fn::GetAtt": [receipts, "Arn"]}, {"Ref": EVENTS_TOPIC}
                ),
            },
        },
        EVENTS_SUBSCRIPTION: {
            "Type": "AWS::SNS::Subscription",
            # Nothing is published before the queue takes it.
            "DependsOn": [RECEIPTS_QUEUE_POLICY],
            "Properties": {
                "TopicArn": {"Ref": EVENTS_TOPIC},
                "Protocol": "sqs",
                "Endpoint": {"Fn::GetAtt": [receipts, "Arn"]},
                "RawMessageDelivery": carrier_events.RAW_MESSAGE_DELIVERY,
            },
        },
    }


def configuration_set() -> dict:
    return {
        "Type": "AWS::SMSVOICE::ConfigurationSet",
        # End User Messaging checks that it may publish when the destination is created.
        "DependsOn": [EVENTS_TOPIC_POLICY, EVENTS_SUBSCRIPTION],
        "Properties": {
            "ConfigurationSetName": {"Ref": "ConfigurationSetName"},
            "EventDestinations": [
                {
                    "EventDestinationName": carrier_events.EVENT_DESTINATION_NAME,
                    "Enabled": True,
                    "MatchingEventTypes": carrier_events.EVENT_TYPES,
                    "SnsDestination": {"TopicArn": {"Ref": EVENTS_TOPIC}},
                }
            ],
        },
    }


def media_bucket() -> dict:
    """The private bucket End User Messaging sends MMS media from (chalicelib.storage.
    media_objects): the sender writes each file, SendMediaMessage reads it as the sender."""
    bucket_arn = {"Fn::GetAtt": [MEDIA_BUCKET, "Arn"]}
    return {
        MEDIA_BUCKET: {
            "Type": "AWS::S3::Bucket",
            # Its objects expire on their own; a bucket that still holds some cannot be
            # deleted with the stack, so it stays (empty it, then delete it).
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "ExpireSentMedia",
                            "Status": "Enabled",
                            "ExpirationInDays": carrier_events.MEDIA_RETENTION_DAYS,
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                        }
                    ]
                },
            },
        },
        MEDIA_BUCKET_POLICY: {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": MEDIA_BUCKET},
                "PolicyDocument": carrier_events.media_bucket_policy(
                    bucket_arn, {"Fn::Sub": "${" + MEDIA_BUCKET + ".Arn}/*"}
                ),
            },
        },
    }
