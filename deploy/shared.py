"""What the CloudFormation and Terraform outputs both say, written once.

The table's keys and indexes come from `storage.table_definition()`, the API's IAM actions
from `storage.ACTIONS` and the event sources' placeholder names from
`chalicelib.delivery.sources`, so the templates cannot drift from what the code does.

Everything a function may do, and every variable it gets, is described here once, in terms
of a small vocabulary of resources (`Resource`, `Value`): each template writer only says how
its own syntax names the table, a queue, the key or a log group. The CloudWatch alarms
(docs/operations.md, "Alarms") are described the same way, at the end.
"""

import json
from dataclasses import dataclass, field

from chalicelib import errors, storage
from chalicelib.carriers import END_USER_MESSAGING, SANDBOX, events
from chalicelib.carriers import end_user_messaging as eum
from chalicelib.delivery import sources
from chalicelib.observability import metrics

# Environment variables the functions read (chalicelib/config.py).
TABLE_VARIABLE = "HERALD_TABLE_NAME"
SECRET_VARIABLE = "HERALD_PAGE_TOKEN_SECRET"
SEND_QUEUE_VARIABLE = "HERALD_SEND_QUEUE_URL"
CALLBACK_QUEUE_VARIABLE = "HERALD_CALLBACK_QUEUE_URL"
RECEIPT_QUEUE_VARIABLE = "HERALD_RECEIPT_QUEUE_URL"
KMS_KEY_VARIABLE = "HERALD_KMS_KEY_ID"
CARRIER_VARIABLE = "HERALD_CARRIER"
CARRIERS = (SANDBOX, END_USER_MESSAGING)
CONFIGURATION_SET_VARIABLE = eum.CONFIGURATION_SET_VARIABLE
ORIGINATION_VARIABLE = eum.ORIGINATION_VARIABLE
MEDIA_BUCKET_VARIABLE = "HERALD_MEDIA_BUCKET"
# Variables for local runs only: a local DynamoDB, SQS or KMS (any AWS_ENDPOINT_URL_*),
# callbacks to loopback and private addresses, dynalite's read-back. Never deployed.
LOCAL_ONLY_VARIABLES = (
    "DYNAMODB_ENDPOINT_URL",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_KMS",
    "HERALD_ALLOW_PRIVATE_URLS",
    "HERALD_READ_BACK_REFUSED_WRITES",
)


def is_local_only(variable: str) -> bool:
    return variable in LOCAL_ONLY_VARIABLES or variable.startswith("AWS_ENDPOINT_URL")


SECRET_LENGTH = 64


def default_table_name(stage: str) -> str:
    return f"herald-{stage}-messages"


def table_definition() -> dict:
    """The CreateTable request without its name (each template names the table itself)."""
    definition = storage.table_definition("unused")
    del definition["TableName"]
    return definition


# --- what the templates create, in words both writers understand ---------------------------


@dataclass(frozen=True)
class Resource:
    """Something a grant covers. kind: table | indexes (all of the table's) | index (one,
    by name) | stream (the table's) | queue (by name) | key | logs (the function's own
    log group) | origination_identities (the stage's list of End User Messaging phone
    numbers, sender IDs and pools: a list, so it stands alone in its grant) |
    configuration_set (the stage's End User Messaging configuration set) | carrier_messages
    (End User Messaging's messages in this account) | media_objects (the objects in the
    media bucket)."""

    kind: str
    name: str = ""


TABLE = Resource("table")
INDEXES = Resource("indexes")
STREAM = Resource("stream")
KEY = Resource("key")
LOGS = Resource("logs")
ORIGINATION_IDENTITIES = Resource("origination_identities")
CONFIGURATION_SET = Resource("configuration_set")
CARRIER_MESSAGES = Resource("carrier_messages")
MEDIA_OBJECTS = Resource("media_objects")
# Resources the writers name as a whole list: a grant on one names nothing else.
LISTS = {ORIGINATION_IDENTITIES}


