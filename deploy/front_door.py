"""The API's front door (`make package FRONT_DOOR=…`, docs/deploy.md "Front door"): the REST
API Chalice writes (the default), or an API Gateway HTTP API in its place.

An HTTP API costs $1.00 a million requests where the REST API costs $3.50 (bench/cost.py:
2.01 requests a message, 7.04 of a message's dollars per million). Its `$default` route
sends every request to the API function with payload format 2.0, whose handler
(`app.front_door`, chalicelib/web/front_door.py) routes it as the REST API would and gives
the same answers; docs/deploy.md says what an HTTP API does not do that the REST API did
(its own errors in Twilio's JSON, WAF, per-stage throttling).

Both template writers apply it to what Chalice wrote: the REST API, its deployment and stage,
and its invoke permission are removed; the HTTP API (quick create: a `$default` route and an
auto-deployed `$default` stage, integrated with the API function) and its invoke permission
are added; the API function's handler becomes `app.front_door`; `EndpointURL` names the
HTTP API's endpoint.
"""

REST_API, HTTP_API = "rest-api", "http-api"
FRONT_DOORS = (REST_API, HTTP_API)
HANDLER = "app.front_door"  # app.py: serves payload 2.0 events as the REST API's


def checked(front_door: str) -> str:
    if front_door not in FRONT_DOORS:
        raise SystemExit(
            f"error: FRONT_DOOR is one of {', '.join(FRONT_DOORS)}, not {front_door!r}"
        )
    return front_door


# --- CloudFormation -------------------------------------------------------------------------

CFN_HTTP_API = "HttpApi"
CFN_PERMISSION = "HttpApiInvokePermission"


def cloudformation(template: dict, front_door: str) -> None:
    """Put the HTTP API in the REST API's place in a converted SAM template."""
    if front_door == REST_API:
        return
    resources, outputs = template["Resources"], template["Outputs"]
    for logical_id in ("RestAPI", "APIHandlerInvokePermission"):
        del resources[logical_id]
    outputs.pop("RestAPIId", None)
    resources["APIHandler"]["Properties"]["Handler"] = HANDLER
    resources[CFN_HTTP_API] = {
        "Type": "AWS::ApiGatewayV2::Api",
        "Properties": {
            "Name": {"Fn::Sub": "${AWS::StackName}"},
            "Description": "Herald's API (every request to the API function, payload 2.0)",
            "ProtocolType": "HTTP",
            # Quick create: a $default route integrated with the function, and an
            # auto-deployed $default stage.
            "Target": {"Fn::GetAtt": ["APIHandler", "Arn"]},
        },
    }
    resources[CFN_PERMISSION] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "FunctionName": {"Ref": "APIHandler"},
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                "${AWS::AccountId}:${" + CFN_HTTP_API + "}/*"
            },
        },
    }
    outputs["HttpApiId"] = {"Value": {"Ref": CFN_HTTP_API}}
    outputs["EndpointURL"] = {"Value": {"Fn::Sub": "${" + CFN_HTTP_API + ".ApiEndpoint}/"}}


# --- Terraform ------------------------------------------------------------------------------

TF_HTTP_API = "aws_apigatewayv2_api.http_api"
TF_PERMISSION = "aws_lambda_permission.http_api_invoke"


def terraform(configuration: dict, front_door: str) -> None:
    """Put the HTTP API in the REST API's place in a converted Terraform configuration."""
    if front_door == REST_API:
        return
    resources, outputs = configuration["resource"], configuration["output"]
    for kind in ("aws_api_gateway_rest_api", "aws_api_gateway_deployment", "aws_api_gateway_stage"):
        resources.pop(kind, None)
    resources["aws_lambda_permission"].pop("rest_api_invoke")
    configuration.get("locals", {}).pop("chalice_api_swagger", None)
    outputs.pop("RestAPIId", None)
    resources["aws_lambda_function"]["api_handler"]["handler"] = HANDLER
    kind, name = TF_HTTP_API.split(".")
    resources.setdefault(kind, {})[name] = {
        "name": "herald-${var.stage}",
        "description": "Herald's API (every request to the API function, payload 2.0)",
        "protocol_type": "HTTP",
        "target": "${aws_lambda_function.api_handler.arn}",
    }
    kind, name = TF_PERMISSION.split(".")
    resources[kind][name] = {
        "function_name": "${aws_lambda_function.api_handler.arn}",
        "action": "lambda:InvokeFunction",
        "principal": "apigateway.amazonaws.com",
        "source_arn": "${" + TF_HTTP_API + ".execution_arn}/*",
    }
    outputs["HttpApiId"] = {"value": "${" + TF_HTTP_API + ".id}"}
    outputs["EndpointURL"] = {"value": "${" + TF_HTTP_API + ".api_endpoint}/"}
