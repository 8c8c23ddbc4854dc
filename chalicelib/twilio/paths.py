"""The API's version and the account's path, which every resource's URI starts with."""

API_VERSION = "2010-04-01"
ACCOUNT_PATH = f"/{API_VERSION}/Accounts/{{account_sid}}"


def account_path(account_sid: str) -> str:
    return ACCOUNT_PATH.format(account_sid=account_sid)
