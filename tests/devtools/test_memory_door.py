"""make run's child reaching the in-memory services through their door (devtools/memory_aws/
door.py), and the services' answers as AWS's JSON protocol (wire.py)."""

import io
import json
import threading

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import storage
from chalicelib.storage import boto
from chalicelib.storage import client as storage_client
from devtools.memory_aws import aws, door, wire


class Echo:
    """A service whose calls say what they were given."""

    def __init__(self):
        self.threads = set()

    def echo(self, **kwargs):
        self.threads.add(threading.get_ident())
        return {"Given": kwargs}

    def refuse(self, **_):
        response = {
            "Error": {"Code": "ConditionalCheckFailedException", "Message": "no"},
            "Item": {"pk": {"S": "x"}},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        raise ClientError(response, "Refuse")

    def break_down(self, **_):
        raise RuntimeError("a bug")

    def trip(self, **_):
        return len(None)  # a bug that raises TypeError inside the operation

    def helper(self, **_):
        return {"Not": "an operation"}


class FakeMemory(aws.MemoryAWS):
    def __init__(self):
        self.echo = Echo()
        self.services = {"dynamodb": self.echo}
        self.operations = {"dynamodb": frozenset({"echo", "refuse", "break_down", "trip"})}


@pytest.fixture
def opened(tmp_path):
    memory = FakeMemory()
    served = door.MemoryDoor(memory, str(tmp_path / "memory"))
    connections = door.Connections(served.path)
    yield memory, served, connections
    connections.close()
    served.close()


def test_a_call_through_the_door_answers_as_the_service_does(opened):
    _, _, connections = opened
    client = door.RemoteClient(connections, "dynamodb")
    value = {"pk": {"S": "a"}, "blob": {"B": b"\x00\xff"}}
    assert client.echo(Item=value) == {"Given": {"Item": value}}


def test_a_refusal_is_the_client_error_botocore_would_raise(opened):
    _, _, connections = opened
    with pytest.raises(ClientError) as raised:
        door.RemoteClient(connections, "dynamodb").refuse()
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert raised.value.response["Item"] == {"pk": {"S": "x"}}
    assert raised.value.operation_name == "refuse"


def test_unknown_operations_and_services_bugs_are_errors_not_dropped_calls(opened):
    _, _, connections = opened
    for service, operation, code in (
        ("dynamodb", "no_such_thing", "UnknownOperationException"),
        ("s3", "echo", "UnknownOperationException"),
        ("dynamodb", "_private", "UnknownOperationException"),
        ("dynamodb", "helper", "UnknownOperationException"),
        ("dynamodb", "break_down", "InternalServerError"),
        ("dynamodb", "trip", "InternalServerError"),
    ):
        with pytest.raises(ClientError) as raised:
            connections.call(service, operation, {})
        assert raised.value.response["Error"]["Code"] == code


def test_calls_in_flight_at_once_each_get_their_own_answer(opened):
    memory, _, connections = opened
    client = door.RemoteClient(connections, "dynamodb")
    answers = {}

    def ask(n):
        answers[n] = [client.echo(N=n * 100 + k)["Given"]["N"] for k in range(50)]

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {n: [n * 100 + k for k in range(50)] for n in range(8)}
    assert len(memory.echo.threads) > 1  # a connection each, served side by side


def test_a_closed_door_is_unavailable_to_storage(opened, monkeypatch):
    _, served, connections = opened
    served.close()
    with pytest.raises(BotoCoreError):
        door.RemoteClient(connections, "dynamodb").echo()
    monkeypatch.setattr(
        storage_client, "client", lambda: door.RemoteClient(connections, "dynamodb")
    )
    with pytest.raises(storage.Unavailable):
        storage_client.get({"pk": {"S": "a"}, "sk": {"S": "b"}})


def test_the_child_takes_its_clients_from_the_door_the_environment_names(opened):
    _, served, _ = opened
    assert door.enter_from_environment({}) is None
    assert boto.new_client("dynamodb", None, region_name="us-east-1").__class__.__name__ != (
        "RemoteClient"
    )
    connections = door.enter_from_environment({door.DOOR_VARIABLE: served.path})
    try:
        for service in door.SERVICES:
            assert isinstance(boto.new_client(service, None), door.RemoteClient)
        assert boto.new_client("dynamodb").echo(A=1) == {"Given": {"A": 1}}
        assert not isinstance(
            boto.new_client("kms", None, region_name="us-east-1"), door.RemoteClient
        )
    finally:
        for service in door.SERVICES:
            boto.substitute(service, None)
        connections.close()
    assert not isinstance(boto.new_client("sqs", None, region_name="us-east-1"), door.RemoteClient)


def _wsgi(app, target: str, body: bytes):
    started = []
    environ = {
        "HTTP_X_AMZ_TARGET": target,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    answer = b"".join(app(environ, lambda status, headers: started.extend([status, headers])))
    return started[0], dict(started[1]), json.loads(answer)


def test_the_json_protocol_carries_binary_values_in_base64_both_ways():
    memory = FakeMemory()
    app = wire.JsonProtocol(lambda environ, start: pytest.fail("not moto's"), memory)
    status, _, answer = _wsgi(
        app, "DynamoDB_20120810.Echo", b'{"Item": {"b": {"B": "AP8="}, "bs": {"BS": ["AA=="]}}}'
    )
    assert status.startswith("200")
    assert answer == {"Given": {"Item": {"b": {"B": "AP8="}, "bs": {"BS": ["AA=="]}}}}
    assert memory.echo.threads  # it was the service's


def test_the_json_protocol_error_is_what_botocore_reads():
    app = wire.JsonProtocol(lambda environ, start: pytest.fail("not moto's"), FakeMemory())
    status, headers, answer = _wsgi(app, "DynamoDB_20120810.Refuse", b"{}")
    assert status.startswith("400")
    assert answer == {
        "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        "message": "no",
        "Item": {"pk": {"S": "x"}},
    }
    assert "x-amzn-query-error" not in headers


def test_other_services_go_to_moto():
    seen = []

    def moto(environ, start_response):
        seen.append(environ["HTTP_X_AMZ_TARGET"])
        start_response("200 OK", [])
        return [b"{}"]

    app = wire.JsonProtocol(moto, FakeMemory())
    _wsgi(app, "TrentService.Encrypt", b"{}")
    assert seen == ["TrentService.Encrypt"]
    assert wire.operation_of("AmazonSQS.ReceiveMessage") == ("sqs", "receive_message")
    assert wire.operation_of("DynamoDBStreams_20120810.GetRecords") == (
        "dynamodbstreams",
        "get_records",
    )


def test_over_http_the_in_memory_services_raise_botocores_own_exceptions():
    """What the admin command and the supervisor's own clients meet: the same exception
    classes and codes as from SQS and DynamoDB (local_aws.provision catches QueueNameExists
    when a queue is there with other attributes)."""
    import boto3

    from devtools import services

    with services.embedded_aws(memory=True) as url:
        sqs = boto3.client("sqs", endpoint_url=url, region_name="us-east-1")
        sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "30"})
        with pytest.raises(sqs.exceptions.QueueNameExists):
            sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "31"})
        with pytest.raises(sqs.exceptions.QueueDoesNotExist) as raised:
            sqs.get_queue_url(QueueName="nowhere")
        assert raised.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
        dynamodb = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1")
        with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):
            dynamodb.get_item(TableName="none", Key={"pk": {"S": "a"}})


