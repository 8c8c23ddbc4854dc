"""The in-memory services' refusals, raised as botocore raises AWS's: a ClientError whose
response is what botocore parses from the service's error (its code and message, and the
fields DynamoDB adds to some: the refused item, a transaction's cancellation reasons)."""

from botocore.exceptions import ClientError

NOT_FOUND = "Requested resource not found"
CONDITION_FAILED = "The conditional request failed"


def client_error(code: str, text: str, operation: str, status: int = 400, **fields):
    response = {
        "Error": {"Code": code, "Message": text},
        "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 0},
        **fields,
    }
    return ClientError(response, operation)


def validation(operation: str, message: str) -> ClientError:
    return client_error("ValidationException", message, operation)


def not_found(operation: str, text: str = NOT_FOUND) -> ClientError:
    return client_error("ResourceNotFoundException", text, operation, message=text)


def condition_failed(operation: str, item: dict | None) -> ClientError:
    """A refused conditional write; `item` (a copy) when the caller asked for it."""
    fields = {"message": CONDITION_FAILED}
    if item is not None:
        fields["Item"] = item
    return client_error("ConditionalCheckFailedException", CONDITION_FAILED, operation, **fields)


def cancelled(reasons: list[dict]) -> ClientError:
    codes = ", ".join(reason["Code"] for reason in reasons)
    message = (
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]"
    )
    return client_error(
        "TransactionCanceledException", message, "TransactWriteItems",
        Message=message, CancellationReasons=reasons,
    )  # fmt: skip
