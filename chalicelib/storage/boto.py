"""Making a boto3 client at a cold start, with the garbage collector out of the way.

A client is made once per Lambda container, on the first event that needs it, and most of
what it allocates (boto3 and botocore's modules, the service model) lives as long as the
container. A collection during that work walks all of it and frees nothing; after it, each
later collection would walk it again. So the collector is paused while the client is made,
and, on Lambda, what exists then is moved out of its reach (gc.freeze), as app.py does for
the imports (bench/cold_start.py --explain shows the collections a cold start makes).
Elsewhere (tests, `make run`) clients are made again and again, and freezing each time would
keep whatever garbage was waiting for a collection.
"""

import gc
import os
from collections.abc import Callable

# service -> what `new_client` returns instead of a boto3 client (`substitute`).
_substitutes: dict[str, Callable[[], object]] = {}


def short_retries(**settings) -> dict:
    """What DynamoDB, SQS and S3 clients are made with, plus `settings`: standard retries,
    three attempts in all, 2 s to connect. Each caller is a request or a queued job, which
    should answer or be retried sooner than botocore's defaults (60 s to connect) allow.
    A new dict each time: botocore rewrites the `retries` it is given."""
    retries = {"mode": "standard", "total_max_attempts": 3}
    return {"retries": retries, "connect_timeout": 2, **settings}


def substitute(service: str, factory: Callable[[], object] | None) -> None:
    """Make `new_client(service, ...)` return `factory()` from now on (None: boto3 again).

    The port behind which make run puts its in-memory AWS (devtools/memory_aws): an object
    with a boto3 client's methods, answers and ClientErrors, without botocore's work on
    every call. Callers cache their clients: reset them after a change."""
    if factory is None:
        _substitutes.pop(service, None)
    else:
        _substitutes[service] = factory


def new_client(service: str, settings: dict | None = None, **kwargs):
    """boto3.client(service, config=Config(**settings), **kwargs), or the substitute."""
    if service in _substitutes:
        return _substitutes[service]()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        import boto3
        from botocore.config import Config

        return boto3.client(service, config=Config(**(settings or {})), **kwargs)
    finally:
        if was_enabled:
            if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
                gc.freeze()
            gc.enable()
