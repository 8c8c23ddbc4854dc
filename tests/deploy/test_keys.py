"""The KMS keys: the token key (AuthTokens, URL credentials) kept, rotating, decrypted only by
the functions that must and only under the encryption context the code binds."""

import re

import pytest

from chalicelib.storage import tokens
from deploy import token_key
from tests.deploy.expected import CONTEXT_CONDITION, URL_CONDITION


def test_the_token_key_rotates_and_only_callbacks_decrypt_tokens(rendered):
    keys = rendered.keys()
    assert set(keys) == {"tokens", "carrier_events"}
    kept, rotates, policy = keys["tokens"]
    assert kept is True and rotates is True
    callbacks, sender = rendered.role_arn("callbacks"), rendered.role_arn("sender")
    check_key_policy(policy, rendered.root, callbacks, sender)


def check_key_policy(policy: dict, root, callbacks_role, sender_role) -> None:
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    for statement in by_sid.values():
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] != "*" and statement["Principal"]["AWS"] != "*"
    decrypting = [s for s in by_sid.values() if "kms:Decrypt" in s["Action"]]
    # Callbacks decrypts what is bound to an account (AuthTokens, URL credentials); the
    # sender only URL credentials: an AuthToken's context has no purpose, so it is refused.
    assert [(s["Principal"], s["Action"], s["Condition"]) for s in decrypting] == [
        ({"AWS": callbacks_role}, ["kms:Decrypt"], CONTEXT_CONDITION),
        ({"AWS": sender_role}, ["kms:Decrypt"], {**CONTEXT_CONDITION, **URL_CONDITION}),
    ]
    encrypting = [s for s in by_sid.values() if "kms:Encrypt" in s["Action"]]
    assert [(s["Principal"], s["Condition"]) for s in encrypting] == [
        ({"AWS": root}, CONTEXT_CONDITION)
    ]
    admin = by_sid["AccountAdministersTheKey"]
    assert admin["Principal"] == {"AWS": root}
    assert {"kms:Put*", "kms:Enable*", "kms:ScheduleKeyDeletion"} <= set(admin["Action"])
    # No wildcard in the administration grants a use of the key.
    for action in admin["Action"]:
        pattern = re.escape(action).replace(r"\*", ".*")
        uses = ("kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey")
        assert not any(re.fullmatch(pattern, use) for use in uses), action


def test_token_context_is_the_one_keys_binds_tokens_to():
    assert token_key.TOKEN_CONTEXT_KEY == tokens._CONTEXT_KEY
    expected = {"Null": {f"kms:EncryptionContext:{tokens._CONTEXT_KEY}": "false"}}
    assert expected == CONTEXT_CONDITION


def test_the_url_condition_is_the_context_url_credentials_are_sealed_with(account):
    """What the sender's statement requires is what url_credentials.sealed binds."""
    from chalicelib.storage import url_credentials

    seen = {}
    real = tokens._encrypt

    def spy(plaintext, context):
        seen.update(context)
        return real(plaintext, context)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tokens, "_encrypt", spy)
        url_credentials.sealed(account["account_sid"], "https://u:pw@h.example/")
    ((key, value),) = URL_CONDITION["StringEquals"].items()
    assert seen[key.removeprefix("kms:EncryptionContext:")] == value
    assert seen[tokens._CONTEXT_KEY] == account["account_sid"]
