"""Creating the table where it is missing (`make run`, the admin command, tests)."""

from chalicelib.storage import client, schema


def ensure_table() -> bool:
    """Create the table when it is missing; True when it was created now.

    Raises client.Unavailable naming the refused operation and the server's reason (a server
    without UpdateTimeToLive, a wrong endpoint): the admin command prints it on one line.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _ensure_table()
    except ClientError as error:
        raise client.Unavailable(str(error)) from error
    except BotoCoreError as error:
        raise client.Unavailable(f"{type(error).__name__}: {error}") from error


def _ensure_table() -> bool:
    from botocore.exceptions import ClientError

    dynamodb = client.client()
    try:
        dynamodb.describe_table(TableName=client.table())
        return False
    except ClientError as error:
        if client.error_code(error) != "ResourceNotFoundException":
            raise
    try:
        dynamodb.create_table(**schema.table_definition(client.table()))
    except ClientError as error:
        if client.error_code(error) != "ResourceInUseException":
            raise
        return False
    dynamodb.get_waiter("table_exists").wait(
        TableName=client.table(), WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    dynamodb.update_time_to_live(
        TableName=client.table(),
        TimeToLiveSpecification={"Enabled": True, "AttributeName": schema.TTL_ATTRIBUTE},
    )
    return True
