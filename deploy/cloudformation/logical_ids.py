"""The logical IDs of what Herald's stack holds: Chalice's (the functions, the API) and those
of the resources deploy/cloudformation adds."""

from chalice.utils import to_cfn_resource_name

from deploy import shared

TABLE = "MessagesTable"
SECRET = "PageTokenSecret"
KEY = "TokenKey"
EVENTS_KEY = "CarrierEventsKey"
EVENTS_TOPIC = "CarrierEventsTopic"
EVENTS_TOPIC_POLICY = "CarrierEventsTopicPolicy"
EVENTS_SUBSCRIPTION = "CarrierEventsSubscription"
RECEIPTS_QUEUE_POLICY = "ReceiptsQueuePolicy"
CONFIGURATION_SET = "ConfigurationSet"
MEDIA_BUCKET = "MediaBucket"
MEDIA_BUCKET_POLICY = "MediaBucketPolicy"
API = "RestAPI"
ALARM_TOPIC = "AlarmTopicArn"  # the parameter: an SNS topic of the user's, or empty
HAS_ALARM_TOPIC = "HasAlarmTopic"  # the condition: alarms notify only when it is given
ALARM_NAMES = "AlarmNames"  # the output
# Chalice's logical ID of the API function (the others are to_cfn_resource_name(name)).
API_FUNCTION = "APIHandler"


def function_id(name: str) -> str:
    return API_FUNCTION if name == shared.API_FUNCTION else to_cfn_resource_name(name)


def role_id(name: str) -> str:
    return function_id(name) + "Role"


def policy_id(name: str) -> str:
    return function_id(name) + "Policy"


def log_group_id(name: str) -> str:
    return function_id(name) + "LogGroup"


def queue_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Queue"


def alarm_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Alarm"