def test_answers_to_be_serialized_are_not_copied_first_and_others_still_are():
    from chalicelib.storage.tables import table_definition

    memory = aws.MemoryAWS("http://127.0.0.1:1")
    dynamodb = memory.services["dynamodb"]
    dynamodb.create_table(**table_definition("t"))
    key = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    dynamodb.put_item(TableName="t", Item={**key, "l": {"L": [{"S": "x"}]}})
    ask = {"TableName": "t", "Key": key}
    first, second = (memory.answer("dynamodb", "get_item", ask)[1]["Item"] for _ in range(2))
    assert first == second and first["l"] is second["l"]  # the stored value, pickled next
    direct = dynamodb.get_item(**ask)["Item"]
    direct["l"]["L"].append({"S": "changed by a caller"})
    assert dynamodb.get_item(**ask)["Item"] == first  # a direct caller's is its own copy


def test_only_the_services_operations_are_answered_not_their_helpers():
    """`reset` (or any other method of the services that is no AWS operation) through the
    door or over HTTP would have emptied make run's tables."""
    from chalicelib.storage.tables import table_definition

    memory = aws.MemoryAWS("http://127.0.0.1:1")
    memory.services["dynamodb"].create_table(**table_definition("t"))
    for operation in ("reset", "expire_items", "tables", "get_waiter", "table"):
        outcome, answer = memory.answer("dynamodb", operation, {})
        assert (outcome, answer["Error"]["Code"]) == ("error", "UnknownOperationException")
    assert memory.answer("dynamodb", "list_tables", {}) == ("ok", {"TableNames": ["t"]})
    outcome, answer = memory.answer("dynamodb", "list_tables", {"NoSuchParameter": 1})
    assert (outcome, answer["Error"]["Code"]) == ("error", "ValidationException")


def test_moto_s_reset_resets_the_in_memory_services_on_a_post_only():
    resets = []

    class Resettable(FakeMemory):
        def reset(self):
            resets.append(1)

    def moto(environ, start_response):
        start_response("200 OK", [])
        return [b""]

    app = wire.JsonProtocol(moto, Resettable())
    for method in ("GET", "POST"):
        environ = {
            "PATH_INFO": wire.RESET_PATH,
            "REQUEST_METHOD": method,
            "wsgi.input": io.BytesIO(),
        }
        b"".join(app(environ, lambda *_: None))
    assert resets == [1]