def index(name: str) -> Resource:
    return Resource("index", name)


def queue(name: str) -> Resource:
    return Resource("queue", name)


@dataclass(frozen=True)
class Value:
    """What a variable is set to, by reference. kind: table_name | page_token_secret |
    queue_url (by queue name) | key_arn | configuration_set_name |
    default_origination_identity (a template parameter, possibly empty) | media_bucket
    (its name)."""

    kind: str
    name: str = ""


TABLE_NAME = Value("table_name")
PAGE_TOKEN_SECRET = Value("page_token_secret")
KEY_ARN = Value("key_arn")
CONFIGURATION_SET_NAME = Value("configuration_set_name")
DEFAULT_ORIGINATION_IDENTITY = Value("default_origination_identity")
MEDIA_BUCKET = Value("media_bucket")


def queue_url(name: str) -> Value:
    return Value("queue_url", name)


@dataclass(frozen=True)
class Grant:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[Resource, ...]


@dataclass(frozen=True)
class Function:
    name: str  # Chalice's name: the decorator's `name=`, the key in .chalice/config.json
    description: str
    grants: tuple[Grant, ...]
    variables: dict[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class Queue:
    """A work queue between two steps: fed by one function, read by `consumer` through an
    event source mapping, with a dead-letter queue for jobs received too often."""

    name: str
    placeholder: str  # the queue name app.py's decorator gives (chalicelib.delivery.sources)
    consumer: str
    max_receive_count: int
    url_variable: str


# Every receive counts towards maxReceiveCount: a job retried later (RetryLater) or handed
# back by a batch failure is received again.
QUEUES = (
    # Carrier throttling is retried up to HERALD_MAX_SEND_ATTEMPTS (6) times and waiting
    # out another worker's lease is a receive too: 20 leaves room for both.
    Queue("send", sources.SEND_QUEUE, "sender", 20, SEND_QUEUE_VARIABLE),
    Queue("receipts", sources.RECEIPT_QUEUE, "receipts", 10, RECEIPT_QUEUE_VARIABLE),
    # A callback is retried as often as its URL's #rc= says, at most 5 times (Twilio's bound).
    Queue("callbacks", sources.CALLBACK_QUEUE, "callbacks", 10, CALLBACK_QUEUE_VARIABLE),
)
QUEUES_BY_NAME = {q.name: q for q in QUEUES}
# Where the stream mapping puts what it could not deliver to the dispatcher (OnFailure):
# the shard and sequence numbers of the batch, not the records themselves.
STREAM_FAILURES = "dispatcher_failures"


def dead_letter(queue_name: str) -> str:
    return f"{queue_name}_dead_letter"


def all_queue_names() -> list[str]:
    """Every queue the templates create: the work queues, their DLQs, the stream's DLQ."""
    names = []
    for work in QUEUES:
        names += [work.name, dead_letter(work.name)]
    return [*names, STREAM_FAILURES]


# Lambda's advice for an SQS event source: a visibility timeout of at least six times the
# function's timeout, so a batch Lambda retries after throttling is not handed out twice.
VISIBILITY_PER_TIMEOUT = 6
WORK_RETENTION_SECONDS = 4 * 86_400  # SQS's default, written out
# A dead-letter queue keeps a job's original enqueue time, so it keeps jobs longer than the
# queue it serves (SQS's maximum).
DEAD_LETTER_RETENTION_SECONDS = 14 * 86_400

# The stream mapping (dispatcher). A record the dispatcher does not get through is a message
# nobody queues: it would wait in `queued` for ever. Failures are SQS being unavailable or
# throttled, or a stage without a queue URL: each passes or is fixed, and nothing is lost if
# the records are still there. So a failed batch is split (to isolate a record that fails
# by itself) and retried until the record is as old as the stream keeps records (24 hours);
# only then does it go to the dispatcher's DLQ. The price: a record that always fails holds
# its shard for up to that long (the IteratorAge metric shows it).
STREAM_MAPPING = {
    "starting_position": "TRIM_HORIZON",
    "batch_size": sources.STREAM_BATCH,
    "bisect_batch_on_function_error": True,
    "maximum_record_age_in_seconds": 86_400,
    "maximum_retry_attempts": -1,
}
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"

TABLE_STREAM_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
CONSUME_QUEUE_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    # RetryLater: a job comes back after its own delay, not the whole visibility timeout.
    "sqs:ChangeMessageVisibility",
)
SEND_ACTIONS = ("sqs:SendMessage",)  # SendMessageBatch is authorised as SendMessage


