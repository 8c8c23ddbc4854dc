"""Settings read from the environment, once per process.

The same names serve the Lambda (set by the deploy templates), `make run` and the admin CLI,
so all three always talk to the same table.
"""

import os
from dataclasses import dataclass

DEFAULT_TABLE = "herald-messages"
# Used only when HERALD_PAGE_TOKEN_SECRET is unset (local runs). Page tokens are always
# scoped to the caller's own account partition, so a known key lets a user forge a cursor
# into their own data at most; deployed stages set a real secret all the same.
_DEV_TOKEN_SECRET = "herald-local-development-page-token-secret"


@dataclass(frozen=True)
class Settings:
    table_name: str
    endpoint_url: str | None
    region: str
    page_token_secret: bytes
    # For DynamoDB implementations that ignore ReturnValuesOnConditionCheckFailure (dynalite):
    # a refused write is read back to tell "missing" from "wrong state".
    read_back_refused_writes: bool = False


def load() -> Settings:
    env = os.environ
    endpoint = env.get("DYNAMODB_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL_DYNAMODB") or None
    return Settings(
        table_name=env.get("HERALD_TABLE_NAME", DEFAULT_TABLE),
        endpoint_url=endpoint,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        page_token_secret=env.get("HERALD_PAGE_TOKEN_SECRET", _DEV_TOKEN_SECRET).encode(),
        read_back_refused_writes=env.get("HERALD_READ_BACK_REFUSED_WRITES") == "1",
    )
