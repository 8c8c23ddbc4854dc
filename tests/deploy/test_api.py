"""API Gateway: regional, Twilio's error JSON for what it answers itself (both API
definitions), and the outputs a deploy hands on."""

import json

import pytest

from chalicelib.twilio import errors
from deploy import gateway_errors

OUTPUTS = {
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
}


def test_the_api_is_regional(rendered):
    assert rendered.endpoint_types() == ["REGIONAL"]


def test_the_outputs(rendered):
    outputs = rendered.outputs()
    assert set(outputs) >= OUTPUTS
    assert rendered.value(outputs["KmsKeyId"]) == "key"
    assert rendered.value(outputs["CarrierEventsTopicArn"]) == "carrier_events_topic"
    assert rendered.value(outputs["SendQueueUrl"]) == "queue/send"


def test_gateway_responses_are_in_the_api_definition(rendered):
    expected = gateway_errors.gateway_responses()
    assert rendered.api_definition()[gateway_errors.GATEWAY_RESPONSES_KEY] == expected


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