def _dynamodb(*actions: str) -> tuple[str, ...]:
    return tuple(f"dynamodb:{action}" for action in actions)


def functions(carrier: str = SANDBOX) -> dict[str, "Function"]:
    """Every function, with what it may do and is told on a stage whose carrier is
    `carrier` (only the sender's depend on it)."""
    if carrier not in CARRIERS:
        raise ValueError(f"{CARRIER_VARIABLE} is one of {', '.join(CARRIERS)}, not {carrier!r}")
    return {function.name: function for function in _functions(carrier)}


def _functions(carrier: str) -> tuple["Function", ...]:
    return (
        _api(carrier),
        Function(
            "dispatcher",
            "the table's stream to the send and callback queues",
            (
                Grant("TableStream", TABLE_STREAM_ACTIONS, (STREAM,)),
                Grant("QueueJobs", SEND_ACTIONS, (queue("send"), queue("callbacks"))),
                Grant("StreamFailures", SEND_ACTIONS, (queue(STREAM_FAILURES),)),
            ),
            {
                TABLE_VARIABLE: TABLE_NAME,
                SEND_QUEUE_VARIABLE: queue_url("send"),
                CALLBACK_QUEUE_VARIABLE: queue_url("callbacks"),
            },
        ),
        _sender(carrier),
        Function(
            "receipts",
            "applies carrier receipts and stores inbound texts",
            (
                # PutItem: an inbound text, a keyword's answer, an opt-out; DeleteItem: an
                # opt-in (chalicelib/inbound).
                Grant(
                    "Messages",
                    _dynamodb("GetItem", "UpdateItem", "PutItem", "DeleteItem"),
                    (TABLE,),
                ),
                Grant("ReceiptQueue", CONSUME_QUEUE_ACTIONS, (queue("receipts"),)),
            ),
            {TABLE_VARIABLE: TABLE_NAME, RECEIPT_QUEUE_VARIABLE: queue_url("receipts")},
        ),
        Function(
            "callbacks",
            "posts signed status callbacks and inbound webhooks",
            (
                # GetItem: the account (its encrypted AuthToken), the message, the number's
                # owner and opt-outs; PutItem: each attempt, and each TwiML reply.
                Grant("AccountsAndAttempts", _dynamodb("GetItem", "PutItem"), (TABLE,)),
                Grant("DecryptTokens", ("kms:Decrypt",), (KEY,)),
                Grant("CallbackQueue", CONSUME_QUEUE_ACTIONS, (queue("callbacks"),)),
            ),
            {
                TABLE_VARIABLE: TABLE_NAME,
                CALLBACK_QUEUE_VARIABLE: queue_url("callbacks"),
                KMS_KEY_VARIABLE: KEY_ARN,
            },
        ),
        Function(
            "scheduler",
            "dispatches scheduled messages when due",
            (
                Grant("DueIndex", _dynamodb("Query"), (index(storage.schema.INDEX_DUE),)),
                Grant("Messages", _dynamodb("GetItem", "UpdateItem"), (TABLE,)),
            ),
            {TABLE_VARIABLE: TABLE_NAME},
        ),
    )


