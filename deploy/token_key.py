"""The KMS key that encrypts each account's AuthToken (chalicelib.storage.tokens) and the
credentials in its URLs (chalicelib.storage.url_credentials), as both templates create it:
its policy, description and deletion window, and the functions that may decrypt with it."""

from chalicelib.storage import tokens, url_credentials

# chalicelib.storage.tokens binds each ciphertext to its account with this encryption context key.
TOKEN_CONTEXT_KEY = "herald:account"
_HAS_ACCOUNT_CONTEXT = {"Null": {f"kms:EncryptionContext:{TOKEN_CONTEXT_KEY}": "false"}}
# ... and a URL's credentials to their purpose too: a function that may open those (the
# sender, fetching media) cannot decrypt an AuthToken, whose context has no purpose.
_IS_URL_CREDENTIALS = {
    **_HAS_ACCOUNT_CONTEXT,
    "StringEquals": {
        f"kms:EncryptionContext:{tokens._PURPOSE_KEY}": url_credentials.PURPOSE,
    },
}
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


def key_policy(account_root: str, role_arn) -> dict:
    """The key's policy (ARNs in the writer's syntax; `role_arn(function)` names a
    function's role).

    The account administers the key through IAM; it may encrypt (the admin command, whose
    user needs kms:Encrypt on the key in an IAM policy; the API and callbacks functions,
    which seal the credentials in users' URLs) but never decrypt. The callbacks function's
    role decrypts ciphertexts bound to an account (AuthTokens, to sign; URL credentials, to
    call); the sender's only URL credentials (MediaUrls it fetches).
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
                "Principal": {"AWS": role_arn(DECRYPTING_FUNCTION)},
                "Action": ["kms:Decrypt"],
                "Resource": "*",
                "Condition": _HAS_ACCOUNT_CONTEXT,
            },
            {
                "Sid": "SenderDecryptsUrlCredentials",
                "Effect": "Allow",
                "Principal": {"AWS": role_arn(URL_DECRYPTING_FUNCTION)},
                "Action": ["kms:Decrypt"],
                "Resource": "*",
                "Condition": _IS_URL_CREDENTIALS,
            },
        ],
    }


KEY_DESCRIPTION = "Herald: encrypts each account's AuthToken for signing callbacks"
KEY_DELETION_WINDOW_DAYS = 30
DECRYPTING_FUNCTION = "callbacks"
URL_DECRYPTING_FUNCTION = "sender"
