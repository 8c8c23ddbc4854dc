"""The messages table: the one storage queries (storage.table_definition), and protected."""

from chalicelib import storage
from tests.deploy.expected import STAGE, expected_table


def test_the_table_is_the_one_storage_queries(rendered):
    assert rendered.table_definition() == expected_table()
    assert rendered.table_name() == f"herald-{STAGE}-messages"


def test_the_table_is_protected(rendered):
    assert rendered.table_protection() == {
        "kept_when_removed": True,
        "point_in_time_recovery": True,
        "encrypted": True,
        "deletion_protection": True,
        "ttl": {"AttributeName": storage.TTL_ATTRIBUTE, "Enabled": True},
    }


def test_the_table_has_the_indexes_lists_and_the_scheduler_query():
    indexes = {i["IndexName"]: i for i in expected_table()["GlobalSecondaryIndexes"]}
    assert set(indexes) == {*storage.schema.LIST_INDEXES, storage.schema.INDEX_DUE}
    assert indexes[storage.schema.INDEX_DUE]["Projection"]["ProjectionType"] == "KEYS_ONLY"