def _api(carrier: str) -> "Function":
    grants = [Grant("MessagesTable", _dynamodb(*storage.ACTIONS), (TABLE, INDEXES))]
    variables = {TABLE_VARIABLE: TABLE_NAME, SECRET_VARIABLE: PAGE_TOKEN_SECRET}
    if carrier == SANDBOX:
        # The sandbox's handset (chalicelib/web/sandbox.py) queues the text a carrier
        # would publish on the carrier events queue.
        grants.append(Grant("QueueSimulatedTexts", SEND_ACTIONS, (queue("receipts"),)))
        variables[RECEIPT_QUEUE_VARIABLE] = queue_url("receipts")
    return Function("api_handler", "the REST API", tuple(grants), variables)


# Sending through End User Messaging, on the stage's numbers and configuration set only.
EUM_SEND_ACTIONS = ("sms-voice:SendTextMessage", "sms-voice:SendMediaMessage")


def _sender(carrier: str) -> "Function":
    grants = [
        Grant("Messages", _dynamodb("GetItem", "UpdateItem"), (TABLE,)),
        Grant("SendQueue", CONSUME_QUEUE_ACTIONS, (queue("send"),)),
    ]
    variables = {TABLE_VARIABLE: TABLE_NAME}
    if carrier == SANDBOX:
        # The sandbox carrier queues its receipts as AWS would send them.
        grants.append(Grant("QueueReceipts", SEND_ACTIONS, (queue("receipts"),)))
        variables[RECEIPT_QUEUE_VARIABLE] = queue_url("receipts")
    else:
        # Each resource a SendTextMessage names is authorised on its own: the origination
        # identity and the configuration set.
        grants.append(Grant("SendFromTheStageNumbers", EUM_SEND_ACTIONS, (ORIGINATION_IDENTITIES,)))
        grants.append(Grant("SendWithTheConfigurationSet", EUM_SEND_ACTIONS, (CONFIGURATION_SET,)))
        # Feedback given through the API (chalicelib.delivery.worker, on the send queue).
        grants.append(
            Grant("PassFeedbackOn", ("sms-voice:PutMessageFeedback",), (CARRIER_MESSAGES,))
        )
        # MMS: the sender stores the media file, and SendMediaMessage reads it as the caller.
        grants.append(Grant("MediaFiles", ("s3:PutObject", "s3:GetObject"), (MEDIA_OBJECTS,)))
        variables[CONFIGURATION_SET_VARIABLE] = CONFIGURATION_SET_NAME
        variables[ORIGINATION_VARIABLE] = DEFAULT_ORIGINATION_IDENTITY
        variables[MEDIA_BUCKET_VARIABLE] = MEDIA_BUCKET
    return Function(
        "sender", "claims a message and hands it to the carrier", tuple(grants), variables
    )


FUNCTIONS = functions(SANDBOX)  # the names, and a sandbox stage's grants


API_FUNCTION = "api_handler"
STREAM_CONSUMER = "dispatcher"
SCHEDULED = "scheduler"

# Each function writes to the log group the template creates for it, so none needs
# logs:CreateLogGroup.
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


def policy_statements(function: str, arn, carrier: str = SANDBOX) -> list[dict]:
    """The function's whole IAM policy; `arn(resource)` names a Resource in the writer's
    syntax (for LOGS: that function's own log group and its streams; for a list resource,
    the whole list)."""
    described = functions(carrier)[function]
    grants = [*described.grants, Grant("FunctionLogs", LOG_ACTIONS, (LOGS,))]
    return [
        {
            "Sid": grant.sid,
            "Effect": "Allow",
            "Action": list(grant.actions),
            "Resource": _resources(grant, arn),
        }
        for grant in grants
    ]


def _resources(grant: Grant, arn):
    if LISTS & set(grant.resources):
        (resource,) = grant.resources  # a list stands alone in its grant
        return arn(resource)
    return [arn(resource) for resource in grant.resources]


