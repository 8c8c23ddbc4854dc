"""Per-account senders for End User Messaging: `set-sender` writes the account item's
`senders` map, and the carrier reads it through auth's per-container cache."""

import json

import pytest

import admin
from chalicelib import storage
from chalicelib.accounts import credentials
from chalicelib.carriers import eum_request
from chalicelib.storage import accounts

SERVICE = "MG" + "1" * 32
ARN = "arn:aws:sms-voice:us-east-1:111122223333:phone-number/phone-0123456789abcdef"


def run(capsys, *argv):
    code = admin.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_set_sender_makes_the_map_then_adds_to_it(aws):
    sid = admin.create_account()["account_sid"]
    assert "senders" not in accounts.get_account(sid)
    item = accounts.set_sender(sid, "+12065550152")
    assert item["senders"] == {"default": "+12065550152"}
    item = accounts.set_sender(sid, ARN, SERVICE)
    assert item["senders"] == {"default": "+12065550152", SERVICE: ARN}
    item = accounts.set_sender(sid, "pool-2")
    assert item["senders"] == {"default": "pool-2", SERVICE: ARN}
    # The account's credentials and other settings are untouched.
    assert item["token_hash"] == accounts.get_account(sid)["token_hash"]
    assert item["list_shards"] == accounts.get_account(sid)["list_shards"]


def test_set_sender_never_creates_an_account(aws):
    missing = "AC" + "0" * 32
    with pytest.raises(storage.Missing):
        accounts.set_sender(missing, "+12065550152")
    assert accounts.get_account(missing) is None


def test_a_new_account_token_keeps_the_senders(aws):
    created = admin.create_account()
    accounts.set_sender(created["account_sid"], "pool-1")
    admin.create_account(created["account_sid"], "f" * 32)  # replaces the credentials
    assert accounts.get_account(created["account_sid"])["senders"] == {"default": "pool-1"}


def test_the_admin_command(aws, capsys):
    sid = admin.create_account()["account_sid"]
    code, out, _ = run(capsys, "set-sender", sid, ARN, "--messaging-service", SERVICE)
    assert code == 0
    assert json.loads(out) == {"account_sid": sid, "senders": {SERVICE: ARN}}
    code, out, _ = run(capsys, "set-sender", sid, "+12065550152")
    assert json.loads(out)["senders"] == {SERVICE: ARN, "default": "+12065550152"}


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["AC" + "0" * 32, "+12065550152"], "no such account"),
        (["{sid}", "my number"], "origination identity"),
        (["{sid}", "pool-1", "--messaging-service", "MGnope"], "MessagingServiceSid"),
    ],
)
def test_the_admin_command_refuses(aws, capsys, argv, complaint):
    sid = admin.create_account()["account_sid"]
    code, out, err = run(capsys, "set-sender", *[a.format(sid=sid) for a in argv])
    assert code == 1 and out == "" and complaint in err


def test_the_carrier_reads_senders_through_the_cache(aws, cache_expires):
    sid = admin.create_account()["account_sid"]
    assert eum_request.account_senders(sid) == {}
    accounts.set_sender(sid, "pool-1")
    assert eum_request.account_senders(sid) == {}  # a container sees it once its cache expires
    cache_expires()
    assert eum_request.account_senders(sid) == {"default": "pool-1"}
    credentials.forget()
    assert eum_request.account_senders("AC" + "0" * 32) == {}
