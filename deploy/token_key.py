"""The KMS key that encrypts each account's AuthToken (chalicelib.storage.tokens), as both
templates create it: its policy, description and deletion window, and the one function that
may decrypt with it."""

# chalicelib.storage.tokens binds each ciphertext to its account with this encryption context key.
TOKEN_CONTEXT_KEY = "herald:account"
_HAS_ACCOUNT_CONTEXT = {"Null": {f"kms:EncryptionContext:{TOKEN_CONTEXT_KEY}": "false"}}
# AWS's default key policy statement for key administrators: everything but using the key.
KEY_ADMIN_ACTIONS = (
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
)


def account_administers_key(account_root) -> dict:
    """The key policy statement every Herald key starts with: the account administers it
    through IAM (and cannot lock itself out), without using it."""
    return {
        "Sid": "AccountAdministersTheKey",
        "Effect": "Allow",
        "Principal": {"AWS": account_root},
        "Action": list(KEY_ADMIN_ACTIONS),
        "Resource": "*",
    }


def key_policy(account_root: str, decrypting_role: str) -> dict:
    """The AuthToken key's policy (ARNs in the writer's syntax).

    The account administers the key through IAM; it may encrypt (the admin command, whose
    user needs kms:Encrypt on the key in an IAM policy) but never decrypt. Only the
    callbacks function's role decrypts, and only ciphertexts bound to an account.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            account_administers_key(account_root),
            {
                "Sid": "IamMayAllowEncryptingTokens",
                "Effect": "Allow",
                "Principal": {"AWS": account_root},
                "Action": ["kms:Encrypt"],
                "Resource": "*",
                "Condition": _HAS_ACCOUNT_CONTEXT,
            },
            {
                "Sid": "CallbacksDecryptTokens",
                "Effect": "Allow",
                "Principal": {"AWS": decrypting_role},
                "Action": ["kms:Decrypt"],
                "Resource": "*",
                "Condition": _HAS_ACCOUNT_CONTEXT,
            },
        ],
    }


KEY_DESCRIPTION = "Herald: encrypts each account's AuthToken for signing callbacks"
KEY_DELETION_WINDOW_DAYS = 30
DECRYPTING_FUNCTION = "callbacks"