@dataclass(frozen=True)
class FunctionSettings:
    """What the templates need of a function's settings in the stage (Chalice writes the
    rest into the function itself), as Chalice reads them from .chalice/config.json."""

    timeout: int
    log_retention_days: int


def visibility_timeout(work: Queue, settings: dict[str, FunctionSettings]) -> int:
    return VISIBILITY_PER_TIMEOUT * settings[work.consumer].timeout


# --- the key for AuthTokens ----------------------------------------------------------------

# chalicelib.storage.tokens binds each ciphertext to its account with this encryption context key.
TOKEN_CONTEXT_KEY = "herald:account"
_HAS_ACCOUNT_CONTEXT = {"Null": {f"kms:EncryptionContext:{TOKEN_CONTEXT_KEY}": "false"}}
# AWS's default key policy statement for key administrators: everything but using the key.
KEY_ADMIN_ACTIONS = (
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
)


def key_policy(account_root: str, decrypting_role: str) -> dict:
    """The AuthToken key's policy (ARNs in the writer's syntax).

    The account administers the key through IAM; it may encrypt (the admin command, whose
    user needs kms:Encrypt on the key in an IAM policy) but never decrypt. Only the
    callbacks function's role decrypts, and only ciphertexts bound to an account.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": account_root},
                "Action": list(KEY_ADMIN_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "IamMayAllowEncryptingTokens",
                "Effect": "Allow",
                "Principal": {"AWS": account_root},
                "Action": ["kms:Encrypt"],
                "Resource": "*",
                "Condition": _HAS_ACCOUNT_CONTEXT,
            },
            {
                "Sid": "CallbacksDecryptTokens",
                "Effect": "Allow",
                "Principal": {"AWS": decrypting_role},
                "Action": ["kms:Decrypt"],
                "Resource": "*",
                "Condition": _HAS_ACCOUNT_CONTEXT,
            },
        ],
    }


KEY_DESCRIPTION = "Herald: encrypts each account's AuthToken for signing callbacks"
KEY_DELETION_WINDOW_DAYS = 30
DECRYPTING_FUNCTION = "callbacks"


# --- carrier events: End User Messaging -> SNS -> the receipt queue ------------------------

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


def default_configuration_set_name(stage: str) -> str:
    return f"herald-{stage}"


def events_key_policy(account_root, account_id, sms_voice_arns) -> dict:
    """The carrier events topic's key. The account administers it through IAM; End User
    Messaging may use it to publish to the topic (an encrypted topic needs a customer
    managed key: the AWS-managed SNS key cannot let a service publish), from this account's
    resources only. ARNs and ids in the writer's syntax."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": account_root},
                "Action": list(KEY_ADMIN_ACTIONS),
                "Resource": "*",
            },
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


# --- errors API Gateway answers itself ------------------------------------------------------

_MESSAGE_FROM_GATEWAY = "$context.error.messageString"  # API Gateway's text, JSON-quoted
_NOT_FOUND = json.dumps("The requested resource was not found")

# Response type -> (HTTP status, Twilio code, message). These are the types a request can
# meet on Herald's API: it has no authorizers, API keys or request validators. The path is
# left out of the 404 message because gateway templates cannot JSON-escape it.
GATEWAY_ERRORS = {
    # A path or method no route declares (app.py's catch-alls stop at nine segments and
    # take no HEAD or OPTIONS): API Gateway's 403 "Missing Authentication Token",
    # answered the way Herald answers an unknown path.
    "MISSING_AUTHENTICATION_TOKEN": (404, 20404, _NOT_FOUND),
    "RESOURCE_NOT_FOUND": (404, 20404, _NOT_FOUND),
    "ACCESS_DENIED": (403, 20403, _MESSAGE_FROM_GATEWAY),
    "WAF_FILTERED": (403, 20403, _MESSAGE_FROM_GATEWAY),
    "REQUEST_TOO_LARGE": (413, 20001, _MESSAGE_FROM_GATEWAY),
    "THROTTLED": (429, 20429, json.dumps("Too Many Requests")),
    "QUOTA_EXCEEDED": (429, 20429, json.dumps("Too Many Requests")),
    "INTEGRATION_FAILURE": (504, 20500, _MESSAGE_FROM_GATEWAY),
    "INTEGRATION_TIMEOUT": (504, 20500, _MESSAGE_FROM_GATEWAY),
    "DEFAULT_4XX": (400, 20001, _MESSAGE_FROM_GATEWAY),
    # Includes a function that crashed or timed out (API Gateway's "Internal server error").
    "DEFAULT_5XX": (500, 20500, _MESSAGE_FROM_GATEWAY),
}
_RETRY_AFTER = {"THROTTLED", "QUOTA_EXCEEDED", "INTEGRATION_TIMEOUT"}


