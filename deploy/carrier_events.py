"""Carrier events: End User Messaging -> SNS -> the receipt queue, as both templates create
them. Every stage gets the topic (with its own key), its policy and the receipt queue's
subscription; a stage whose carrier is End User Messaging also gets the configuration set
whose event destination is the topic, and the private bucket its MMS media are sent from.
"""

from chalicelib.carriers import events
from deploy.token_key import account_administers_key

# The configuration set's event destination is an SNS topic; the receipt queue subscribes to
# it with raw message delivery, so each job's body is the event itself, as the sandbox queues
# it (chalicelib.carriers.events.parse also reads SNS's envelope, should it be turned off).
RAW_MESSAGE_DELIVERY = True
SMS_VOICE_PRINCIPAL = "sms-voice.amazonaws.com"
SNS_PRINCIPAL = "sns.amazonaws.com"
EVENT_DESTINATION_NAME = "herald-receipts"
# The events that move a message (TEXT_QUEUED and TEXT_PENDING change nothing: not sent).
EVENT_TYPES = sorted(name for name, (status, _) in events.EVENT_STATUSES.items() if status)
EVENTS_KEY_DESCRIPTION = "Herald: encrypts the carrier events topic (End User Messaging receipts)"


# MMS media (End User Messaging stages): kept until End User Messaging has surely fetched it
# (a text lives at most 72 hours, TimeToLive's maximum), then expired.
MEDIA_RETENTION_DAYS = 7


def media_bucket_policy(bucket_arn, objects_arn) -> dict:
    """Nothing but TLS reaches the media bucket (it is private: no one outside IAM at all)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": [bucket_arn, objects_arn],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def events_key_policy(account_root, account_id, sms_voice_arns) -> dict:
    """The carrier events topic's key. The account administers it through IAM; End User
    Messaging may use it to publish to the topic (an encrypted topic needs a customer
    managed key: the AWS-managed SNS key cannot let a service publish), from this account's
    resources only. ARNs and ids in the writer's syntax."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            account_administers_key(account_root),
            {
                "Sid": "EndUserMessagingPublishesEvents",
                "Effect": "Allow",
                "Principal": {"Service": SMS_VOICE_PRINCIPAL},
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": sms_voice_arns},
                },
            },
        ],
    }


def events_topic_policy(topic_arn, account_id, sms_voice_arns) -> dict:
    """Only End User Messaging may publish to the topic, for resources of this account: the
    configuration set's delivery events, and two-way texts from a number whose two-way
    channel is this topic (chalicelib.inbound)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EndUserMessagingPublishesEvents",
                "Effect": "Allow",
                "Principal": {"Service": SMS_VOICE_PRINCIPAL},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": sms_voice_arns},
                },
            }
        ],
    }


def receipt_queue_policy(queue_arn, topic_arn) -> dict:
    """The receipt queue takes messages from the carrier events topic, and from nothing else
    outside IAM (the functions' roles send and consume through their own policies)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CarrierEventsTopicDelivers",
                "Effect": "Allow",
                "Principal": {"Service": SNS_PRINCIPAL},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
