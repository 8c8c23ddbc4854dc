"""The deploy templates `make package` writes: linted, scanned, and held to what the code does.

The packaging runs once for the module (dev stage) into a temporary directory, with pip
confined to the wheelhouse `make wheelhouse` filled, so nothing here touches the network.
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

from chalicelib import errors, storage
from deploy import cloudformation, package, shared
from deploy.package import BYTECODE_TOPS

ROOT = Path(__file__).resolve().parent.parent
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CHECKOV_CONFIG = ROOT / "deploy" / "checkov.yaml"
STAGE = "dev"
ACTIONS = {f"dynamodb:{action}" for action in storage.ACTIONS}
PLACEHOLDER_ROLE = "replaced-by-the-deploy-templates"


def _require(path: Path, make_target: str) -> None:
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make {make_target}` (make test does)")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> package.Outputs:
    _require(WHEELHOUSE, "wheelhouse")
    return package.package(STAGE, tmp_path_factory.mktemp("build"), WHEELHOUSE)


@pytest.fixture(scope="module")
def sam(outputs) -> dict:
    return json.loads((outputs.cloudformation / "sam.json").read_text())


@pytest.fixture(scope="module")
def tf(outputs) -> dict:
    return json.loads((outputs.terraform / "chalice.tf.json").read_text())


@pytest.fixture(scope="module")
def settings():
    return package.stage_config(STAGE)


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
    assert report["summary"]["passed"] >= 20


def test_every_checkov_skip_has_a_reason():
    lines = CHECKOV_CONFIG.read_text().splitlines()
    skips = [line for line in lines if re.match(r"\s*- CKV", line)]
    assert skips
    for line in skips:
        assert re.match(r"\s*- CKV2?_AWS_\d+\s+# \S.{20,}", line), line


# --- the bundle ---------------------------------------------------------------------------


def test_bundle_holds_only_the_app_and_its_run_time_needs(outputs):
    with zipfile.ZipFile(outputs.zip_path) as bundle:
        names = bundle.namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops <= {"app.py", "__pycache__", "chalicelib", "chalice", "phonenumbers"} | {
        top for top in tops if top.startswith("phonenumberslite-")
    }
    assert "app.py" in tops and "phonenumbers" in tops
    assert not {"boto3", "botocore"} & tops  # the Lambda runtime provides them
    assert outputs.zip_path.stat().st_size < 1024 * 1024
    terraform_zip = outputs.terraform / "deployment.zip"
    assert terraform_zip.read_bytes() == outputs.zip_path.read_bytes()


def test_bundle_bytecode_is_checked_hash_of_the_bundled_source(outputs):
    with zipfile.ZipFile(outputs.zip_path) as bundle:
        names = set(bundle.namelist())
        sources = {n for n in names if n.endswith(".py") and n.split("/")[0] in BYTECODE_TOPS}
        compiled = {n for n in names if n.endswith(".pyc")}
        assert compiled == {importlib.util.cache_from_source(n) for n in sources}
        for source in sources:
            pyc = bundle.read(importlib.util.cache_from_source(source))
            # PEP 552 header: magic, flags (0b11: hash-based, checked), source hash.
            assert pyc[:4] == importlib.util.MAGIC_NUMBER
            assert int.from_bytes(pyc[4:8], "little") == 0b11
            assert pyc[8:16] == importlib.util.source_hash(bundle.read(source))


# --- CloudFormation -----------------------------------------------------------------------


def resources_of(sam: dict, kind: str) -> dict:
    return {name: r for name, r in sam["Resources"].items() if r["Type"] == kind}


def test_cfn_table_is_the_one_storage_queries(sam):
    (table,) = resources_of(sam, "AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    for key, value in expected_table().items():
        assert properties[key] == value, key
    assert properties["TableName"] == {"Ref": "TableName"}
    assert sam["Parameters"]["TableName"]["Default"] == f"herald-{STAGE}-messages"


def test_cfn_table_is_protected(sam):
    table = sam["Resources"][cloudformation.TABLE]
    properties = table["Properties"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["DeletionProtectionEnabled"] is True
    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": storage.TTL_ATTRIBUTE,
        "Enabled": True,
    }


def cfn_statements(sam: dict) -> list[dict]:
    statements = []
    for resource in sam["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            statements += properties["PolicyDocument"]["Statement"]
        if resource["Type"] == "AWS::IAM::Role":
            assert "Policies" not in properties and "ManagedPolicyArns" not in properties
    return statements


def listed(value) -> list:
    return value if isinstance(value, list) else [value]


def test_cfn_dynamodb_grant_is_exactly_storage_actions_on_the_table(sam):
    statements = cfn_statements(sam)
    dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in s["Action"])]
    assert len(dynamodb) == 1
    (grant,) = dynamodb
    assert grant["Effect"] == "Allow"
    assert set(grant["Action"]) == ACTIONS
    assert grant["Resource"] == [
        {"Fn::GetAtt": [cloudformation.TABLE, "Arn"]},
        {"Fn::Sub": "${" + cloudformation.TABLE + ".Arn}/index/*"},
    ]


def test_cfn_no_wildcard_action_or_resource(sam):
    for statement in cfn_statements(sam):
        assert not any("*" in action for action in listed(statement["Action"])), statement
        assert "*" not in listed(statement["Resource"]), statement
        assert "NotAction" not in statement and "NotResource" not in statement


def test_cfn_logs_grant_is_the_function_log_group_only(sam):
    (logs,) = [s for s in cfn_statements(sam) if s["Sid"] == "FunctionLogs"]
    assert set(logs["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert logs["Resource"] == [{"Fn::GetAtt": [cloudformation.LOG_GROUP, "Arn"]}]


def test_cfn_policy_is_its_own_resource_on_the_function_role(sam):
    (policy,) = resources_of(sam, "AWS::IAM::Policy").values()
    assert policy["Properties"]["Roles"] == [{"Ref": cloudformation.ROLE}]
    function = sam["Resources"][cloudformation.FUNCTION]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": [cloudformation.ROLE, "Arn"]}
    assert PLACEHOLDER_ROLE not in json.dumps(sam)


def test_cfn_function_reads_table_and_secret_by_reference(sam):
    variables = sam["Resources"][cloudformation.FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables[shared.TABLE_VARIABLE] == {"Ref": cloudformation.TABLE}
    secret = variables[shared.SECRET_VARIABLE]["Fn::Sub"]
    assert secret == "{{resolve:secretsmanager:${" + cloudformation.SECRET + "}:SecretString}}"
    assert sam["Resources"][cloudformation.SECRET]["Type"] == "AWS::SecretsManager::Secret"
    assert not set(variables) & set(shared.LOCAL_ONLY_VARIABLES)


def test_cfn_function_settings_come_from_the_stage(sam, settings):
    function = sam["Resources"][cloudformation.FUNCTION]["Properties"]
    assert function["Architectures"] == ["arm64"]
    assert function["MemorySize"] == settings.lambda_memory_size
    assert function["Timeout"] == settings.lambda_timeout
    assert sam["Resources"]["RestAPI"]["Properties"]["EndpointConfiguration"] == "REGIONAL"


def test_cfn_log_group_is_the_function_one_with_retention(sam, settings):
    log_group = sam["Resources"][cloudformation.LOG_GROUP]["Properties"]
    assert log_group["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/${" + cloudformation.FUNCTION + "}"
    }
    assert log_group["RetentionInDays"] == settings.log_retention_in_days


# --- gateway responses (both outputs) ------------------------------------------------------


def tf_swagger(tf: dict) -> dict:
    return json.loads(tf["locals"]["chalice_api_swagger"])


def test_gateway_responses_are_in_both_api_definitions(sam, tf):
    definition = sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    expected = shared.gateway_responses()
    assert definition[shared.GATEWAY_RESPONSES_KEY] == expected
    assert tf_swagger(tf)[shared.GATEWAY_RESPONSES_KEY] == expected


@pytest.mark.parametrize("response_type", sorted(shared.GATEWAY_ERRORS))
def test_gateway_response_renders_twilio_error_json(response_type):
    response = shared.gateway_responses()[response_type]
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
    response = shared.gateway_responses()["MISSING_AUTHENTICATION_TOKEN"]
    body = json.loads(response["responseTemplates"]["application/json"])
    assert (response["statusCode"], body["code"]) == (404, 20404)


# --- Terraform ----------------------------------------------------------------------------


def test_tf_pins_current_terraform_and_providers(outputs, tf):
    versions = (outputs.terraform / "versions.tf").read_text()
    assert 'required_version = ">= 1.5.0"' in versions
    assert 'version = ">= 5.0, < 7.0"' in versions
    assert "terraform" not in tf  # only versions.tf sets it: checkov cannot parse it in JSON
    assert set(tf["data"]) == {"aws_iam_policy_document"}  # no null_data_source
    assert "stage_name" not in tf["resource"]["aws_api_gateway_deployment"]["rest_api"]
    assert tf["resource"]["aws_api_gateway_stage"]["rest_api"]["stage_name"] == "api"
    assert set(tf["variable"]) == {"stage", "table_name", "region"}
    assert tf["provider"]["aws"]["region"] == "${var.region}"


def test_tf_every_reference_is_declared(tf):
    """What `terraform validate` would catch first: a reference to nothing."""
    text = json.dumps(tf)
    declared = {f"{kind}.{name}" for kind, named in tf["resource"].items() for name in named} | {
        f"data.{kind}.{name}" for kind, named in tf["data"].items() for name in named
    }
    for kind, name in re.findall(r"(?<![.\w])((?:aws|random)_[a-z_]+)\.([a-z_]+)\b", text):
        assert f"{kind}.{name}" in declared, f"{kind}.{name}"
    for kind, name in re.findall(r"\bdata\.([a-z_]+)\.([a-z_]+)\b", text):
        assert f"data.{kind}.{name}" in declared
    for name in re.findall(r"\blocal\.([a-z_]+)\b", text):
        assert name in tf["locals"], name
    for name in re.findall(r"\bvar\.([a-z_]+)\b", text):
        assert name in tf["variable"], name


def test_tf_table_is_the_one_storage_queries(tf):
    table = tf["resource"]["aws_dynamodb_table"]["messages"]
    expected = expected_table()
    assert table["billing_mode"] == expected["BillingMode"]
    keys = {k["KeyType"]: k["AttributeName"] for k in expected["KeySchema"]}
    assert (table["hash_key"], table["range_key"]) == (keys["HASH"], keys["RANGE"])
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
    assert set(indexes) == set(storage.schema.LIST_INDEXES)


def test_tf_table_is_protected(tf):
    table = tf["resource"]["aws_dynamodb_table"]["messages"]
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"] == {"enabled": True}
    assert table["deletion_protection_enabled"] is True
    assert table["lifecycle"] == {"prevent_destroy": True}
    assert table["ttl"] == {"attribute_name": storage.TTL_ATTRIBUTE, "enabled": True}
    assert table["name"] == "${local.table_name}"


def test_tf_grants_exactly_storage_actions_on_the_table(tf):
    statements = tf["data"]["aws_iam_policy_document"]["api_handler"]["statement"]
    (grant,) = [s for s in statements if any(a.startswith("dynamodb:") for a in s["actions"])]
    assert grant["effect"] == "Allow"
    assert set(grant["actions"]) == ACTIONS
    table_arn = "${aws_dynamodb_table.messages.arn}"
    assert grant["resources"] == [table_arn, f"{table_arn}/index/*"]
    for statement in statements:
        assert not any("*" in action for action in statement["actions"])
        assert "*" not in statement["resources"]
    policy = tf["resource"]["aws_iam_role_policy"]["api_handler"]
    assert policy["role"] == "${aws_iam_role.api_handler.id}"
    assert policy["policy"] == "${data.aws_iam_policy_document.api_handler.json}"
    assert set(tf["resource"]) >= {"aws_iam_role", "aws_iam_role_policy"}
    assert "aws_iam_role_policy_attachment" not in tf["resource"]


def test_tf_function_reads_table_and_secret_by_reference(tf, settings):
    function = tf["resource"]["aws_lambda_function"]["api_handler"]
    variables = function["environment"]["variables"]
    assert variables[shared.TABLE_VARIABLE] == "${aws_dynamodb_table.messages.name}"
    assert variables[shared.SECRET_VARIABLE] == "${random_password.page_token_secret.result}"
    assert function["role"] == "${aws_iam_role.api_handler.arn}"
    assert PLACEHOLDER_ROLE not in json.dumps(tf)
    assert function["architectures"] == ["arm64"]
    assert (function["memory_size"], function["timeout"]) == (
        settings.lambda_memory_size,
        settings.lambda_timeout,
    )
    log_group = tf["resource"]["aws_cloudwatch_log_group"]["api_handler"]
    assert log_group["retention_in_days"] == settings.log_retention_in_days
    assert log_group["name"] == "/aws/lambda/${local.function_name}"


# --- stages ---------------------------------------------------------------------------------


def test_deployable_stages_are_arm64_without_local_settings():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert set(config["stages"]) >= {"local", "dev", "prod"}
    for name, stage in config["stages"].items():
        assert not set(stage.get("environment_variables", {})) & set(shared.LOCAL_ONLY_VARIABLES)
        if name == "local":
            continue
        settings = package.stage_config(name)
        assert settings.autogen_policy is False
        assert settings.manage_iam_role is False
        assert settings.lambda_architecture == "arm64"
        assert settings.log_retention_in_days and settings.lambda_timeout < 29
    assert package.stage_config("prod").log_retention_in_days >= 365


def test_prod_template_names_the_prod_table():
    template = cloudformation.merge_template("prod")
    assert template["Parameters"]["TableName"]["Default"] == "herald-prod-messages"


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
