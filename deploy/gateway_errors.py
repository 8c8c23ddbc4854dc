"""The errors API Gateway answers itself (no function is reached), written as Twilio's error
JSON like every answer Herald gives: the `x-amazon-apigateway-gateway-responses` extension
both templates put into the API definition (docs/errors.md)."""

import json

from chalicelib.twilio import codes, errors

_MESSAGE_FROM_GATEWAY = "$context.error.messageString"  # API Gateway's text, JSON-quoted
_NOT_FOUND = json.dumps("The requested resource was not found")

# Response type -> (HTTP status, Twilio code, message). These are the types a request can
# meet on Herald's API: it has no authorizers, API keys or request validators. The path is
# left out of the 404 message because gateway templates cannot JSON-escape it.
GATEWAY_ERRORS = {
    # A path or method no route declares (app.py's catch-alls stop at nine segments and
    # take no HEAD or OPTIONS): API Gateway's 403 "Missing Authentication Token",
    # answered the way Herald answers an unknown path.
    "MISSING_AUTHENTICATION_TOKEN": (404, codes.NOT_FOUND, _NOT_FOUND),
    "RESOURCE_NOT_FOUND": (404, codes.NOT_FOUND, _NOT_FOUND),
    "ACCESS_DENIED": (403, codes.FORBIDDEN, _MESSAGE_FROM_GATEWAY),
    "WAF_FILTERED": (403, codes.FORBIDDEN, _MESSAGE_FROM_GATEWAY),
    "REQUEST_TOO_LARGE": (413, codes.INVALID_PARAMETER, _MESSAGE_FROM_GATEWAY),
    "THROTTLED": (429, codes.TOO_MANY_REQUESTS, json.dumps("Too Many Requests")),
    "QUOTA_EXCEEDED": (429, codes.TOO_MANY_REQUESTS, json.dumps("Too Many Requests")),
    "INTEGRATION_FAILURE": (504, codes.INTERNAL_ERROR, _MESSAGE_FROM_GATEWAY),
    "INTEGRATION_TIMEOUT": (504, codes.INTERNAL_ERROR, _MESSAGE_FROM_GATEWAY),
    "DEFAULT_4XX": (400, codes.INVALID_PARAMETER, _MESSAGE_FROM_GATEWAY),
    # Includes a function that crashed or timed out (API Gateway's "Internal server error").
    "DEFAULT_5XX": (500, codes.INTERNAL_ERROR, _MESSAGE_FROM_GATEWAY),
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
