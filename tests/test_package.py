"""The deploy templates `make package` writes: linted, scanned, and held to what the code does.

The packaging runs once per carrier (the dev stage as it is, on the sandbox, and the same
stage switched to End User Messaging) into a temporary directory, with pip confined to the
wheelhouse `make wheelhouse` filled, so nothing here touches the network. Every test of the
outputs runs on both.

What each function may do, which queue feeds which function and what each function is told
are written out below as the expectation, and read back from the templates themselves (not
from deploy/shared.py and its siblings, which wrote them).
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chalicelib import storage
from chalicelib.carriers import events
from chalicelib.delivery import sources
from chalicelib.observability import metrics
from chalicelib.runtime import config
from chalicelib.storage import tokens
from chalicelib.twilio import errors
from deploy import carrier_events, gateway_errors, lambda_runtime, package, shared, token_key
from deploy.alarms import metrics_stage
from deploy.cloudformation import logical_ids, stack
from deploy.lambda_runtime import BYTECODE_TOPS

ROOT = Path(__file__).resolve().parent.parent
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


def _require(path: Path, make_target: str) -> None:
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make {make_target}` (make test does)")


def stage_on(carrier: str) -> dict:
    """.chalice/config.json with the dev stage's carrier switched to `carrier`: by
    configuration alone, as a user switches a stage."""
    config_ = package.read_config()
    config_["stages"][STAGE]["environment_variables"][shared.CARRIER_VARIABLE] = carrier
    return config_


@pytest.fixture(scope="module", params=CARRIERS)
def carrier(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, carrier) -> package.Outputs:
    _require(WHEELHOUSE, "wheelhouse")
    build = tmp_path_factory.mktemp(f"build-{carrier}")
    return package.package(STAGE, build, WHEELHOUSE, config=stage_on(carrier))


@pytest.fixture(scope="module")
def grants(carrier) -> dict:
    return EXPECTED[carrier][0]


@pytest.fixture(scope="module")
def variables(carrier) -> dict:
    return EXPECTED[carrier][1]


@pytest.fixture(scope="module")
def sam(outputs) -> dict:
    return json.loads((outputs.cloudformation / "sam.json").read_text())


@pytest.fixture(scope="module")
def tf(outputs) -> dict:
    return json.loads((outputs.terraform / "chalice.tf.json").read_text())


@pytest.fixture(scope="module")
def settings():
    return package.stage_config(STAGE)


@pytest.fixture(scope="module")
def retention(settings) -> int:
    return settings.log_retention_in_days


def expected_table() -> dict:
    definition = storage.table_definition("any")
    del definition["TableName"]
    return definition


# --- linters ------------------------------------------------------------------------------


def test_cfn_lint_reports_nothing(outputs):
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), str(outputs.cloudformation / "sam.json")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def checkov_reports(outputs) -> dict:
    _require(CHECKOV, "checkov")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "PRISMA_"))}
    env["BC_SKIP_MAPPING"] = "TRUE"  # never fetch check metadata from Prisma Cloud
    directory = outputs.cloudformation.parent
    result = subprocess.run(
        [str(CHECKOV), "--config-file", str(CHECKOV_CONFIG), "-o", "json", "-d", str(directory)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    return {report["check_type"]: report for report in reports}


@pytest.mark.parametrize("framework", ["cloudformation", "terraform_json"])
def test_checkov_passes_every_check_not_skipped(checkov_reports, framework):
    report = checkov_reports[framework]
    failed = [
        f"{check['check_id']} {check['resource']}" for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] >= 100


def checkov_skips() -> list[str]:
    lines = CHECKOV_CONFIG.read_text().splitlines()
    return [line for line in lines if re.match(r"\s*- CKV", line)]


def test_every_checkov_skip_has_a_reason():
    skips = checkov_skips()
    assert skips
    for line in skips:
        assert re.match(r"\s*- CKV2?_AWS_\d+\s+# \S.{20,}", line), line


def test_every_checkov_skip_is_in_the_deploy_guide_table():
    guide = (ROOT / "docs" / "deploy.md").read_text()
    table = guide[guide.index("## checkov checks skipped") :]
    table = table[: table.index("\n## ")] if "\n## " in table else table
    for line in checkov_skips():
        check = line.split()[1]
        assert re.search(rf"\b{check}\b", table), check


# --- the bundle ---------------------------------------------------------------------------


def run_time_tops() -> set[str]:
    """What the run-time requirements' wheels (in the wheelhouse) put at the bundle's top."""
    tops = set()
    for wheel in WHEELHOUSE.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            tops |= {name.split("/")[0] for name in archive.namelist()}
    return tops


def test_bundle_holds_only_the_app_and_its_run_time_needs(outputs):
    with zipfile.ZipFile(outputs.zip_path) as bundle:
        names = bundle.namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops <= {"app.py", "__pycache__", "chalicelib", "chalice"} | run_time_tops()
    assert "app.py" in tops and "phonenumbers" in tops
    assert not {"boto3", "botocore"} & tops  # the Lambda runtime provides them
    assert outputs.zip_path.stat().st_size < 1024 * 1024
    terraform_zip = outputs.terraform / "deployment.zip"
    assert terraform_zip.read_bytes() == outputs.zip_path.read_bytes()


def test_the_pruned_bundle_keeps_every_phonenumbers_call_herald_makes(outputs, tmp_path):
    """deploy/prune.py leaves phonenumbers' short-number data out: parse, validate, format,
    region and type (all Herald calls) still work from the bundle itself."""
    with zipfile.ZipFile(outputs.zip_path) as bundle:
        names = bundle.namelist()
        bundle.extractall(tmp_path)
    assert not [n for n in names if n.startswith("phonenumbers/shortdata/region_")]
    assert "phonenumbers/shortdata/__init__.py" in names
    assert not [n for n in names if n.endswith((".pyi", "/RECORD", "/METADATA"))]
    assert [n for n in names if "LICENSE" in n], "licences stay"
    check = (
        "import phonenumbers as p\n"
        "n = p.parse('+14155550100', None)\n"
        "assert p.is_valid_number(n) and p.region_code_for_number(n) == 'US'\n"
        "assert p.format_number(n, p.PhoneNumberFormat.E164) == '+14155550100'\n"
        "assert p.format_number(n, p.PhoneNumberFormat.NATIONAL) == '(415) 555-0100'\n"
        "assert p.number_type(p.parse('+447911123456', None)) == p.PhoneNumberType.MOBILE\n"
        "assert not p.is_valid_number(p.parse('+1555555', None))\n"
        f"assert p.__file__.startswith({str(tmp_path)!r})\n"
    )
    path = f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
    result = subprocess.run(
        [sys.executable, "-I", "-c", path + check],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_bundle_bytecode_is_checked_hash_of_the_bundled_source(outputs):
    with zipfile.ZipFile(outputs.zip_path) as bundle:
        names = set(bundle.namelist())
        sources_ = {n for n in names if n.endswith(".py") and n.split("/")[0] in BYTECODE_TOPS}
        compiled = {n for n in names if n.endswith(".pyc")}
        assert compiled == {importlib.util.cache_from_source(n) for n in sources_}
        for source in sources_:
            pyc = bundle.read(importlib.util.cache_from_source(source))
            # PEP 552 header: magic, flags (0b11: hash-based, checked), source hash.
            assert pyc[:4] == importlib.util.MAGIC_NUMBER
            assert int.from_bytes(pyc[4:8], "little") == 0b11
            assert pyc[8:16] == importlib.util.source_hash(bundle.read(source))


# --- CloudFormation -----------------------------------------------------------------------


def resources_of(sam: dict, kind: str) -> dict:
    return {name: r for name, r in sam["Resources"].items() if r["Type"] == kind}


def cfn_functions(sam: dict) -> dict:
    """Chalice name -> the function's properties (its handler names it in app.py)."""
    handlers = {
        "app.app": "api_handler",
        "app.dispatcher": "dispatcher",
        "app.sender": "sender",
        "app.receipt_handler": "receipts",
        "app.callback_sender": "callbacks",
        "app.scheduled_sends": "scheduler",
    }
    functions = resources_of(sam, "AWS::Serverless::Function")
    return {handlers[f["Properties"]["Handler"]]: f for f in functions.values()}


