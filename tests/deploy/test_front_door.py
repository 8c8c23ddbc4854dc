"""`make package FRONT_DOOR=http-api`: an API Gateway HTTP API in the REST API's place, in
both templates (deploy/front_door.py), linted and checked as the default ones are; and the
handler it names serving the API (tests/web/test_front_door.py has its answers)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import front_door, package
from tests.deploy.conftest import require
from tests.deploy.expected import ROOT, STAGE, WHEELHOUSE


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> package.Outputs:
    """This module's outputs (conftest's sam, tf and checkov_reports read them)."""
    require(WHEELHOUSE, "wheelhouse")
    build = tmp_path_factory.mktemp("build-http-api")
    return package.package(STAGE, build, WHEELHOUSE, front_door=front_door.HTTP_API)


def test_cfn_has_an_http_api_to_the_api_function_and_no_rest_api(sam):
    resources = sam["Resources"]
    types = {resource["Type"] for resource in resources.values()}
    assert "AWS::Serverless::Api" not in types and "AWS::ApiGateway::RestApi" not in types
    api = resources[front_door.CFN_HTTP_API]
    assert api["Type"] == "AWS::ApiGatewayV2::Api"
    assert api["Properties"]["ProtocolType"] == "HTTP"
    assert api["Properties"]["Target"] == {"Fn::GetAtt": ["APIHandler", "Arn"]}
    permission = resources[front_door.CFN_PERMISSION]["Properties"]
    assert (permission["Principal"], permission["Action"]) == (
        "apigateway.amazonaws.com",
        "lambda:InvokeFunction",
    )
    assert permission["SourceArn"]["Fn::Sub"].endswith(":${HttpApi}/*")
    assert resources["APIHandler"]["Properties"]["Handler"] == "app.front_door"
    invoke = [
        r for r in resources.values()
        if r["Type"] == "AWS::Lambda::Permission"
        and r["Properties"].get("Principal") == "apigateway.amazonaws.com"
    ]  # fmt: skip
    assert len(invoke) == 1  # the REST API's is gone with it
    assert sam["Outputs"]["EndpointURL"] == {"Value": {"Fn::Sub": "${HttpApi.ApiEndpoint}/"}}
    assert "RestAPIId" not in sam["Outputs"]


def test_tf_has_an_http_api_to_the_api_function_and_no_rest_api(tf):
    resources = tf["resource"]
    assert not {k for k in resources if k.startswith("aws_api_gateway_")}
    api = resources["aws_apigatewayv2_api"]["http_api"]
    assert (api["protocol_type"], api["target"]) == (
        "HTTP",
        "${aws_lambda_function.api_handler.arn}",
    )
    permissions = resources["aws_lambda_permission"]
    assert "rest_api_invoke" not in permissions
    permission = permissions["http_api_invoke"]
    assert permission["source_arn"] == "${aws_apigatewayv2_api.http_api.execution_arn}/*"
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert resources["aws_lambda_function"]["api_handler"]["handler"] == "app.front_door"
    assert tf["output"]["EndpointURL"] == {
        "value": "${aws_apigatewayv2_api.http_api.api_endpoint}/"
    }
    assert "chalice_api_swagger" not in json.dumps(tf)


def test_cfn_lint_reports_nothing(outputs):
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), str(outputs.cloudformation / "sam.json")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("framework", ["cloudformation", "terraform_json"])
def test_checkov_passes_every_check_not_skipped(checkov_reports, framework):
    report = checkov_reports[framework]
    failed = [f"{c['check_id']} {c['resource']}" for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0


def test_the_handler_it_names_registers_the_routes_and_serves_an_http_api_event():
    """Lambda names the handler in _HANDLER: app.front_door must get the API's routes."""
    script = (
        "import json, app\n"
        "from tests.apigateway import LambdaContext, url_event\n"
        "answer = app.front_door(url_event('GET', '/openapi.json'), LambdaContext())\n"
        "print(json.dumps([len(app.app.routes), answer['statusCode']]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("_HANDLER")}
    env["_HANDLER"] = front_door.HANDLER
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    routes, status = json.loads(done.stdout.splitlines()[-1])
    assert routes > 10 and status == 200


def test_an_unknown_front_door_is_refused():
    with pytest.raises(SystemExit):
        front_door.checked("cloudfront")
