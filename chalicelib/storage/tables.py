"""The table: its one definition (keys and indexes, from schema), and creating it where it
is missing (`make run`, the admin command, tests)."""

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
        dynamodb.create_table(**table_definition(client.table()))
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


def table_definition(table_name: str) -> dict:
    """The CreateTable request: the one description of keys and indexes the code relies on."""
    attributes = {
        "pk", "sk", schema.LIST_SORT_KEY, *schema.LIST_INDEXES.values(), *schema.DUE_ATTRIBUTES
    }  # fmt: skip
    list_indexes = [
        {
            "IndexName": index,
            "KeySchema": [
                {"AttributeName": hash_key, "KeyType": "HASH"},
                {"AttributeName": schema.LIST_SORT_KEY, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": schema.LIST_PROJECTED},
        }
        for index, hash_key in schema.LIST_INDEXES.items()
    ]
    due_index = {
        "IndexName": schema.INDEX_DUE,
        "KeySchema": [
            {"AttributeName": "due_pk", "KeyType": "HASH"},
            {"AttributeName": "due_at", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in sorted(attributes)
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [*list_indexes, due_index],
        # Delivery starts from the table's own change stream (chalicelib.delivery.dispatch):
        # a message that is stored is a message that will be handed over.
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }
