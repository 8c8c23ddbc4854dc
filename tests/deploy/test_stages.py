"""The stages of .chalice/config.json and what packaging refuses: deployable stages on arm64
with no local-only setting, one carrier per stage, one registered-sender check, one HERALD_STAGE;
repackaging keeps what the user keeps beside the outputs."""

import json

import pytest

from deploy import package, shared
from deploy.alarms import metrics_stage
from deploy.cloudformation import stack
from tests.deploy.expected import CARRIERS, FUNCTIONS, ROOT, STAGE, TIMEOUTS


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