def cfn_queue_name(sam: dict, logical: str) -> str:
    """A queue's name in the expectation (send, send_dead_letter, …) from its logical ID."""
    assert sam["Resources"][logical]["Type"] == "AWS::SQS::Queue", logical
    words = re.findall(r"[A-Z][a-z]+", logical.removesuffix("Queue"))
    return "_".join(word.lower() for word in words)


def cfn_log_group_of(sam: dict, function: dict) -> str:
    (logical,) = [
        name
        for name, group in resources_of(sam, "AWS::Logs::LogGroup").items()
        if group["Properties"]["LogGroupName"]
        == {"Fn::Sub": "/aws/lambda/" + function["Properties"]["FunctionName"]["Fn::Sub"]}
    ]
    return logical


def cfn_resource(sam: dict, function: dict, arn) -> str:
    """A resource of a grant, in the expectation's words."""
    table = "MessagesTable"
    if arn == {"Fn::GetAtt": [table, "Arn"]}:
        return "table"
    if arn == {"Fn::GetAtt": [table, "StreamArn"]}:
        return "stream"
    if arn == {"Fn::Sub": "${MediaBucket.Arn}/*"}:
        assert sam["Resources"]["MediaBucket"]["Type"] == "AWS::S3::Bucket"
        return "media_objects"
    if arn == {
        "Fn::Sub": "arn:${AWS::Partition}:sms-voice:${AWS::Region}:${AWS::AccountId}:message/*"
    }:
        return "carrier_messages"
    if isinstance(arn, dict) and "Fn::Sub" in arn:
        prefix = "${" + table + ".Arn}/index/"
        assert arn["Fn::Sub"].startswith(prefix), arn
        name = arn["Fn::Sub"][len(prefix) :]
        return "indexes" if name == "*" else f"index/{name}"
    (logical, attribute) = arn["Fn::GetAtt"]
    assert attribute == "Arn", arn
    kind = sam["Resources"][logical]["Type"]
    if kind == "AWS::SQS::Queue":
        return f"queue/{cfn_queue_name(sam, logical)}"
    if kind == "AWS::KMS::Key" and logical == logical_ids.KEY:
        return "key"
    if kind == "AWS::SMSVOICE::ConfigurationSet":
        return "configuration_set"
    if kind == "AWS::Logs::LogGroup" and logical == cfn_log_group_of(sam, function):
        return "logs"  # the function's own (the Arn attribute ends in ":*": its streams)
    raise AssertionError(f"a grant on {arn}")


def cfn_role_of(function: dict) -> str:
    (logical, attribute) = function["Properties"]["Role"]["Fn::GetAtt"]
    assert attribute == "Arn"
    return logical


