"""The in-memory services over HTTP, as AWS's JSON protocol: what every process other than
make run's HTTP child (the admin command, a test's boto3 client, the supervisor itself)
sends to the embedded AWS's endpoint for DynamoDB, DynamoDB Streams and SQS.

A request's X-Amz-Target names the service and operation (`DynamoDB_20120810.PutItem`);
its JSON body is the operation's parameters as botocore would pass them, but for binary
values, which JSON carries in base64. The answer is the same, and an error is the `__type`
and `message` botocore reads (SQS's code goes in x-amzn-query-error, as SQS sends it).
"""

import base64
import datetime
import json

TARGETS = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodbstreams",
    "AmazonSQS": "sqs",
}
ERROR_PREFIXES = {
    "dynamodb": "com.amazonaws.dynamodb.v20120810#",
    "dynamodbstreams": "com.amazonaws.dynamodb.v20120810#",
    "sqs": "com.amazonaws.sqs#",
}
# Members that JSON carries as base64 text: attribute values (B, BS) and SQS's
# message attributes (BinaryValue, BinaryListValues).
_BINARY = {"B", "BinaryValue"}
# moto's own "forget everything" (POST): the in-memory services forget theirs too.
RESET_PATH = "/moto-api/reset"
_BINARY_LISTS = {"BS", "BinaryListValues"}


def _from_json(value):
    if isinstance(value, dict):
        return {
            key: (
                base64.b64decode(item)
                if key in _BINARY and isinstance(item, str)
                else [base64.b64decode(v) for v in item]
                if key in _BINARY_LISTS and isinstance(item, list)
                else _from_json(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_from_json(item) for item in value]
    return value


def _to_json(value):
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON")


def operation_of(target: str) -> tuple[str, str] | None:
    """(service, botocore's snake_case operation) for an X-Amz-Target, or None."""
    prefix, _, action = target.partition(".")
    service = TARGETS.get(prefix)
    if service is None or not action:
        return None
    from botocore import xform_name

    return service, xform_name(action)


class JsonProtocol:
    """WSGI middleware: the in-memory services' requests to `memory` (an aws.MemoryAWS, or
    None while it is being made), everything else to `app` (moto)."""

    def __init__(self, app, memory=None):
        self.app, self.memory = app, memory

    def __call__(self, environ, start_response):
        resetting = (
            environ.get("PATH_INFO") == RESET_PATH and environ.get("REQUEST_METHOD") == "POST"
        )
        if resetting and self.memory is not None:
            self.memory.reset()  # and moto's state, as it answers
        called = operation_of(environ.get("HTTP_X_AMZ_TARGET", ""))
        if called is None or self.memory is None:
            return self.app(environ, start_response)
        service, operation = called
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read()
        try:
            kwargs = _from_json(json.loads(raw or b"{}"))
        except ValueError:
            kwargs = None
        if isinstance(kwargs, dict):
            outcome, answer = self.memory.answer(service, operation, kwargs)
        else:
            outcome = "error"
            answer = {"Error": {"Code": "SerializationException", "Message": "not JSON"}}
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", "memory")]
        if outcome == "ok":
            status = 200
            answer = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
            body = answer
        else:
            error = answer.get("Error", {})
            status = answer.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400
            body = {k: v for k, v in answer.items() if k not in ("Error", "ResponseMetadata")}
            # botocore picks the exception class by the `__type`; for SQS that is the error's
            # shape (QueueNameExists), and the code it shows comes from x-amzn-query-error.
            shape = error.get("QueryErrorCode") or error.get("Code", "")
            body.update(__type=ERROR_PREFIXES[service] + shape)
            body["message"] = error.get("Message", "")
            if service == "sqs":
                kind = error.get("Type", "Sender")
                headers.append(("x-amzn-query-error", f"{error.get('Code', '')};{kind}"))
        data = json.dumps(body, default=_to_json, separators=(",", ":")).encode()
        headers.append(("Content-Length", str(len(data))))
        start_response(f"{status} {'OK' if status == 200 else 'Error'}", headers)
        return [data]
