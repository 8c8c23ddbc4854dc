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

log = logging.getLogger("herald.local")


def _error(code: str, message: str, status: int = 400) -> dict:
    return {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


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

    def reset(self) -> None:
        """Forget every table, stream record, queue and message."""
        self.dynamodb.reset()
        self.services["sqs"].reset()

    def answer(self, service: str, operation: str, kwargs: dict) -> tuple[str, dict]:
        """("ok", the answer) or ("error", the error response botocore would have parsed)."""
        from botocore.exceptions import ClientError

        method = None
        if not operation.startswith("_") and service in self.services:
            method = getattr(self.services[service], operation, None)
        if method is None:
            return "error", _error("UnknownOperationException", f"{service}.{operation}")
        from devtools.memory_aws import values

        try:
            with values.serialized():  # the caller pickles or JSON-encodes the answer
                return "ok", method(**kwargs)
        except ClientError as error:
            return "error", error.response
        except TypeError as error:  # a parameter the operation does not take
            return "error", _error("ValidationException", str(error))
        except Exception:  # a bug here: answered as AWS answers its own, not a dropped call
            log.error("in-memory %s.%s failed:\n%s", service, operation, traceback.format_exc())
            return "error", _error("InternalServerError", "internal error", 500)
