"""Accounts and their API keys: credentials stored as digests, and the list shard count.

These items are read on a cache miss of chalicelib.accounts.credentials only (once per
credential, Lambda container and cache period), so sharing the account's partition key costs
nothing at scale.
"""

from chalicelib.storage import client, marshal, schema


def put_account(account_sid: str, token_hash: str, created_ms: int, token_ciphertext: str) -> None:
    """Create an account, or replace its credentials; its other settings are kept.

    The token's digest authenticates; its KMS ciphertext (chalicelib.storage.tokens) lets
    the signing functions sign. Both are required: no account exists that cannot sign.
    """
    if not token_ciphertext:
        raise ValueError("an account needs its AuthToken's ciphertext to sign callbacks")
    values = {
        ":hash": token_hash,
        ":created": created_ms,
        ":shards": schema.DEFAULT_LIST_SHARDS,
        ":cipher": token_ciphertext,
    }
    client.call(
        "update_item",
        Key=schema.account_key(account_sid),
        UpdateExpression="SET token_hash = :hash, token_ciphertext = :cipher,"
        " created_ms = if_not_exists(created_ms, :created),"
        " list_shards = if_not_exists(list_shards, :shards)",
        ExpressionAttributeValues=marshal.to_attrs(values),
    )


def get_account(account_sid: str) -> dict | None:
    return client.get(schema.account_key(account_sid))


def set_list_shards(account_sid: str, shards: int, effective_ms: int, now_ms: int) -> dict:
    """Raise the account's list shard count to `shards`; the new account item.

    Lists read every shard up to the new count at once; writers keep placing new messages in
    the old count until `effective_ms`, by which time every cached copy of the account has
    seen the new count (the cache bound of chalicelib.accounts.credentials). So no list ever
    misses a message, and
    existing messages stay where they are: they are in shards the lists still read.
    Lowering the count is refused (Missing is raised for a missing account, ValueError for a
    lower count), because messages in the dropped shards would vanish from lists.
    """
    from botocore.exceptions import ClientError

    account = get_account(account_sid)
    if account is None:
        raise client.Missing(account_sid)
    current = account.get("list_shards", schema.DEFAULT_LIST_SHARDS)
    if shards < current:
        raise ValueError(f"the list shard count can only be raised (it is {current})")
    writing = shards_for_writing(account, now_ms)
    try:
        response = client.call(
            "update_item",
            Key=schema.account_key(account_sid),
            UpdateExpression="SET list_shards = :n, list_shards_previous = :w,"
            " list_shards_from_ms = :at",
            # Lost-update guard: the count this change was computed from is still there.
            ConditionExpression=(
                "list_shards = :current"
                if "list_shards" in account
                else "attribute_exists(pk) AND attribute_not_exists(list_shards)"
            ),
            ExpressionAttributeValues=marshal.to_attrs(
                {":n": shards, ":w": writing, ":at": effective_ms}
                | ({":current": current} if "list_shards" in account else {})
            ),
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if client.is_condition_failure(error):
            raise ValueError("the account changed meanwhile; try again") from error
        raise
    return marshal.from_attrs(response["Attributes"])


def set_sender(account_sid: str, identity: str, messaging_service_sid: str | None = None) -> dict:
    """Set who the account's texts come from on End User Messaging: its `senders` map's
    "default", or the entry for one Messaging Service; the new account item (Missing for
    a missing account). chalicelib.carriers.eum_request reads the map."""
    from botocore.exceptions import ClientError

    names = {"#senders": "senders", "#key": messaging_service_sid or "default"}
    # A map entry can only be set once the map exists: set the entry, or else the whole map.
    forms = (
        ("SET #senders.#key = :identity", "attribute_exists(#senders)", identity),
        ("SET #senders = :identity", "attribute_not_exists(#senders)", {names["#key"]: identity}),
    )
    for expression, condition, value in forms * 2:  # twice: another writer may race us
        try:
            response = client.call(
                "update_item",
                Key=schema.account_key(account_sid),
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                ExpressionAttributeNames={k: v for k, v in names.items() if k in expression},
                ExpressionAttributeValues={":identity": marshal.attr(value)},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if not client.is_condition_failure(error):
                raise
            if get_account(account_sid) is None:
                raise client.Missing(account_sid) from error
            continue
        return marshal.from_attrs(response["Attributes"])
    raise ValueError("the account changed meanwhile; try again")


def shards_for_reading(account: dict) -> int:
    return account.get("list_shards", schema.DEFAULT_LIST_SHARDS)


def shards_for_writing(account: dict, now_ms: int) -> int:
    if now_ms < account.get("list_shards_from_ms", 0):
        return account.get("list_shards_previous", schema.DEFAULT_LIST_SHARDS)
    return shards_for_reading(account)


def put_api_key(account_sid: str, key_sid: str, secret_hash: str, created_ms: int) -> None:
    item = {
        **{k: marshal.value(v) for k, v in schema.api_key_key(account_sid, key_sid).items()},
        "secret_hash": secret_hash,
        "created_ms": created_ms,
        "revoked": False,
    }
    client.call(
        "put_item", Item=marshal.to_attrs(item), ConditionExpression="attribute_not_exists(pk)"
    )


def revoke_api_key(account_sid: str, key_sid: str) -> None:
    from botocore.exceptions import ClientError

    try:
        client.call(
            "update_item",
            Key=schema.api_key_key(account_sid, key_sid),
            UpdateExpression="SET revoked = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )
    except ClientError as error:
        if client.is_condition_failure(error):
            raise client.Missing(key_sid) from error
        raise


def get_api_key(account_sid: str, key_sid: str) -> dict | None:
    return client.get(schema.api_key_key(account_sid, key_sid))