def cfn_grants(sam: dict, name: str) -> dict:
    function = cfn_functions(sam)[name]
    role = cfn_role_of(function)
    assert "Policies" not in sam["Resources"][role]["Properties"]
    assert "ManagedPolicyArns" not in sam["Resources"][role]["Properties"]
    grants: dict[str, set] = {}
    for policy in resources_of(sam, "AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        assert policy["Properties"]["Roles"] == [{"Ref": role}]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            assert set(statement) == {"Sid", "Effect", "Action", "Resource"}  # no NotAction…
            if statement["Resource"] == {"Ref": "OriginationIdentityArns"}:
                # A list parameter: the statement's whole Resource, and nothing else.
                assert sam["Parameters"]["OriginationIdentityArns"]["Type"] == "CommaDelimitedList"
                grants.setdefault("origination_identities", set()).update(statement["Action"])
                continue
            for arn in statement["Resource"]:
                resource = cfn_resource(sam, function, arn)
                grants.setdefault(resource, set()).update(statement["Action"])
    return grants


@pytest.mark.parametrize("name", FUNCTIONS)
def test_cfn_each_role_may_do_exactly_what_its_function_needs(sam, grants, name):
    assert cfn_grants(sam, name) == grants[name]


def test_cfn_has_the_six_functions_each_with_a_role_of_its_own(sam):
    functions = cfn_functions(sam)
    assert set(functions) == set(FUNCTIONS)
    roles = [cfn_role_of(function) for function in functions.values()]
    assert len(set(roles)) == len(roles) == len(resources_of(sam, "AWS::IAM::Role"))
    assert PLACEHOLDER_ROLE not in json.dumps(sam)
    for policy in resources_of(sam, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert not any("*" in action for action in statement["Action"]), statement
            assert "*" not in statement["Resource"]


def test_cfn_table_is_the_one_storage_queries(sam):
    (table,) = resources_of(sam, "AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    expected = expected_table()
    stream = expected.pop("StreamSpecification")
    for key, value in expected.items():
        assert properties[key] == value, key
    # CloudFormation's form of the same stream: a view type means enabled.
    assert stream == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert properties["TableName"] == {"Ref": "TableName"}
    assert sam["Parameters"]["TableName"]["Default"] == f"herald-{STAGE}-messages"


def test_cfn_table_is_protected(sam):
    table = sam["Resources"][logical_ids.TABLE]
    properties = table["Properties"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["DeletionProtectionEnabled"] is True
    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": storage.TTL_ATTRIBUTE,
        "Enabled": True,
    }


def test_cfn_every_queue_is_encrypted_and_every_work_queue_has_a_dead_letter_queue(sam):
    queues = resources_of(sam, "AWS::SQS::Queue")
    names = {cfn_queue_name(sam, logical): q["Properties"] for logical, q in queues.items()}
    assert set(names) == {
        *WORK_QUEUES,
        *(f"{name}_dead_letter" for name in WORK_QUEUES),
        STREAM_FAILURES,
    }
    for properties in names.values():
        assert properties["SqsManagedSseEnabled"] is True
        assert "KmsMasterKeyId" not in properties
    functions = cfn_functions(sam)
    for name, (consumer, receives) in WORK_QUEUES.items():
        redrive = names[name]["RedrivePolicy"]
        (target, _) = redrive["deadLetterTargetArn"]["Fn::GetAtt"]
        assert cfn_queue_name(sam, target) == f"{name}_dead_letter"
        assert redrive["maxReceiveCount"] == receives
        timeout = functions[consumer]["Properties"]["Timeout"]
        assert names[name]["VisibilityTimeout"] >= 6 * timeout
        assert names[f"{name}_dead_letter"]["MessageRetentionPeriod"] == FOURTEEN_DAYS
        assert "RedrivePolicy" not in names[f"{name}_dead_letter"]
    assert names[STREAM_FAILURES]["MessageRetentionPeriod"] == FOURTEEN_DAYS


def cfn_events(function: dict) -> list[dict]:
    return list(function["Properties"].get("Events", {}).values())


def test_cfn_each_queue_feeds_its_function_with_partial_batch_failures(sam):
    functions = cfn_functions(sam)
    for name, (consumer, _) in WORK_QUEUES.items():
        (event,) = cfn_events(functions[consumer])
        assert event["Type"] == "SQS"
        properties = event["Properties"]
        (logical, attribute) = properties["Queue"]["Fn::GetAtt"]
        assert (cfn_queue_name(sam, logical), attribute) == (name, "Arn")
        assert properties["FunctionResponseTypes"] == REPORT_FAILURES
        assert properties["BatchSize"] == 10


def test_cfn_the_stream_feeds_the_dispatcher_until_its_records_expire(sam):
    (event,) = cfn_events(cfn_functions(sam)["dispatcher"])
    assert event["Type"] == "DynamoDB"
    properties = event["Properties"]
    assert properties["Stream"] == {"Fn::GetAtt": [logical_ids.TABLE, "StreamArn"]}
    assert properties["StartingPosition"] == "TRIM_HORIZON"
    assert properties["FunctionResponseTypes"] == REPORT_FAILURES
    assert properties["BisectBatchOnFunctionError"] is True
    assert properties["MaximumRetryAttempts"] == -1
    assert properties["MaximumRecordAgeInSeconds"] == 86_400  # the stream keeps 24 hours
    (logical, _) = properties["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"]
    assert cfn_queue_name(sam, logical) == STREAM_FAILURES


def test_cfn_the_scheduler_runs_every_minute_and_nothing_else_has_events(sam):
    functions = cfn_functions(sam)
    (event,) = cfn_events(functions["scheduler"])
    assert event == {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}
    assert cfn_events(functions["api_handler"]) == []


def test_cfn_no_placeholder_source_is_left(sam):
    text = json.dumps(sam)
    for placeholder in PLACEHOLDERS:
        assert placeholder not in text


def cfn_key(sam: dict) -> dict:
    keys_ = resources_of(sam, "AWS::KMS::Key")
    assert set(keys_) == {logical_ids.KEY, logical_ids.EVENTS_KEY}
    return keys_[logical_ids.KEY]


def test_cfn_token_key_rotates_and_only_callbacks_decrypt_tokens(sam):
    key = cfn_key(sam)
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True
    functions = cfn_functions(sam)
    callbacks_role = {"Fn::GetAtt": [cfn_role_of(functions["callbacks"]), "Arn"]}
    sender_role = {"Fn::GetAtt": [cfn_role_of(functions["sender"]), "Arn"]}
    root = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    check_key_policy(key["Properties"]["KeyPolicy"], root, callbacks_role, sender_role)


def check_key_policy(policy: dict, root, callbacks_role, sender_role) -> None:
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    for statement in by_sid.values():
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] != "*" and statement["Principal"]["AWS"] != "*"
    decrypting = [s for s in by_sid.values() if "kms:Decrypt" in s["Action"]]
    # Callbacks decrypts what is bound to an account (AuthTokens, URL credentials); the
    # sender only URL credentials: an AuthToken's context has no purpose, so it is refused.
    assert [(s["Principal"], s["Action"], s["Condition"]) for s in decrypting] == [
        ({"AWS": callbacks_role}, ["kms:Decrypt"], CONTEXT_CONDITION),
        ({"AWS": sender_role}, ["kms:Decrypt"], {**CONTEXT_CONDITION, **URL_CONDITION}),
    ]
    encrypting = [s for s in by_sid.values() if "kms:Encrypt" in s["Action"]]
    assert [(s["Principal"], s["Condition"]) for s in encrypting] == [
        ({"AWS": root}, CONTEXT_CONDITION)
    ]
    admin = by_sid["AccountAdministersTheKey"]
    assert admin["Principal"] == {"AWS": root}
    assert {"kms:Put*", "kms:Enable*", "kms:ScheduleKeyDeletion"} <= set(admin["Action"])
    # No wildcard in the administration grants a use of the key.
    for action in admin["Action"]:
        pattern = re.escape(action).replace(r"\*", ".*")
        uses = ("kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey")
        assert not any(re.fullmatch(pattern, use) for use in uses), action


def test_token_context_is_the_one_keys_binds_tokens_to():
    assert token_key.TOKEN_CONTEXT_KEY == tokens._CONTEXT_KEY
    expected = {"Null": {f"kms:EncryptionContext:{tokens._CONTEXT_KEY}": "false"}}
    assert expected == CONTEXT_CONDITION


def test_the_url_condition_is_the_context_url_credentials_are_sealed_with(account):
    """What the sender's statement requires is what url_credentials.sealed binds."""
    from chalicelib.storage import url_credentials

    seen = {}
    real = tokens._encrypt

    def spy(plaintext, context):
        seen.update(context)
        return real(plaintext, context)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tokens, "_encrypt", spy)
        url_credentials.sealed(account["account_sid"], "https://u:pw@h.example/")
    ((key, value),) = URL_CONDITION["StringEquals"].items()
    assert seen[key.removeprefix("kms:EncryptionContext:")] == value
    assert seen[tokens._CONTEXT_KEY] == account["account_sid"]


def cfn_value(sam: dict, value) -> str:
    """What a variable refers to, in the expectation's words."""
    if value == {"Ref": logical_ids.TABLE}:
        return "table"
    if value == {"Fn::Sub": "{{resolve:secretsmanager:${PageTokenSecret}:SecretString}}"}:
        assert sam["Resources"]["PageTokenSecret"]["Type"] == "AWS::SecretsManager::Secret"
        return "secret"
    if value == {"Ref": "ConfigurationSet"}:
        assert sam["Resources"]["ConfigurationSet"]["Type"] == "AWS::SMSVOICE::ConfigurationSet"
        return "configuration_set"
    if value == {"Ref": "MediaBucket"}:
        return "media_bucket"
    if value == {"Ref": "DefaultOriginationIdentity"}:
        assert sam["Parameters"]["DefaultOriginationIdentity"]["Default"] == ""
        return "default_origination_identity"
    if "Ref" in value:
        return f"queue/{cfn_queue_name(sam, value['Ref'])}"
    (logical, attribute) = value["Fn::GetAtt"]
    assert sam["Resources"][logical]["Type"] == "AWS::KMS::Key" and attribute == "Arn"
    return "key"


def literal_variables(variables: dict) -> dict:
    return {name: value for name, value in variables.items() if isinstance(value, str)}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_cfn_function_is_told_its_resources_by_reference(sam, carrier, variables, name):
    told = cfn_functions(sam)[name]["Properties"]["Environment"]["Variables"]
    literal = literal_variables(told)
    referenced = {k: cfn_value(sam, v) for k, v in told.items() if k not in literal}
    assert referenced == variables[name]
    check_literal_variables(name, literal, TIMEOUTS[name], carrier)


def check_literal_variables(name: str, literal: dict, timeout: int, carrier: str) -> None:
    """What the function is told outright is the stage's, and loads into sound settings."""
    assert literal == package.stage_config(STAGE, name, stage_on(carrier)).environment_variables
    assert literal[shared.CARRIER_VARIABLE] == carrier
    assert not [variable for variable in literal if shared.is_local_only(variable)]
    with pytest.MonkeyPatch.context() as patch:
        for variable in [v for v in os.environ if v.startswith("HERALD_")]:
            patch.delenv(variable)
        for variable, value in literal.items():
            patch.setenv(variable, value)
        delivery = config.delivery()
    assert delivery.allow_private_urls is False
    if name == "sender":
        # An expired claim must mean a worker that is gone: the lease outlives the function.
        assert delivery.lease_seconds > timeout


@pytest.mark.parametrize("name", FUNCTIONS)
def test_cfn_function_settings_come_from_the_stage(sam, name, retention):
    function = cfn_functions(sam)[name]
    properties = function["Properties"]
    assert properties["Architectures"] == ["arm64"]
    assert properties["MemorySize"] == MEMORY[name]
    assert properties["Timeout"] == TIMEOUTS[name]
    suffix = "" if name == "api_handler" else f"-{name}"
    assert properties["FunctionName"] == {"Fn::Sub": "${AWS::StackName}" + suffix}
    # Its log group (named before the function exists) and its permissions come first.
    log_group = cfn_log_group_of(sam, function)
    assert sam["Resources"][log_group]["Properties"]["RetentionInDays"] == retention
    (policy,) = [
        logical
        for logical, p in resources_of(sam, "AWS::IAM::Policy").items()
        if p["Properties"]["Roles"] == [{"Ref": cfn_role_of(function)}]
    ]
    assert set(function["DependsOn"]) == {log_group, policy}


def test_cfn_api_is_regional(sam):
    assert sam["Resources"]["RestAPI"]["Properties"]["EndpointConfiguration"] == "REGIONAL"


def test_cfn_outputs(sam):
    outputs = sam["Outputs"]
    assert {
        "EndpointURL",
        "RestAPIId",
        "TableName",
        "TableArn",
        "KmsKeyId",
        "APIHandlerName",
        "APIHandlerArn",
        "SendQueueUrl",
        "ReceiptsQueueUrl",
        "CallbacksQueueUrl",
        "SendDeadLetterQueueUrl",
        "ReceiptsDeadLetterQueueUrl",
        "CallbacksDeadLetterQueueUrl",
        "DispatcherFailuresQueueUrl",
        "DispatcherName",
        "SenderName",
        "ReceiptsName",
        "CallbacksName",
        "SchedulerName",
        "AlarmNames",
    } <= set(outputs)
    assert outputs["KmsKeyId"]["Value"] == {"Fn::GetAtt": [logical_ids.KEY, "Arn"]}
    assert outputs["CarrierEventsTopicArn"]["Value"] == {"Ref": logical_ids.EVENTS_TOPIC}
    assert outputs["SendQueueUrl"]["Value"] == {"Ref": "SendQueue"}


# --- gateway responses (both outputs) ------------------------------------------------------


def tf_swagger(tf: dict) -> dict:
    return json.loads(tf["locals"]["chalice_api_swagger"])


def test_gateway_responses_are_in_both_api_definitions(sam, tf):
    definition = sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    expected = gateway_errors.gateway_responses()
    assert definition[gateway_errors.GATEWAY_RESPONSES_KEY] == expected
    assert tf_swagger(tf)[gateway_errors.GATEWAY_RESPONSES_KEY] == expected


@pytest.mark.parametrize("response_type", sorted(gateway_errors.GATEWAY_ERRORS))
def test_gateway_response_renders_twilio_error_json(response_type):
    response = gateway_errors.gateway_responses()[response_type]
    rendered = response["responseTemplates"]["application/json"].replace(
        "$context.error.messageString", json.dumps('Missing "Authentication" Token')
    )
    body = json.loads(rendered)
    assert set(body) == {"code", "message", "more_info", "status"}
    assert body["status"] == response["statusCode"]
    assert body["more_info"] == errors.MORE_INFO.format(code=body["code"])
    content_type = response["responseParameters"]["gatewayresponse.header.Content-Type"]
    assert content_type == "'application/json'"


def test_unknown_paths_answer_twilio_404():
    response = gateway_errors.gateway_responses()["MISSING_AUTHENTICATION_TOKEN"]
    body = json.loads(response["responseTemplates"]["application/json"])
    assert (response["statusCode"], body["code"]) == (404, 20404)


# --- Terraform ----------------------------------------------------------------------------

REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([\w-]+)\.([a-z_]+)\}$")


