"""What the deploy templates must hold, written out here and read back from the templates
themselves (tests/deploy/rendered.py), not from deploy/shared.py and its siblings, which
wrote them. One expectation for both renderers: CloudFormation (SAM) and Terraform."""

import sys
from pathlib import Path

from chalicelib import storage
from chalicelib.carriers import events
from chalicelib.delivery import sources
from deploy import package, shared

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CHECKOV_CONFIG = ROOT / "deploy" / "checkov.yaml"
STAGE = "dev"
API_ACTIONS = {f"dynamodb:{action}" for action in storage.ACTIONS}
PLACEHOLDER_ROLE = "replaced-by-the-deploy-templates"
REPORT_FAILURES = ["ReportBatchItemFailures"]

# --- the expectation -------------------------------------------------------------------------

FUNCTIONS = ("api_handler", "dispatcher", "sender", "receipts", "callbacks", "scheduler")
CONSUME = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
}
SEND = {"sqs:SendMessage"}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
# Function -> {resource: actions}. Resources: "table", "indexes" (all), "index/<name>",
# "stream", "queue/<name>", "key", "logs" (the function's own log group).
GRANTS = {
    # Encrypt: the credentials in users' URLs are sealed before they are stored.
    "api_handler": {
        "table": API_ACTIONS,
        "indexes": API_ACTIONS,
        "queue/receipts": SEND,
        "key": {"kms:Encrypt"},
    },
    "dispatcher": {
        "stream": {
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        },
        "queue/send": SEND,
        "queue/callbacks": SEND,
        "queue/dispatcher_failures": SEND,
    },
    "sender": {
        "table": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        "key": {"kms:Decrypt"},  # a MediaUrl's credentials (the key policy: those only)
        "queue/send": CONSUME | SEND,
        "queue/receipts": SEND,
    },
    "receipts": {
        "table": {
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
        },
        # The sandbox's next receipt, once this one is applied.
        "queue/receipts": CONSUME | SEND,
    },
    "callbacks": {
        "table": {"dynamodb:GetItem", "dynamodb:PutItem"},
        # Decrypt the AuthToken and URL credentials; encrypt a TwiML reply's URL credentials.
        "key": {"kms:Decrypt", "kms:Encrypt"},
        "queue/callbacks": CONSUME,
    },
    "scheduler": {
        f"index/{storage.schema.INDEX_DUE}": {"dynamodb:Query"},
        "table": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
    },
}
for _grants in GRANTS.values():
    _grants["logs"] = LOGS
EUM_SEND = {"sms-voice:SendTextMessage", "sms-voice:SendMediaMessage"}
# On End User Messaging the sender sends from the stage's numbers, with its configuration set,
# and queues no receipts (AWS sends them).
EUM_GRANTS = {
    **GRANTS,
    # No sandbox handset on a real carrier's stage.
    "api_handler": {
        "table": API_ACTIONS,
        "indexes": API_ACTIONS,
        "key": {"kms:Encrypt"},
        "logs": LOGS,
    },
    "sender": {
        "table": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        "key": {"kms:Decrypt"},
        "queue/send": CONSUME | SEND,
        "origination_identities": EUM_SEND,
        "configuration_set": EUM_SEND,
        # Feedback, and each MMS file stored for SendMediaMessage to read as the sender.
        "carrier_messages": {"sms-voice:PutMessageFeedback"},
        "media_objects": {"s3:PutObject", "s3:GetObject"},
        "logs": LOGS,
    },
    "receipts": {**GRANTS["receipts"], "queue/receipts": CONSUME},
}

# Function -> {variable: what it refers to}: "table", "secret", "queue/<name>", "key".
VARIABLES = {
    "api_handler": {
        "HERALD_TABLE_NAME": "table",
        "HERALD_PAGE_TOKEN_SECRET": "secret",
        "HERALD_RECEIPT_QUEUE_URL": "queue/receipts",
        "HERALD_KMS_KEY_ID": "key",
    },
    "dispatcher": {
        "HERALD_TABLE_NAME": "table",
        "HERALD_SEND_QUEUE_URL": "queue/send",
        "HERALD_CALLBACK_QUEUE_URL": "queue/callbacks",
    },
    "sender": {
        "HERALD_TABLE_NAME": "table",
        "HERALD_SEND_QUEUE_URL": "queue/send",
        "HERALD_RECEIPT_QUEUE_URL": "queue/receipts",
    },
    "receipts": {"HERALD_TABLE_NAME": "table", "HERALD_RECEIPT_QUEUE_URL": "queue/receipts"},
    "callbacks": {
        "HERALD_TABLE_NAME": "table",
        "HERALD_CALLBACK_QUEUE_URL": "queue/callbacks",
        "HERALD_KMS_KEY_ID": "key",
    },
    "scheduler": {"HERALD_TABLE_NAME": "table"},
}
EUM_VARIABLES = {
    **VARIABLES,
    "api_handler": {
        "HERALD_TABLE_NAME": "table",
        "HERALD_PAGE_TOKEN_SECRET": "secret",
        "HERALD_KMS_KEY_ID": "key",
    },
    "sender": {
        "HERALD_TABLE_NAME": "table",
        "HERALD_SEND_QUEUE_URL": "queue/send",
        "HERALD_EUM_CONFIGURATION_SET": "configuration_set",
        "HERALD_EUM_ORIGINATION_IDENTITY": "default_origination_identity",
        "HERALD_MEDIA_BUCKET": "media_bucket",
    },
}
CARRIERS = ("sandbox", "end-user-messaging")
EXPECTED = {"sandbox": (GRANTS, VARIABLES), "end-user-messaging": (EUM_GRANTS, EUM_VARIABLES)}
# The events that move a message: what the configuration set sends to the topic.
EVENT_TYPES = sorted(t for t, (status, _) in events.EVENT_STATUSES.items() if status is not None)
# Work queue -> (its consumer, maxReceiveCount).
WORK_QUEUES = {"send": ("sender", 20), "receipts": ("receipts", 10), "callbacks": ("callbacks", 10)}
STREAM_FAILURES = "dispatcher_failures"
TIMEOUTS = {name: 30 for name in FUNCTIONS} | {"api_handler": 25, "scheduler": 60}
# The API's requests (a list page of 1,000 messages) use its CPU; the delivery functions
# mostly wait on AWS and customers' URLs: half the memory, half the price (bench/cost.py).
MEMORY = {name: 256 for name in FUNCTIONS} | {"api_handler": 512}
FOURTEEN_DAYS = 14 * 86_400
PLACEHOLDERS = [sources.TABLE_STREAM_ARN] + [
    f":{name}" + '"' for name in (sources.SEND_QUEUE, sources.RECEIPT_QUEUE, sources.CALLBACK_QUEUE)
]
CONTEXT_CONDITION = {"Null": {"kms:EncryptionContext:herald:account": "false"}}
URL_CONDITION = {"StringEquals": {"kms:EncryptionContext:herald:purpose": "url-credentials"}}


def stage_on(carrier: str) -> dict:
    """.chalice/config.json with the dev stage's carrier switched to `carrier`: by
    configuration alone, as a user switches a stage."""
    config_ = package.read_config()
    config_["stages"][STAGE]["environment_variables"][shared.CARRIER_VARIABLE] = carrier
    return config_


def expected_table() -> dict:
    definition = storage.table_definition("any")
    del definition["TableName"]
    return definition
