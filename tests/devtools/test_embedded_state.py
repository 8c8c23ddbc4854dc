"""Where the embedded AWS's state starts (devtools/services.py). A file of its own: the
other embedded AWS tests keep a server running for their whole module, which shares its
state with any started beside it."""

from devtools import services
from tests.devtools.aws import client, table


def tables(url: str) -> list[str]:
    return client(url, "dynamodb").list_tables()["TableNames"]


def test_an_embedded_aws_starts_empty_whatever_an_earlier_one_left():
    """moto keeps its state per process: the first embedded AWS a process starts begins
    empty, as a new moto server does, and one started beside it shares its state. Without
    it a live Herald served the table an earlier one left (a number registered to another
    account: 21422), depending on which test files had run before in the same process."""
    with services.embedded_aws() as url:
        table(client(url, "dynamodb"))
    with services.embedded_aws() as url:
        assert tables(url) == []
        shared = table(client(url, "dynamodb"))
        with services.embedded_aws() as beside:
            assert tables(beside) == [shared]
