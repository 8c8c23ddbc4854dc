"""The Account: an account's Sid and the settings requests need from its item."""

from dataclasses import dataclass

from chalicelib.runtime import clock
from chalicelib.storage import accounts


@dataclass
class Account:
    """The authenticated account, with the settings requests need from its item."""

    sid: str
    record: dict

    def list_shards_for_reading(self) -> int:
        return accounts.shards_for_reading(self.record)

    def list_shards_for_writing(self) -> int:
        return accounts.shards_for_writing(self.record, clock.now_ms())