def _error_template(status: int, code: int, message: str) -> str:
    more_info = errors.MORE_INFO.format(code=code)
    return (
        f'{{"code": {code}, "message": {message}, "more_info": "{more_info}", "status": {status}}}'
    )


def gateway_responses() -> dict:
    """The `x-amazon-apigateway-gateway-responses` extension for the API definition.

    It goes inside the API definition, not into separate GatewayResponse resources, so that
    the deployment that goes live already contains it: a response added after the
    deployment would wait for the next one.
    """
    responses = {}
    for response_type, (status, code, message) in GATEWAY_ERRORS.items():
        headers = {"gatewayresponse.header.Content-Type": "'application/json'"}
        if response_type in _RETRY_AFTER:
            headers["gatewayresponse.header.Retry-After"] = "'1'"
        responses[response_type] = {
            "statusCode": status,
            "responseParameters": headers,
            "responseTemplates": {"application/json": _error_template(status, code, message)},
        }
    return responses


GATEWAY_RESPONSES_KEY = "x-amazon-apigateway-gateway-responses"


# --- alarms (docs/operations.md, "Alarms") ---------------------------------------------------

# Each alarm's description ends with where to read what to do.
RUNBOOK = "docs/operations.md#"
# A metric math alarm's one returned expression (the inputs' ids are the alarm's own).
EXPRESSION_ID = "rate"
# A rate alarm stays quiet below this many messages in a period: 1 failure in 3 is no trend.
MINIMUM_MESSAGES = 20
((STAGE_DIMENSION,),) = metrics.DIMENSIONS  # Herald's metrics have one dimension: Stage


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric with its one dimension, as an alarm aggregates it. `value` is
    the dimension's value: a literal (the metrics' Stage) or a Value by reference
    (queue_name, function_name)."""

    namespace: str
    name: str
    dimension: str
    value: "str | Value"
    statistic: str
    period: int


def queue_name(name: str) -> Value:
    """The name the template gives the queue (SQS's QueueName dimension)."""
    return Value("queue_name", name)


def function_name(name: str) -> Value:
    """The deployed function's name (Lambda's FunctionName dimension)."""
    return Value("function_name", name)


@dataclass(frozen=True)
class Alarm:
    """A CloudWatch alarm on `metric`, or on the metric math `expression` over `inputs`
    (id -> metric). It alarms when `datapoints` of the last `periods` values are above
    `threshold`; a period without data is within it. `name` makes its name (`<stack>-` or
    `herald-<stage>-` and the name, dashed), its logical id and its Terraform address."""

    name: str
    description: str
    threshold: float
    periods: int
    metric: Metric | None = None
    expression: str = ""
    label: str = ""
    inputs: tuple[tuple[str, Metric], ...] = ()
    comparison: str = "GreaterThanThreshold"
    treat_missing_data: str = "notBreaching"

    @property
    def datapoints(self) -> int:
        return self.periods  # N of N: every period of the window breaches

    @property
    def dashed(self) -> str:
        return self.name.replace("_", "-")


def _herald(name: str, stage: str, statistic: str = "Sum", period: int = 300) -> Metric:
    if name not in metrics.METRICS:
        raise ValueError(f"Herald emits no metric {name!r}")
    return Metric(metrics.NAMESPACE, name, STAGE_DIMENSION, stage, statistic, period)


def _share(bad: str, good: str) -> str:
    """bad / (bad + good), 0 below MINIMUM_MESSAGES. A count is published only in a period
    where it happened, and metric math adds two series only where both have a data point:
    FILL makes a missing count 0, so a period of failures alone (no MessagesSent at all) is
    a rate of 1, not a period without data."""
    bad, good = f"FILL({bad}, 0)", f"FILL({good}, 0)"
    return f"IF({bad} + {good} >= {MINIMUM_MESSAGES}, {bad} / ({bad} + {good}), 0)"


def _rate_alarm(
    name: str,
    description: str,
    threshold: float,
    bad: tuple[str, str],
    good: tuple[str, str],
    stage: str,
    label: str,
) -> Alarm:
    """`bad`'s share of `bad` + `good` (each an id and a Herald metric) above `threshold`
    for 3 periods of 5 minutes running."""
    (bad_id, bad_metric), (good_id, good_metric) = bad, good
    return Alarm(
        name,
        description,
        threshold,
        periods=3,
        expression=_share(bad_id, good_id),
        label=label,
        inputs=((bad_id, _herald(bad_metric, stage)), (good_id, _herald(good_metric, stage))),
    )


_REDRIVE = (
    "Once fixed, move the jobs back (safe to run again): aws sqs start-message-move-task "
    "--source-arn <this queue's ARN>."
)
# Every dead-letter queue -> what a job in it means, and what to do.
_DEAD_LETTERS = {
    dead_letter("send"): (
        "Page: a send job was received 20 times without finishing, so its message is stuck "
        "in queued or sending and no text goes out. Find the sender's errors in its log "
        f"group (level error, events send.*). {_REDRIVE}"
    ),
    dead_letter("receipts"): (
        "Ticket: a carrier receipt or inbound text failed 10 times; its message keeps its "
        "last status (or the inbound text is not stored). Find the receipts function's "
        f"errors in its log group (level error, event receipt). {_REDRIVE}"
    ),
    dead_letter("callbacks"): (
        "Ticket: a status callback or webhook job failed 10 times inside Herald (a "
        "customer's URL answering errors ends as CallbackFailures, not here). Find the "
        f"callbacks function's errors in its log group (level error, event callback). {_REDRIVE}"
    ),
    STREAM_FAILURES: (
        "Page: the table's stream could not hand a batch to the dispatcher for 24 hours: "
        "the messages in it are queued and no worker will hear of them. Each entry names "
        "a shard and sequence numbers, not the records. Find the dispatcher's errors in "
        "its log group, then queue each message's send job by hand (docs/deploy.md, "
        "Dead-letter queues)."
    ),
}


def _not_empty(queue: str) -> Metric:
    """Jobs in the queue (a queue idle for 6 hours publishes nothing until one arrives)."""
    visible = "ApproximateNumberOfMessagesVisible"
    return Metric("AWS/SQS", visible, "QueueName", queue_name(queue), "Maximum", 300)


def alarms(stage: str) -> tuple[Alarm, ...]:
    """Every alarm the templates create; `stage` is the Stage the functions' metrics carry
    (their HERALD_STAGE)."""
    found = [
        Alarm(
            f"{queue}_not_empty",
            f"{description} {RUNBOOK}a-dead-letter-queue-is-not-empty",
            0,
            periods=1,
            metric=_not_empty(queue),
        )
        for queue, description in _DEAD_LETTERS.items()
    ]
    found.append(
        _rate_alarm(
            "messages_failing",
            "Page: more than 5% of the messages leaving the worker failed (MessagesFailed / "
            "(MessagesFailed + MessagesSent), 20 messages at least) for 15 minutes. Count the "
            "failures by error code (Logs Insights query in docs/operations.md): the carrier "
            "refusing (its configuration, origination identities, quotas), timing out, or "
            f"attempts exhausted. {RUNBOOK}messages-failing-at-the-worker",
            0.05,
            ("f", "MessagesFailed"),
            ("s", "MessagesSent"),
            stage,
            "share of messages failed",
        )
    )
    found.append(
        _rate_alarm(
            "messages_undelivered",
            "Ticket: more than 20% of the messages the carrier decided on were undelivered "
            "(MessagesUndelivered / (MessagesUndelivered + MessagesDelivered), 20 messages at "
            "least) for 15 minutes. Count them by error code and account (Logs Insights, event "
            "receipt): usually one customer's list of dead numbers, or a carrier filtering a "
            "sender. "
            f"{RUNBOOK}messages-undelivered-by-the-carrier",
            0.20,
            ("u", "MessagesUndelivered"),
            ("d", "MessagesDelivered"),
            stage,
            "share of messages undelivered",
        )
    )
    found.append(
        _rate_alarm(
            "callbacks_failing",
            "Ticket: more than 10% of status callbacks were given up (CallbackFailures / "
            "(CallbackFailures + CallbacksDelivered), 20 callbacks at least) for 15 minutes. "
            "Usually a customer's receiver is down: the Logs Insights query 'Callback "
            "receivers that fail' names the host. "
            f"{RUNBOOK}status-callbacks-failing",
            0.10,
            ("c", "CallbackFailures"),
            ("k", "CallbacksDelivered"),
            stage,
            "share of callbacks given up",
        )
    )
    found.append(
        Alarm(
            "callback_failures",
            "Ticket: more than 100 status callbacks were given up in 5 minutes. Usually a "
            "customer's receiver is down: the Logs Insights query 'Callback receivers that "
            f"fail' names the host. {RUNBOOK}status-callbacks-failing",
            100,
            periods=1,
            metric=_herald("CallbackFailures", stage),
        )
    )
    found.append(
        Alarm(
            "dispatcher_behind",
            "Page: for 5 minutes running, the dispatcher's oldest unprocessed stream record was "
            "over 5 minutes old (IteratorAge): new messages are not being queued. Look for "
            "its errors (a record that keeps failing holds its shard for up to 24 hours) and "
            "throttles. "
            f"{RUNBOOK}the-dispatcher-falling-behind",
            300_000,
            periods=5,
            metric=Metric(
                "AWS/Lambda",
                "IteratorAge",
                "FunctionName",
                function_name(STREAM_CONSUMER),
                "Maximum",
                60,
            ),
        )
    )
    found.append(
        Alarm(
            "carrier_throttling",
            "Ticket: the carrier throttled more than 100 hand-offs every 5 minutes for 15 "
            "minutes (SendThrottled). Each is retried, up to 6 attempts in all; raise the "
            "carrier's sending quota (End User Messaging: the messages-per-second of the "
            f"origination identities). {RUNBOOK}the-carrier-throttling",
            100,
            periods=3,
            metric=_herald("SendThrottled", stage),
        )
    )
    return tuple(found)


def metrics_stage(variables: dict[str, dict]) -> str:
    """The Stage the functions' metrics carry: their HERALD_STAGE (function -> the variables
    the template gives it). One for all, or an alarm would watch some of them only; and
    set, or every stage's metrics would be `local`'s."""
    named = {(told or {}).get(metrics.STAGE_VARIABLE) for told in variables.values()}
    if len(named) != 1 or not all(isinstance(value, str) and value for value in named):
        raise RuntimeError(
            f"the functions' {metrics.STAGE_VARIABLE} is {sorted(map(str, named))}: the stage "
            "must give every function the same one (.chalice/config.json), the metrics' "
            "Stage the alarms watch"
        )
    (stage,) = named
    return stage
