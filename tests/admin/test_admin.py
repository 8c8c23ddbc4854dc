"""The admin command: credentials printed once, stored only as hashes, usable at once."""

import json

import pytest

import admin
from chalicelib import storage
from chalicelib.accounts import credentials
from chalicelib.storage import tokens
from chalicelib.web import auth
from tests.conftest import basic


def run(capsys, *argv):
    code = admin.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_create_account_prints_credentials_once_and_stores_only_a_hash(aws, capsys):
    code, out, _ = run(capsys, "create-account")
    assert code == 0
    created = json.loads(out)
    assert set(created) == {"account_sid", "auth_token"}
    stored = storage.accounts.get_account(created["account_sid"])
    assert created["auth_token"] not in json.dumps(stored)
    assert stored["token_hash"] == credentials.hash_secret(created["auth_token"])


def test_create_account_with_fixed_credentials(aws, capsys):
    sid, token = "AC" + "1" * 32, "2" * 32
    code, out, _ = run(capsys, "create-account", "--account-sid", sid, "--auth-token", token)
    assert code == 0 and json.loads(out) == {"account_sid": sid, "auth_token": token}
    auth.authenticate(sid, basic(sid, token))  # raises unless the stored hash matches


def test_bad_fixed_credentials_are_refused(aws, capsys):
    code, out, err = run(capsys, "create-account", "--account-sid", "ACnope")
    assert code == 1 and out == "" and "AccountSid" in err


def test_create_and_revoke_key(aws, capsys):
    account = admin.create_account()
    code, out, _ = run(capsys, "create-key", account["account_sid"])
    key = json.loads(out)
    assert code == 0 and key["sid"].startswith("SK") and len(key["secret"]) == 32
    assert storage.accounts.get_api_key(account["account_sid"], key["sid"])["revoked"] is False
    code, out, _ = run(capsys, "revoke-key", account["account_sid"], key["sid"])
    assert code == 0 and json.loads(out) == {"sid": key["sid"], "revoked": True}
    assert storage.accounts.get_api_key(account["account_sid"], key["sid"])["revoked"] is True


def test_key_for_a_missing_account_is_refused(aws, capsys):
    code, out, err = run(capsys, "create-key", "AC" + "3" * 32)
    assert code == 1 and out == "" and "no such account" in err


def test_create_account_never_creates_a_table(aws, capsys, monkeypatch):
    monkeypatch.setenv("HERALD_TABLE_NAME", "misspelt-table")
    storage.reset()
    code, out, err = run(capsys, "create-account")
    assert code == 1 and out == "" and "create-table" in err
    code, out, _ = run(capsys, "create-table")
    assert code == 0 and json.loads(out) == {"created": True}
    code, out, _ = run(capsys, "create-account")
    assert code == 0
    storage.reset()


def test_create_account_stores_the_token_encrypted_for_the_signing_functions(aws, capsys):
    code, out, _ = run(capsys, "create-account")
    created = json.loads(out)
    stored = storage.accounts.get_account(created["account_sid"])
    assert code == 0 and created["auth_token"] not in stored["token_ciphertext"]
    tokens.reset()  # nothing cached: KMS decrypts it
    assert (
        tokens.decrypt_token(created["account_sid"], stored["token_ciphertext"])
        == (created["auth_token"])
    )


def test_a_batch_of_callbacks_that_all_miss_the_cache_decrypts_once(aws, capsys):
    import threading

    _, out, _ = run(capsys, "create-account")
    created = json.loads(out)
    stored = storage.accounts.get_account(created["account_sid"])
    tokens.reset()
    calls = []
    tokens._client().meta.events.register("after-call.kms.Decrypt", lambda **_: calls.append(1))
    start = threading.Barrier(8)
    plain = []

    def job():
        start.wait()
        plain.append(tokens.decrypt_token(created["account_sid"], stored["token_ciphertext"]))

    threads = [threading.Thread(target=job) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert plain == [created["auth_token"]] * 8 and len(calls) == 1


@pytest.mark.parametrize("key", [None, "no-such-key"])
def test_an_account_that_could_not_sign_is_never_made(aws, capsys, monkeypatch, key):
    """Without a usable KMS key the token could not be encrypted, and the account's status
    callbacks and webhooks would go out unsigned: create-account refuses in one line."""
    if key is None:
        monkeypatch.delenv("HERALD_KMS_KEY_ID")
    else:
        monkeypatch.setenv("HERALD_KMS_KEY_ID", key)
    sid = "AC" + "4" * 32
    code, out, err = run(capsys, "create-account", "--account-sid", sid)
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1 and "HERALD_KMS_KEY_ID" in err, err
    assert storage.accounts.get_account(sid) is None
    with pytest.raises(ValueError):
        storage.accounts.put_account(sid, credentials.hash_secret("5" * 32), 0, "")