def tf_ref(text: str) -> tuple[str, str, str]:
    match = REFERENCE.match(text)
    assert match, text
    return match.groups()


def test_tf_pins_current_terraform_and_providers(outputs, tf, carrier):
    versions = (outputs.terraform / "versions.tf").read_text()
    assert 'required_version = ">= 1.5.0"' in versions
    # aws_pinpointsmsvoicev2_event_destination: in the AWS provider from 6.48 on.
    aws = ">= 5.0, < 7.0" if carrier == "sandbox" else ">= 6.48.0, < 7.0"
    assert f'version = "{aws}"' in versions
    assert "terraform" not in tf  # only versions.tf sets it: checkov cannot parse it in JSON
    # No null_data_source, and none of Chalice's own data sources.
    assert set(tf["data"]) == {"aws_iam_policy_document", "aws_caller_identity", "aws_partition"}
    assert "stage_name" not in tf["resource"]["aws_api_gateway_deployment"]["rest_api"]
    assert tf["resource"]["aws_api_gateway_stage"]["rest_api"]["stage_name"] == "api"
    expected_variables = {"stage", "table_name", "region", "alarm_topic_arn"}
    if carrier == "end-user-messaging":
        expected_variables |= {
            "configuration_set_name",
            "origination_identity_arns",
            "default_origination_identity",
        }
    assert set(tf["variable"]) == expected_variables
    assert tf["provider"]["aws"]["region"] == "${var.region}"


def test_tf_every_reference_is_declared(tf):
    """What `terraform validate` would catch first: a reference to nothing."""
    text = json.dumps(tf)
    declared = {f"{kind}.{name}" for kind, named in tf["resource"].items() for name in named} | {
        f"data.{kind}.{name}" for kind, named in tf["data"].items() for name in named
    }
    references = re.findall(r"(?<![.\w])((?:aws|random)_[a-z0-9_]+)\.([\w-]+)", text)
    assert references
    for kind, name in references:
        assert f"{kind}.{name}" in declared, f"{kind}.{name}"
    for kind, name in re.findall(r"\bdata\.([a-z_]+)\.([\w-]+)", text):
        assert f"data.{kind}.{name}" in declared
    for name in re.findall(r"\blocal\.([a-z_]+)\b", text):
        assert name in tf["locals"], name
    for name in re.findall(r"\bvar\.([a-z_]+)\b", text):
        assert name in tf["variable"], name


