"""The private S3 bucket End User Messaging sends MMS media from (HERALD_MEDIA_BUCKET).

Objects are keyed by account, message and media (`AC…/SM…/ME…`), encrypted by the bucket's
default encryption, never public, and expired by the bucket's lifecycle rule after the
carrier has sent them. The bucket must be in the account and region of the origination
identity, and the role that sends must be able to read it (the deploy templates see to both).
"""

import functools

from chalicelib.runtime import config
from chalicelib.storage import boto


class Unconfigured(Exception):
    """This stage has no media bucket."""


@functools.cache
def _client():
    return boto.new_client("s3", boto.short_retries(), region_name=config.load().region)


def reset() -> None:
    _client.cache_clear()


def put(key: str, data: bytes, content_type: str) -> str:
    """Store one media file; its S3 URI (what SendMediaMessage takes)."""
    bucket = config.delivery().media_bucket
    if not bucket:
        raise Unconfigured("HERALD_MEDIA_BUCKET")
    _client().put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
    return f"s3://{bucket}/{key}"
