"""What the CloudFormation and Terraform outputs both say, written once: the functions, what
each may do and is told, and the vocabulary both template writers understand.

The table's keys and indexes come from `storage.table_definition()` and the API's IAM actions
from `storage.ACTIONS`, so the templates cannot drift from what the code does.

Everything a function may do, and every variable it gets, is described here once, in terms
of a small vocabulary of resources (`Resource`, `Value`): each template writer only says how
its own syntax names the table, a queue, the key or a log group. The rest of the stack is
described the same way, one concern a module:

    queues.py          the work queues, their dead-letter queues, the event source mappings
    token_key.py       the KMS key for AuthTokens and its policy
    carrier_events.py  End User Messaging -> SNS -> the receipt queue; the MMS media bucket
    gateway_errors.py  the errors API Gateway answers itself
    alarms.py          the CloudWatch alarms (docs/operations.md, "Alarms")
"""

from dataclasses import dataclass, field

from chalicelib import storage
from chalicelib.carriers import END_USER_MESSAGING, SANDBOX
from chalicelib.carriers import eum_settings as eum
from deploy.queues import (
    CALLBACK_QUEUE_VARIABLE,
    RECEIPT_QUEUE_VARIABLE,
    SEND_QUEUE_VARIABLE,
    STREAM_FAILURES,
)

# Environment variables the functions read (chalicelib/runtime/config.py); the queues' are in
# queues.py.
TABLE_VARIABLE = "HERALD_TABLE_NAME"
SECRET_VARIABLE = "HERALD_PAGE_TOKEN_SECRET"
KMS_KEY_VARIABLE = "HERALD_KMS_KEY_ID"
CARRIER_VARIABLE = "HERALD_CARRIER"
# The registered-sender check (21606): the API's creates, TwiML replies (callbacks) and
# keyword answers (receipts) all apply it, so a stage gives every function the same value.
REGISTERED_FROM_VARIABLE = "HERALD_REQUIRE_REGISTERED_FROM"
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


def default_configuration_set_name(stage: str) -> str:
    return f"herald-{stage}"


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
    `carrier` (only the sender's and the receipts function's depend on it)."""
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
        _receipts(carrier),
        Function(
            "callbacks",
            "posts signed status callbacks and inbound webhooks",
            (
                # GetItem: the account (its encrypted AuthToken), the message, the number's
                # owner and opt-outs; PutItem: each attempt, and each TwiML reply.
                Grant("AccountsAndAttempts", _dynamodb("GetItem", "PutItem"), (TABLE,)),
                # Decrypt: the AuthToken, to sign, and the credentials in the URLs it calls;
                # Encrypt: those in a TwiML reply's action and media URLs, before storing it.
                Grant("TokensAndUrlCredentials", ("kms:Decrypt", "kms:Encrypt"), (KEY,)),
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
    grants = [
        Grant("MessagesTable", _dynamodb(*storage.ACTIONS), (TABLE, INDEXES)),
        # The credentials in a URL a create or an update gives (chalicelib.storage
        # .url_credentials) are sealed before they are stored; it never decrypts.
        Grant("SealUrlCredentials", ("kms:Encrypt",), (KEY,)),
    ]
    variables = {
        TABLE_VARIABLE: TABLE_NAME,
        SECRET_VARIABLE: PAGE_TOKEN_SECRET,
        KMS_KEY_VARIABLE: KEY_ARN,
    }
    if carrier == SANDBOX:
        # The sandbox's handset (chalicelib/web/sandbox.py) queues the text a carrier
        # would publish on the carrier events queue.
        grants.append(Grant("QueueSimulatedTexts", SEND_ACTIONS, (queue("receipts"),)))
        variables[RECEIPT_QUEUE_VARIABLE] = queue_url("receipts")
    return Function("api_handler", "the REST API", tuple(grants), variables)


def _receipts(carrier: str) -> "Function":
    grants = [
        # PutItem: an inbound text, a keyword's answer, an opt-out; DeleteItem: an opt-in
        # (chalicelib/inbound).
        Grant("Messages", _dynamodb("GetItem", "UpdateItem", "PutItem", "DeleteItem"), (TABLE,)),
        Grant("ReceiptQueue", CONSUME_QUEUE_ACTIONS, (queue("receipts"),)),
    ]
    if carrier == SANDBOX:
        # The sandbox's next receipt, queued once this one is applied (chalicelib/carriers).
        grants.append(Grant("QueueNextReceipt", SEND_ACTIONS, (queue("receipts"),)))
    return Function(
        "receipts",
        "applies carrier receipts and stores inbound texts",
        tuple(grants),
        {TABLE_VARIABLE: TABLE_NAME, RECEIPT_QUEUE_VARIABLE: queue_url("receipts")},
    )


# Sending through End User Messaging, on the stage's numbers and configuration set only.
EUM_SEND_ACTIONS = ("sms-voice:SendTextMessage", "sms-voice:SendMediaMessage")


def _sender(carrier: str) -> "Function":
    grants = [
        Grant("Messages", _dynamodb("GetItem", "UpdateItem"), (TABLE,)),
        # A MediaUrl's credentials, opened to fetch it (the key's policy lets the sender
        # decrypt those only, never an AuthToken: deploy/token_key.py).
        Grant("OpenMediaUrlCredentials", ("kms:Decrypt",), (KEY,)),
        Grant("SendQueue", CONSUME_QUEUE_ACTIONS, (queue("send"),)),
        # A job on its last receive whose message another worker still holds is handed to
        # a fresh job (chalicelib.delivery.worker.settle_last_receive).
        Grant("RequeueSends", SEND_ACTIONS, (queue("send"),)),
    ]
    # Its own queue's URL: a job retried later or out of time comes back when it says, not
    # after the whole visibility timeout (ChangeMessageVisibility).
    variables = {TABLE_VARIABLE: TABLE_NAME, SEND_QUEUE_VARIABLE: queue_url("send")}
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