def test_tf_table_is_the_one_storage_queries(tf):
    table = tf["resource"]["aws_dynamodb_table"]["messages"]
    expected = expected_table()
    assert table["billing_mode"] == expected["BillingMode"]
    keys_ = {k["KeyType"]: k["AttributeName"] for k in expected["KeySchema"]}
    assert (table["hash_key"], table["range_key"]) == (keys_["HASH"], keys_["RANGE"])
    assert table["attribute"] == [
        {"name": a["AttributeName"], "type": a["AttributeType"]}
        for a in expected["AttributeDefinitions"]
    ]
    indexes = {
        index["IndexName"]: (
            {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]},
            index["Projection"]["ProjectionType"],
            index["Projection"].get("NonKeyAttributes"),
        )
        for index in expected["GlobalSecondaryIndexes"]
    }
    assert {
        index["name"]: (
            {"HASH": index["hash_key"], "RANGE": index["range_key"]},
            index["projection_type"],
            index.get("non_key_attributes"),
        )
        for index in table["global_secondary_index"]
    } == indexes
    assert set(indexes) == {*storage.schema.LIST_INDEXES, storage.schema.INDEX_DUE}
    assert indexes[storage.schema.INDEX_DUE][1] == "KEYS_ONLY"
    assert (table["stream_enabled"], table["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")


def test_tf_table_is_protected(tf):
    table = tf["resource"]["aws_dynamodb_table"]["messages"]
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"] == {"enabled": True}
    assert table["deletion_protection_enabled"] is True
    assert table["lifecycle"] == {"prevent_destroy": True}
    assert table["ttl"] == {"attribute_name": storage.TTL_ATTRIBUTE, "enabled": True}
    assert table["name"] == "${local.table_name}"


def tf_resource(name: str, arn: str) -> str:
    """A resource of a grant, in the expectation's words."""
    table = "${aws_dynamodb_table.messages.arn}"
    if arn == table:
        return "table"
    if arn == "${aws_dynamodb_table.messages.stream_arn}":
        return "stream"
    if arn.startswith(table + "/index/"):
        index = arn[len(table + "/index/") :]
        return "indexes" if index == "*" else f"index/{index}"
    if arn == f"${{aws_cloudwatch_log_group.{name}.arn}}:*":
        return "logs"
    if arn == "${aws_s3_bucket.media.arn}/*":
        return "media_objects"
    if arn == (
        "arn:${data.aws_partition.current.partition}:sms-voice:*:"
        "${data.aws_caller_identity.current.account_id}:message/*"
    ):
        return "carrier_messages"
    kind, resource, attribute = tf_ref(arn)
    assert attribute == "arn", arn
    if kind == "aws_sqs_queue":
        return f"queue/{resource}"
    if (kind, resource) == ("aws_kms_key", "tokens"):
        return "key"
    if (kind, resource) == ("aws_pinpointsmsvoicev2_configuration_set", "herald"):
        return "configuration_set"
    raise AssertionError(f"a grant on {arn}")


def tf_role_of(tf: dict, name: str) -> str:
    kind, role, attribute = tf_ref(tf["resource"]["aws_lambda_function"][name]["role"])
    assert (kind, attribute) == ("aws_iam_role", "arn")
    return role


def tf_grants(tf: dict, name: str) -> dict:
    role = tf_role_of(tf, name)
    (policy,) = [
        p
        for p in tf["resource"]["aws_iam_role_policy"].values()
        if p["role"] == f"${{aws_iam_role.{role}.id}}"
    ]
    kind, document, attribute = tf_ref(policy["policy"].replace("data.", "", 1))
    assert (kind, attribute) == ("aws_iam_policy_document", "json")
    grants: dict[str, set] = {}
    for statement in tf["data"]["aws_iam_policy_document"][document]["statement"]:
        assert statement["effect"] == "Allow"
        assert set(statement) == {"sid", "effect", "actions", "resources"}
        if statement["resources"] == "${var.origination_identity_arns}":
            # The list variable (one interpolation: its value, unwrapped), and nothing else.
            assert tf["variable"]["origination_identity_arns"]["type"] == "list(string)"
            grants.setdefault("origination_identities", set()).update(statement["actions"])
            continue
        for arn in statement["resources"]:
            grants.setdefault(tf_resource(name, arn), set()).update(statement["actions"])
    return grants


@pytest.mark.parametrize("name", FUNCTIONS)
def test_tf_each_role_may_do_exactly_what_its_function_needs(tf, grants, name):
    assert tf_grants(tf, name) == grants[name]


def test_tf_has_the_six_functions_each_with_a_role_of_its_own(tf):
    resources = tf["resource"]
    assert set(resources["aws_lambda_function"]) == set(FUNCTIONS)
    roles = [tf_role_of(tf, name) for name in FUNCTIONS]
    assert len(set(roles)) == len(roles) == len(resources["aws_iam_role"])
    assert len(resources["aws_iam_role_policy"]) == len(roles)
    assert "aws_iam_role_policy_attachment" not in resources
    assert PLACEHOLDER_ROLE not in json.dumps(tf)
    for document in tf["data"]["aws_iam_policy_document"].values():
        for statement in document["statement"]:
            assert not any("*" in action for action in statement["actions"])
            assert "*" not in statement["resources"]


def test_tf_every_queue_is_encrypted_and_every_work_queue_has_a_dead_letter_queue(tf):
    queues = tf["resource"]["aws_sqs_queue"]
    assert set(queues) == {
        *WORK_QUEUES,
        *(f"{name}_dead_letter" for name in WORK_QUEUES),
        STREAM_FAILURES,
    }
    for name, queue in queues.items():
        assert queue["sqs_managed_sse_enabled"] is True
        assert "kms_master_key_id" not in queue
        assert queue["name"] == "${local.function_name}-" + name.replace("_", "-")
    functions = tf["resource"]["aws_lambda_function"]
    for name, (consumer, receives) in WORK_QUEUES.items():
        redrive = json.loads(queues[name]["redrive_policy"])
        assert redrive == {
            "deadLetterTargetArn": f"${{aws_sqs_queue.{name}_dead_letter.arn}}",
            "maxReceiveCount": receives,
        }
        assert queues[name]["visibility_timeout_seconds"] >= 6 * functions[consumer]["timeout"]
        dead_letter = queues[f"{name}_dead_letter"]
        assert dead_letter["message_retention_seconds"] == FOURTEEN_DAYS
        assert "redrive_policy" not in dead_letter
    assert queues[STREAM_FAILURES]["message_retention_seconds"] == FOURTEEN_DAYS


def tf_mappings(tf: dict) -> dict:
    """Consumer -> its event source mapping."""
    mappings = {}
    for mapping in tf["resource"]["aws_lambda_event_source_mapping"].values():
        kind, function, attribute = tf_ref(mapping["function_name"])
        assert (kind, attribute) == ("aws_lambda_function", "arn")
        assert function not in mappings
        mappings[function] = mapping
    return mappings


def test_tf_each_queue_feeds_its_function_with_partial_batch_failures(tf):
    mappings = tf_mappings(tf)
    assert set(mappings) == {"dispatcher", *(c for c, _ in WORK_QUEUES.values())}
    for name, (consumer, _) in WORK_QUEUES.items():
        mapping = mappings[consumer]
        assert mapping["event_source_arn"] == f"${{aws_sqs_queue.{name}.arn}}"
        assert mapping["function_response_types"] == REPORT_FAILURES
        assert mapping["batch_size"] == 10
        # Lambda checks the role's permissions on the queue when the mapping is created.
        assert mapping["depends_on"] == [f"aws_iam_role_policy.{tf_role_of(tf, consumer)}"]


def test_tf_the_stream_feeds_the_dispatcher_until_its_records_expire(tf):
    mapping = tf_mappings(tf)["dispatcher"]
    assert mapping["event_source_arn"] == "${aws_dynamodb_table.messages.stream_arn}"
    assert mapping["starting_position"] == "TRIM_HORIZON"
    assert mapping["function_response_types"] == REPORT_FAILURES
    assert mapping["bisect_batch_on_function_error"] is True
    assert mapping["maximum_retry_attempts"] == -1
    assert mapping["maximum_record_age_in_seconds"] == 86_400
    assert mapping["destination_config"] == {
        "on_failure": {"destination_arn": f"${{aws_sqs_queue.{STREAM_FAILURES}.arn}}"}
    }
    assert mapping["depends_on"] == ["aws_iam_role_policy.dispatcher"]


def test_tf_the_scheduler_runs_every_minute_under_a_name_of_its_stage(tf):
    resources = tf["resource"]
    (rule_name, rule) = next(iter(resources["aws_cloudwatch_event_rule"].items()))
    assert len(resources["aws_cloudwatch_event_rule"]) == 1
    assert rule["schedule_expression"] == "rate(1 minute)"
    assert rule["name"] == "${local.function_name}-scheduler"
    (target,) = resources["aws_cloudwatch_event_target"].values()
    assert target["arn"] == "${aws_lambda_function.scheduler.arn}"
    assert target["rule"] == f"${{aws_cloudwatch_event_rule.{rule_name}.name}}"


def test_tf_no_placeholder_source_is_left(tf):
    text = json.dumps(tf)
    for placeholder in PLACEHOLDERS:
        assert placeholder not in text


def test_tf_token_key_rotates_and_only_callbacks_decrypt_tokens(tf):
    assert set(tf["resource"]["aws_kms_key"]) == {"tokens", "carrier_events"}
    key = tf["resource"]["aws_kms_key"]["tokens"]
    assert key["enable_key_rotation"] is True
    assert key["lifecycle"] == {"prevent_destroy": True}
    root = (
        "arn:${data.aws_partition.current.partition}:iam::"
        "${data.aws_caller_identity.current.account_id}:root"
    )
    role = f"${{aws_iam_role.{tf_role_of(tf, 'callbacks')}.arn}}"
    sender = f"${{aws_iam_role.{tf_role_of(tf, 'sender')}.arn}}"
    check_key_policy(json.loads(key["policy"]), root, role, sender)


def tf_value(value: str) -> str:
    if value == "${aws_dynamodb_table.messages.name}":
        return "table"
    if value == "${random_password.page_token_secret.result}":
        return "secret"
    if value == "${aws_kms_key.tokens.arn}":
        return "key"
    if value == "${aws_pinpointsmsvoicev2_configuration_set.herald.name}":
        return "configuration_set"
    if value == "${var.default_origination_identity}":
        return "default_origination_identity"
    if value == "${aws_s3_bucket.media.bucket}":
        return "media_bucket"
    kind, queue, attribute = tf_ref(value)
    assert (kind, attribute) == ("aws_sqs_queue", "url")
    return f"queue/{queue}"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_tf_function_is_told_its_resources_by_reference(tf, carrier, variables, name):
    told = tf["resource"]["aws_lambda_function"][name]["environment"]["variables"]
    literal = {k: v for k, v in told.items() if not v.startswith("${")}
    referenced = {k: tf_value(v) for k, v in told.items() if k not in literal}
    assert referenced == variables[name]
    check_literal_variables(name, literal, TIMEOUTS[name], carrier)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_tf_function_settings_come_from_the_stage(tf, name, retention):
    function = tf["resource"]["aws_lambda_function"][name]
    assert function["architectures"] == ["arm64"]
    assert (function["memory_size"], function["timeout"]) == (MEMORY[name], TIMEOUTS[name])
    suffix = "" if name == "api_handler" else f"-{name}"
    assert function["function_name"] == "${local.function_name}" + suffix
    log_group = tf["resource"]["aws_cloudwatch_log_group"][name]
    assert log_group["name"] == "/aws/lambda/" + function["function_name"]
    assert log_group["retention_in_days"] == retention
    role = tf_role_of(tf, name)
    assert function["depends_on"] == [
        f"aws_cloudwatch_log_group.{name}",
        f"aws_iam_role_policy.{role}",
    ]


def test_tf_outputs(tf):
    assert {
        "EndpointURL",
        "RestAPIId",
        "TableName",
        "TableArn",
        "KmsKeyId",
        "APIHandlerName",
        "APIHandlerArn",
        "SendQueueUrl",
        "ReceiptsQueueUrl",
        "CallbacksQueueUrl",
        "SendDeadLetterQueueUrl",
        "ReceiptsDeadLetterQueueUrl",
        "CallbacksDeadLetterQueueUrl",
        "DispatcherFailuresQueueUrl",
        "DispatcherName",
        "SenderName",
        "ReceiptsName",
        "CallbacksName",
        "SchedulerName",
        "AlarmNames",
    } <= set(tf["output"])
    assert tf["output"]["KmsKeyId"]["value"] == "${aws_kms_key.tokens.arn}"
    assert tf["output"]["CarrierEventsTopicArn"]["value"] == "${aws_sns_topic.carrier_events.arn}"


# --- stages ---------------------------------------------------------------------------------


def test_deployable_stages_are_arm64_without_local_settings():
    config_ = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert set(config_["stages"]) >= {"local", "dev", "prod"}
    for name in config_["stages"]:
        if name == "local":
            continue
        for function in FUNCTIONS:
            settings = package.stage_config(name, function)
            assert settings.autogen_policy is False
            assert settings.manage_iam_role is False
            assert settings.lambda_architecture == "arm64"
            assert settings.lambda_timeout == TIMEOUTS[function]
            assert settings.log_retention_in_days
            assert settings.environment_variables.get(shared.CARRIER_VARIABLE) in CARRIERS
            assert not [v for v in settings.environment_variables if shared.is_local_only(v)]
        # API Gateway gives up at 29 s.
        assert package.stage_config(name).lambda_timeout < 29
    for function in FUNCTIONS:
        assert package.stage_config("prod", function).log_retention_in_days >= 365


@pytest.mark.parametrize(
    "variable", ["HERALD_ALLOW_PRIVATE_URLS", "DYNAMODB_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"]
)
def test_packaging_refuses_a_local_only_variable_on_any_function(tmp_path, monkeypatch, variable):
    config_ = json.loads((ROOT / ".chalice" / "config.json").read_text())
    functions = config_["stages"]["dev"].setdefault("lambda_functions", {})
    functions.setdefault("callbacks", {})["environment_variables"] = {variable: "1"}
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(config_))
    monkeypatch.setattr(package, "ROOT", tmp_path)
    with pytest.raises(SystemExit, match="local-only"):
        package.stage_config("dev")


