"""The in-memory AWS that make run serves: DynamoDB, its stream and SQS, each an object
with a boto3 client's methods (devtools/memory_aws/dynamodb.py, streams, sqs.py), held by
the process that holds the embedded AWS (devtools/services.embedded_aws) and reached

- from that process's botocore clients and from other processes over HTTP, as AWS's JSON
  protocol (devtools/memory_aws/wire.py), like every other service of the embedded AWS;
- from make run's HTTP child, which runs Herald and its workers, through a door without
  botocore (devtools/memory_aws/door.py).

KMS, S3, SNS and the rest stay moto's, behind the same endpoint.
"""

import logging
import traceback

from botocore.exceptions import ClientError

from devtools.memory_aws import values

log = logging.getLogger("herald.local")


def _error(code: str, message: str, status: int = 400) -> dict:
    return {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


def operations(service: str) -> frozenset:
    """The operations AWS's `service` has, by botocore's snake_case names: all that is
    answered. The services' own helpers (reset, expire_items, their tables) are not."""
    import botocore.session
    from botocore import xform_name

    # Read once per embedded AWS (about 25 ms for the three), while the HTTP child loads.
    model = botocore.session.get_session().get_service_model(service)
    return frozenset(xform_name(name) for name in model.operation_names)


class MemoryAWS:
    """The services, by the name botocore gives them, for the embedded AWS at `endpoint_url`."""

    def __init__(self, endpoint_url: str, region: str = "us-east-1"):
        from devtools.memory_aws.dynamodb import MemoryDynamoDB
        from devtools.memory_aws.sqs import MemorySQS
        from devtools.memory_aws.streams import MemoryStreams

        self.dynamodb = MemoryDynamoDB(region=region)
        self.services = {
            "dynamodb": self.dynamodb,
            "dynamodbstreams": MemoryStreams(self.dynamodb),
            "sqs": MemorySQS(endpoint_url, region=region),
        }
        self.operations = {service: operations(service) for service in self.services}

    def reset(self) -> None:
        """Forget every table, stream record, queue and message."""
        self.dynamodb.reset()
        self.services["sqs"].reset()

    def answer(self, service: str, operation: str, kwargs: dict) -> tuple[str, dict]:
        """("ok", the answer) or ("error", the error response botocore would have parsed)."""
        method = None
        if operation in self.operations.get(service, ()):
            method = getattr(self.services[service], operation, None)
        if method is None:
            return "error", _error("UnknownOperationException", f"{service}.{operation}")
        try:
            with values.serialized():  # the caller pickles or JSON-encodes the answer
                return "ok", method(**kwargs)
        except ClientError as error:
            return "error", error.response
        except TypeError as error:
            if error.__traceback__.tb_next is None:  # raised by the call: a parameter it lacks
                return "error", _error("ValidationException", str(error))
            return self._failed(service, operation)
        except Exception:
            return self._failed(service, operation)

    @staticmethod
    def _failed(service: str, operation: str) -> tuple[str, dict]:
        """A bug here: answered as AWS answers its own (500), not as a dropped call."""
        log.error("in-memory %s.%s failed:\n%s", service, operation, traceback.format_exc())
        return "error", _error("InternalServerError", "internal error", 500)