def test_prod_template_names_the_prod_table():
    assert stack.parameters("prod")["TableName"]["Default"] == "herald-prod-messages"


def test_repackaging_keeps_what_the_user_keeps_beside_the_outputs(tmp_path):
    built = package.Outputs(tmp_path / "new" / "cloudformation", tmp_path / "new" / "terraform")
    for directory in built.directories:
        directory.mkdir(parents=True)
        (directory / "generated.json").write_text("new")
    out = package.Outputs(tmp_path / "build" / "cloudformation", tmp_path / "build" / "terraform")
    out.terraform.mkdir(parents=True)
    (out.terraform / "terraform.tfstate").write_text("state")
    (out.terraform / "generated.json").write_text("old")
    package._publish(built, out)
    assert (out.terraform / "terraform.tfstate").read_text() == "state"
    assert (out.terraform / "generated.json").read_text() == "new"
    assert (out.cloudformation / "generated.json").read_text() == "new"


# --- carrier events: End User Messaging -> SNS -> the receipt queue (both outputs) ---------

ACCOUNT_ID_CFN = {"Ref": "AWS::AccountId"}
ACCOUNT_ID_TF = "${data.aws_caller_identity.current.account_id}"
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


def test_cfn_carrier_events_reach_the_receipt_queue_from_an_encrypted_topic(sam):
    resources = sam["Resources"]
    topic = {"Ref": logical_ids.EVENTS_TOPIC}
    assert resources[logical_ids.EVENTS_TOPIC]["Properties"] == {
        "KmsMasterKeyId": {"Fn::GetAtt": [logical_ids.EVENTS_KEY, "Arn"]}
    }
    key = resources[logical_ids.EVENTS_KEY]["Properties"]
    assert key["EnableKeyRotation"] is True
    root = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    check_events_key_policy(key["KeyPolicy"], root, ACCOUNT_ID_CFN)
    topic_policy = resources[logical_ids.EVENTS_TOPIC_POLICY]["Properties"]
    assert topic_policy["Topics"] == [topic]
    sms_voice = {"Fn::Sub": "arn:${AWS::Partition}:sms-voice:${AWS::Region}:${AWS::AccountId}:*"}
    check_topic_policy(topic_policy["PolicyDocument"], topic, ACCOUNT_ID_CFN, sms_voice)
    assert key["KeyPolicy"]["Statement"][1]["Condition"]["ArnLike"] == {"aws:SourceArn": sms_voice}
    receipts = {"Fn::GetAtt": ["ReceiptsQueue", "Arn"]}
    subscription = resources[logical_ids.EVENTS_SUBSCRIPTION]
    assert subscription["Properties"] == {
        "TopicArn": topic,
        "Protocol": "sqs",
        "Endpoint": receipts,
        "RawMessageDelivery": True,
    }
    assert subscription["DependsOn"] == [logical_ids.RECEIPTS_QUEUE_POLICY]
    queue_policy = resources[logical_ids.RECEIPTS_QUEUE_POLICY]["Properties"]
    assert queue_policy["Queues"] == [{"Ref": "ReceiptsQueue"}]
    check_queue_policy(queue_policy["PolicyDocument"], receipts, topic)
    # Only the receipt queue takes anything from outside IAM.
    assert len(resources_of(sam, "AWS::SQS::QueuePolicy")) == 1


def test_cfn_configuration_set_sends_events_to_the_topic_on_end_user_messaging(sam, carrier):
    sets = resources_of(sam, "AWS::SMSVOICE::ConfigurationSet")
    if carrier == "sandbox":
        assert sets == {} and not resources_of(sam, "AWS::S3::Bucket")
        assert set(sam["Parameters"]) == {"TableName", "AlarmTopicArn"}
        assert "sms-voice:" not in json.dumps(resources_of(sam, "AWS::IAM::Policy"))
        return
    assert sam["Parameters"]["ConfigurationSetName"]["Default"] == f"herald-{STAGE}"
    (configuration_set,) = sets.values()
    properties = configuration_set["Properties"]
    assert properties["ConfigurationSetName"] == {"Ref": "ConfigurationSetName"}
    (destination,) = properties["EventDestinations"]
    assert destination == {
        "EventDestinationName": "herald-receipts",
        "Enabled": True,
        "MatchingEventTypes": EVENT_TYPES,
        "SnsDestination": {"TopicArn": {"Ref": logical_ids.EVENTS_TOPIC}},
    }
    # The topic lets End User Messaging publish before the destination is made.
    assert logical_ids.EVENTS_TOPIC_POLICY in configuration_set["DependsOn"]
    identities = sam["Parameters"]["OriginationIdentityArns"]
    assert identities["Type"] == "CommaDelimitedList" and "Default" not in identities
    assert sam["Outputs"]["ConfigurationSetName"]["Value"] == {"Ref": "ConfigurationSet"}


def test_tf_carrier_events_reach_the_receipt_queue_from_an_encrypted_topic(tf):
    resources = tf["resource"]
    topic = "${aws_sns_topic.carrier_events.arn}"
    assert resources["aws_sns_topic"]["carrier_events"] == {
        "name": "${local.function_name}-carrier-events",
        "kms_master_key_id": "${aws_kms_key.carrier_events.arn}",
    }
    key = resources["aws_kms_key"]["carrier_events"]
    assert key["enable_key_rotation"] is True
    root = (
        "arn:${data.aws_partition.current.partition}:iam::"
        "${data.aws_caller_identity.current.account_id}:root"
    )
    check_events_key_policy(json.loads(key["policy"]), root, ACCOUNT_ID_TF)
    topic_policy = resources["aws_sns_topic_policy"]["carrier_events"]
    assert topic_policy["arn"] == topic
    sms_voice = (
        "arn:${data.aws_partition.current.partition}:sms-voice:*:"
        "${data.aws_caller_identity.current.account_id}:*"
    )
    check_topic_policy(json.loads(topic_policy["policy"]), topic, ACCOUNT_ID_TF, sms_voice)
    subscription = resources["aws_sns_topic_subscription"]["carrier_events"]
    assert subscription == {
        "topic_arn": topic,
        "protocol": "sqs",
        "endpoint": "${aws_sqs_queue.receipts.arn}",
        "raw_message_delivery": True,
        "depends_on": ["aws_sqs_queue_policy.receipts"],
    }
    (queue_policy,) = resources["aws_sqs_queue_policy"].values()
    assert queue_policy["queue_url"] == "${aws_sqs_queue.receipts.url}"
    check_queue_policy(json.loads(queue_policy["policy"]), "${aws_sqs_queue.receipts.arn}", topic)


def test_tf_configuration_set_sends_events_to_the_topic_on_end_user_messaging(tf, carrier):
    resources = tf["resource"]
    if carrier == "sandbox":
        assert not [kind for kind in resources if kind.startswith("aws_pinpointsmsvoicev2")]
        assert not [kind for kind in resources if kind.startswith("aws_s3_bucket")]
        assert "sms-voice:" not in json.dumps(tf["data"]["aws_iam_policy_document"])
        assert "configuration_set_name" not in tf["locals"]
        return
    assert tf["locals"]["configuration_set_name"] == (
        '${coalesce(var.configuration_set_name, "herald-${var.stage}")}'
    )
    (configuration_set,) = resources["aws_pinpointsmsvoicev2_configuration_set"].values()
    assert configuration_set == {"name": "${local.configuration_set_name}"}
    (destination,) = resources["aws_pinpointsmsvoicev2_event_destination"].values()
    assert destination == {
        "configuration_set_name": "${aws_pinpointsmsvoicev2_configuration_set.herald.name}",
        "event_destination_name": "herald-receipts",
        "matching_event_types": EVENT_TYPES,
        "sns_destination": {"topic_arn": "${aws_sns_topic.carrier_events.arn}"},
        "depends_on": [
            "aws_sns_topic_policy.carrier_events",
            "aws_sns_topic_subscription.carrier_events",
        ],
    }
    identities = tf["variable"]["origination_identity_arns"]
    assert identities["type"] == "list(string)" and "default" not in identities
    assert tf["variable"]["default_origination_identity"]["default"] == ""


def test_the_configuration_set_matches_only_events_end_user_messaging_has():
    import botocore.session

    model = botocore.session.get_session().get_service_model("pinpoint-sms-voice-v2")
    assert set(EVENT_TYPES) <= set(model.shape_for("EventType").enum)
    assert set(EVENT_TYPES) == set(carrier_events.EVENT_TYPES)


@pytest.mark.parametrize(
    ("functions", "complaint"),
    [
        ({"sender": "end-user-messaging"}, "one HERALD_CARRIER"),  # a mixed stage
        ({name: "eum" for name in FUNCTIONS}, "one HERALD_CARRIER"),
    ],
)
def test_packaging_refuses_a_stage_without_one_known_carrier(functions, complaint):
    config_ = package.read_config()
    stage = config_["stages"][STAGE]
    for function, carrier_ in functions.items():
        stage.setdefault("lambda_functions", {}).setdefault(function, {})[
            "environment_variables"
        ] = {shared.CARRIER_VARIABLE: carrier_}
    with pytest.raises(SystemExit, match=complaint):
        package.stage_carrier(STAGE, config_)


def test_packaging_refuses_a_registered_sender_check_on_some_functions_only():
    """Issue 14, item 1: replies (callbacks) and keyword answers (receipts) apply the check
    too; set on the API's function alone, they would not."""
    config_ = package.read_config()
    stage = config_["stages"][STAGE]
    stage.setdefault("lambda_functions", {}).setdefault("api_handler", {})[
        "environment_variables"
    ] = {shared.REGISTERED_FROM_VARIABLE: "1"}
    with pytest.raises(SystemExit, match="same HERALD_REQUIRE_REGISTERED_FROM"):
        package.stage_config(STAGE, config=config_)
    del stage["lambda_functions"]["api_handler"]["environment_variables"]
    stage.setdefault("environment_variables", {})[shared.REGISTERED_FROM_VARIABLE] = "1"
    assert package.stage_config(STAGE, config=config_) is not None


# --- the runtime ----------------------------------------------------------------------------


def test_the_runtime_is_this_interpreter_s_by_default(sam, tf):
    this = "python{}.{}".format(*sys.version_info[:2])
    assert {f["Properties"]["Runtime"] for f in cfn_functions(sam).values()} == {this}
    assert {f["runtime"] for f in tf["resource"]["aws_lambda_function"].values()} == {this}


def other_interpreter() -> tuple[str, tuple[int, int]] | None:
    """A Python other than this one that Lambda runs (3.12 to 3.14), when the machine has
    one: HERALD_LAMBDA_PYTHON, python3.1x on the PATH, or pyenv's. CI need not have any."""
    candidates = [os.environ.get("HERALD_LAMBDA_PYTHON")]
    candidates += [f"python3.{minor}" for minor in (14, 13, 12)]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.1[234]*/bin/python3"))
    for candidate in filter(None, candidates):
        try:
            found = lambda_runtime.runtime(candidate)
        except SystemExit:
            continue
        if found.version != sys.version_info[:2]:
            return candidate, found.version
    return None


def test_another_interpreter_retargets_the_runtime_and_compiles_the_bytecode(tmp_path):
    other = other_interpreter()
    if other is None:
        pytest.skip("no other Python 3.12-3.14 on this machine (HERALD_LAMBDA_PYTHON names one)")
    python, version = other
    built = package.package(STAGE, tmp_path, WHEELHOUSE, python=python)
    name = "python{}.{}".format(*version)
    sam = json.loads((built.cloudformation / "sam.json").read_text())
    tf = json.loads((built.terraform / "chalice.tf.json").read_text())
    assert {f["Properties"]["Runtime"] for f in cfn_functions(sam).values()} == {name}
    assert {f["runtime"] for f in tf["resource"]["aws_lambda_function"].values()} == {name}
    magic = subprocess.run(
        [python, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    tag = "cpython-{}{}".format(*version)
    with zipfile.ZipFile(built.zip_path) as bundle:
        compiled = [n for n in bundle.namelist() if n.endswith(".pyc")]
        assert compiled and all(f".{tag}.pyc" in n for n in compiled)
        for pyc in compiled:
            assert bundle.read(pyc)[:4].hex() == magic
    assert (built.terraform / "deployment.zip").read_bytes() == built.zip_path.read_bytes()


def test_a_runtime_lambda_or_herald_cannot_run_is_refused(tmp_path):
    fake = tmp_path / "python3.10"
    fake.write_text("#!/bin/sh\necho 3 10\n")
    fake.chmod(0o755)
    with pytest.raises(SystemExit, match=re.escape("one of 3.11, 3.12, 3.13, 3.14")):
        lambda_runtime.runtime(str(fake))
    with pytest.raises(SystemExit, match="cannot run"):
        lambda_runtime.runtime(str(tmp_path / "missing"))


def test_a_bundle_with_compiled_code_keeps_its_runtime(tmp_path):
    built = package.Outputs(tmp_path / "cloudformation", tmp_path / "terraform")
    built.cloudformation.mkdir()
    with zipfile.ZipFile(built.zip_path, "w") as bundle:
        bundle.writestr("app.py", "")
        bundle.writestr("speedups/_fast.cpython-311-aarch64-linux-gnu.so", b"\x7fELF")
    target = lambda_runtime.Runtime("python3.13", (3, 13))
    with pytest.raises(SystemExit, match="compiled for this interpreter"):
        lambda_runtime.retarget(built, target)


TLS_ONLY = {
    "Sid": "TlsOnly",
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "s3:*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def test_cfn_media_bucket_is_private_and_forgets(sam, carrier):
    if carrier == "sandbox":
        return  # the sandbox keeps no media (test above: no bucket)
    bucket = sam["Resources"]["MediaBucket"]
    properties = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption == {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["ExpirationInDays"] == 7
    (policy,) = resources_of(sam, "AWS::S3::BucketPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {k: v for k, v in statement.items() if k != "Resource"} == TLS_ONLY
    assert statement["Resource"] == [
        {"Fn::GetAtt": ["MediaBucket", "Arn"]},
        {"Fn::Sub": "${MediaBucket.Arn}/*"},
    ]
    assert sam["Outputs"]["MediaBucketName"]["Value"] == {"Ref": "MediaBucket"}


def test_tf_media_bucket_is_private_and_forgets(tf, carrier):
    if carrier == "sandbox":
        return
    resources = tf["resource"]
    bucket = "${aws_s3_bucket.media.id}"
    assert resources["aws_s3_bucket"]["media"] == {"bucket_prefix": "${local.function_name}-media-"}
    assert resources["aws_s3_bucket_public_access_block"]["media"] == {
        "bucket": bucket,
        "block_public_acls": True,
        "block_public_policy": True,
        "ignore_public_acls": True,
        "restrict_public_buckets": True,
    }
    assert resources["aws_s3_bucket_ownership_controls"]["media"]["rule"] == {
        "object_ownership": "BucketOwnerEnforced"
    }
    encryption = resources["aws_s3_bucket_server_side_encryption_configuration"]["media"]
    assert encryption["rule"] == {
        "apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}
    }
    rule = resources["aws_s3_bucket_lifecycle_configuration"]["media"]["rule"]
    assert rule["status"] == "Enabled" and rule["expiration"] == {"days": 7}
    (statement,) = json.loads(resources["aws_s3_bucket_policy"]["media"]["policy"])["Statement"]
    assert {k: v for k, v in statement.items() if k != "Resource"} == TLS_ONLY
    assert statement["Resource"] == ["${aws_s3_bucket.media.arn}", "${aws_s3_bucket.media.arn}/*"]


# --- alarms (both outputs): docs/operations.md, "Alarms" ------------------------------------

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
        return f"queue/{cfn_queue_name(sam, logical)}"  # a queue this template creates
    # A function this template creates (Ref: its name).
    (function,) = [
        name for name, f in cfn_functions(sam).items() if f is sam["Resources"][value["Ref"]]
    ]
    return f"function/{function}"


def cfn_alarm_resources(sam: dict) -> dict:
    return resources_of(sam, "AWS::CloudWatch::Alarm")


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


@pytest.mark.parametrize("writer", ["cfn", "tf"])
def test_the_alarms_of_docs_operations_are_in_the_templates(sam, tf, writer):
    alarms = cfn_alarms(sam) if writer == "cfn" else tf_alarms(tf)
    assert set(alarms) == set(ALARMS)
    for name, alarm in alarms.items():
        expected = expected_alarm(name)
        if "rate_of" in expected:
            bad, good = expected.pop("rate_of")
            check_rate(alarm.pop("expression"), bad, good, expected["threshold"])
        assert alarm == expected, name


def test_the_alarms_watch_the_stage_the_functions_emit(sam, tf):
    """The Stage dimension is the HERALD_STAGE each function is told outright, as
    .chalice/config.json gives it to the stage packaged."""
    assert package.stage_config(STAGE).environment_variables["HERALD_STAGE"] == METRICS_STAGE
    told = {
        f["Properties"]["Environment"]["Variables"]["HERALD_STAGE"]
        for f in cfn_functions(sam).values()
    } | {
        f["environment"]["variables"]["HERALD_STAGE"]
        for f in tf["resource"]["aws_lambda_function"].values()
    }
    assert told == {METRICS_STAGE}
    for alarms in (cfn_alarms(sam), tf_alarms(tf)):
        for alarm in alarms.values():
            for metric in alarm.get("inputs", {"": alarm.get("metric")}).values():
                if metric[0] == "Herald":
                    assert metric[0] == metrics.NAMESPACE
                    assert metric[1] in metrics.METRICS
                    assert [list(metric[2])] == metrics.DIMENSIONS


@pytest.mark.parametrize(
    "variables",
    [
        {"sender": {"HERALD_STAGE": "dev"}, "receipts": {"HERALD_STAGE": "prod"}},
        {"sender": {"HERALD_STAGE": "dev"}, "receipts": {}},
        {"sender": {"HERALD_STAGE": ""}},
    ],
)
def test_packaging_refuses_functions_that_do_not_share_one_stage(variables):
    with pytest.raises(RuntimeError, match="HERALD_STAGE"):
        metrics_stage(variables)


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
