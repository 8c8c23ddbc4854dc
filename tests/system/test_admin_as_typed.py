"""The admin command as the docs tell a user to type it, run as a user runs it: a shell of
its own (a subprocess that inherits nothing from the tests) with only the export lines
that `make run`'s banner or the docs give, in this checkout.

An account made that way once stored no encrypted AuthToken (the banner's export line
lacked the KMS key), so every status callback and webhook of it went out unsigned and a
receiver that validates X-Twilio-Signature refused them all. Now the banner's line carries
all the command needs, and create-account refuses in one line without a key.
"""

import base64
import http.client
import json
import os
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from chalicelib.runtime import config
from chalicelib.storage import schema
from devtools import local_aws, services
from tests.conftest import FROM, TO, basic
from tests.make_run import started
from tests.pipeline import receiver

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ".venv/bin/python -m admin"
# What stands for the values a reader fills in, in the docs' admin lines.
FORM = "application/x-www-form-urlencoded"
MESSAGING_SERVICE = "MG" + "0123456789abcdef" * 2
NUMBER_ARN = "arn:aws:sms-voice:{region}:111122223333:phone-number/phone-0123456789abcdef"


def shell(script: str, home: Path, **extra: str) -> subprocess.CompletedProcess:
    """`script` in bash in this checkout, as in a new terminal: nothing from the tests'
    environment (no AWS settings) but PATH and HOME, and `extra`."""
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8", **extra}
    return subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def admin_lines(doc: str) -> list[str]:
    """The lines of `doc`'s sh blocks that run the admin command or export a setting, in
    order: a reader following the page types them into one shell."""
    text = (ROOT / doc).read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith(("export ", ADMIN))]


def filled(line: str, values: dict[str, str]) -> str:
    """`line` with the doc's placeholders replaced by `values`; none may be left."""
    for placeholder, value in values.items():
        line = line.replace(placeholder, value)
    code = line.split(" #")[0]
    assert "…" not in code and "IDENTITY" not in code, f"a placeholder is left: {line}"
    return line


@pytest.fixture(scope="module")
def herald(tmp_path_factory):
    with started(tmp_path_factory.mktemp("project")) as running:
        yield running


@pytest.fixture(scope="module")
def banner(herald) -> dict[str, str]:
    """The banner's export line and its create-key line, exactly as printed, and the
    create-account line of docs/api.md (which sends the reader to that export line)."""
    found = {"export": herald.wait_for(re.compile(r"^\s+(export .+)$"), 10).group(1)}
    pattern = re.compile(rf"^\s+({re.escape(ADMIN)} create-key .*)$")
    found["create-key"] = herald.wait_for(pattern, 10).group(1)
    documented = [line for line in admin_lines("docs/api.md") if " create-account" in line]
    found["create-account"] = documented[0].split(" #")[0].strip()
    return found


def run_admin(banner: dict, command: str, home: Path) -> dict:
    done = shell(f"{banner['export']}\n{command}", home)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_account_made_with_make_runs_export_line_signs_its_callbacks(herald, banner, tmp_path):
    account = run_admin(banner, banner["create-account"], tmp_path)
    sid, token = account["account_sid"], account["auth_token"]
    assert run_admin(banner, banner["create-key"], tmp_path)["sid"].startswith("SK")
    with receiver() as hook:
        params = {"To": TO, "From": FROM, "Body": "signed?", "StatusCallback": hook.url + "/cb"}
        status, data = create(herald, sid, token, params)
        assert status == 201, data
        deadline = time.monotonic() + 60
        while not any(r.form.get("MessageStatus") == "delivered" for r in hook.requests):
            assert time.monotonic() < deadline, [r.form for r in hook.requests]
            time.sleep(0.1)
    validator = RequestValidator(token)
    signed = [
        validator.validate(hook.url + r.path, r.form, r.headers.get("X-Twilio-Signature", ""))
        for r in hook.requests
    ]
    assert signed and all(signed), [(r.form, r.headers) for r in hook.requests]
    assert {r.form["AccountSid"] for r in hook.requests} == {sid}


def create(herald, sid: str, token: str, params: dict) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", herald.port, timeout=30)
    try:
        conn.request(
            "POST",
            f"/2010-04-01/Accounts/{sid}/Messages.json",
            body=urlencode(params),
            headers={"Authorization": basic(sid, token), "Content-Type": FORM},
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_without_the_key_create_account_refuses_in_one_line(herald, banner, tmp_path):
    export = re.sub(r" HERALD_KMS_KEY_ID=\S+", "", banner["export"])
    sid = "AC" + "5" * 32
    done = shell(f"{export}\n{ADMIN} create-account --account-sid {sid}", tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert len(done.stderr.splitlines()) == 1 and "HERALD_KMS_KEY_ID" in done.stderr
    # Nothing was stored: the account does not exist.
    done = shell(f"{banner['export']}\n{ADMIN} create-key {sid}", tmp_path)
    assert done.returncode == 1 and "no such account" in done.stderr


def test_an_account_without_its_ciphertext_is_told_the_command_that_rekeys_it(
    herald, banner, tmp_path
):
    """An account made by a create-account older than the rule has no encrypted AuthToken:
    its callbacks go unsigned, and each says, in a callback.unsigned line, the command that
    re-keys it. Typed as the line says (the account's own token in place of its
    placeholder) after the banner's export line, it stores the ciphertext, under the stage's
    key, and the account keeps its token."""
    account = run_admin(banner, banner["create-account"], tmp_path)
    sid, token = account["account_sid"], account["auth_token"]
    dynamodb, kms, table = _embedded_clients(banner)
    dynamodb.update_item(
        TableName=table, Key=schema.account_key(sid), UpdateExpression="REMOVE token_ciphertext"
    )
    with receiver() as hook:
        params = {"To": TO, "From": FROM, "Body": "unsigned?", "StatusCallback": hook.url + "/cb"}
        assert create(herald, sid, token, params)[0] == 201
        unsigned = herald.wait_for(re.compile(r'^\{.*"event":"callback\.unsigned".*\}$'), 60)
    line = json.loads(unsigned.group(0))
    # Its count is in the callbacks invocation's own line (one metrics line a batch).
    assert line["account_sid"] == sid and line["level"] == "warning"
    command = line["reason"].split("`")[1]
    assert command.startswith(f"{ADMIN} create-account --account-sid {sid} ")
    done = shell(f"{banner['export']}\n{command.replace('<its AuthToken>', token)}", tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"account_sid": sid, "auth_token": token}
    stored = dynamodb.get_item(TableName=table, Key=schema.account_key(sid))["Item"]
    blob = base64.b64decode(stored["token_ciphertext"]["S"])
    opened = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"herald:account": sid})
    assert opened["Plaintext"] == token.encode()
    # docs/api.md and docs/operations.md give the same command.
    for doc in ("docs/api.md", "docs/operations.md"):
        documented = [line for line in admin_lines(doc) if "--auth-token" in line]
        assert [line.split(" #")[0].strip() for line in documented] == [
            f"{ADMIN} create-account --account-sid AC… --auth-token …"
        ], doc


def _embedded_clients(banner: dict):
    """DynamoDB and KMS clients of make run's embedded AWS, and its table, as the banner's
    export line names them."""
    import boto3

    settings = dict(re.findall(r"(\w+)=(\S+)", banner["export"]))
    common = {
        "region_name": settings["AWS_REGION"],
        "aws_access_key_id": settings["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": settings["AWS_SECRET_ACCESS_KEY"],
    }
    dynamodb = boto3.client("dynamodb", endpoint_url=settings["DYNAMODB_ENDPOINT_URL"], **common)
    kms = boto3.client("kms", endpoint_url=settings["AWS_ENDPOINT_URL_KMS"], **common)
    return dynamodb, kms, settings.get("HERALD_TABLE_NAME", config.DEFAULT_TABLE)


@pytest.mark.parametrize("doc", ["docs/api.md", "docs/table-design.md"])
def test_the_docs_admin_lines_work_after_make_runs_export_line(herald, banner, doc, tmp_path):
    """The reference pages' admin lines, for the account `make run` made them with."""
    account = run_admin(banner, banner["create-account"], tmp_path)
    values = {
        "AC…": account["account_sid"],
        "IDENTITY": FROM,
        "MG…": MESSAGING_SERVICE,
        "--auth-token …": f"--auth-token {account['auth_token']}",  # its own: a re-key
    }
    ran = []
    for line in admin_lines(doc):
        if "SK…" in line and "SK…" not in values:
            values["SK…"] = run_admin(
                banner, f"{ADMIN} create-key {account['account_sid']}", tmp_path
            )["sid"]
        command = filled(line.replace("[", "").replace("]", ""), values)
        done = shell(f"{banner['export']}\n{command}", tmp_path)
        assert done.returncode == 0, (command, done.stderr)
        json.loads(done.stdout)
        ran.append(command.split()[3])
    assert ran, f"no admin line in {doc}"


@pytest.fixture(scope="module")
def stage():
    """An embedded AWS standing in for a deployed stage's: the operator's shell reaches it
    through AWS_ENDPOINT_URL, with made-up credentials."""
    with services.embedded_aws() as endpoint:
        yield {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "ops",
            "AWS_SECRET_ACCESS_KEY": "ops",
        }


@pytest.mark.parametrize("doc", ["docs/deploy.md", "docs/carriers.md"])
def test_the_deploy_guides_admin_lines_work_against_a_stage(stage, doc, tmp_path):
    lines = admin_lines(doc)
    exports = [line for line in lines if line.startswith("export ")]
    region = re.search(r"AWS_REGION=(\S+)", " ".join(exports)).group(1)
    table = re.search(r"HERALD_TABLE_NAME=(\S+)", " ".join(exports)).group(1)
    kms = local_aws._clients(stage["AWS_ENDPOINT_URL"], region)[1]
    key_arn = kms.describe_key(KeyId=local_aws.signing_key(stage["AWS_ENDPOINT_URL"], region))[
        "KeyMetadata"
    ]["Arn"]
    values = {
        f"arn:aws:kms:{region}:…:key/…": key_arn,
        "phone-number/phone-…": "phone-number/phone-0123456789abcdef",
        "arn:aws:sms-voice:…": NUMBER_ARN.format(region=region),
    }
    profile = "\n".join(filled(line, values) for line in exports)
    # The deploy made the table; here the documented create-table does.
    done = shell(f"{profile}\n{ADMIN} create-table", tmp_path, **stage)
    assert done.returncode == 0, done.stderr
    for line in lines:
        if line.startswith("export "):
            continue
        command = filled(line, values)
        done = shell(f"{profile}\n{command}", tmp_path, **stage)
        assert done.returncode == 0, (command, done.stderr)
        result = json.loads(done.stdout)
        if "account_sid" in result and "auth_token" in result:
            values["AC…"] = result["account_sid"]
            stored = _stored_account(stage, region, table, result["account_sid"])
            assert "token_ciphertext" in stored, stored
    assert "AC…" in values, f"{doc} makes no account"
    # Without the key line the same shell is refused, in one line naming what is missing.
    keyless = "\n".join(filled(line, values) for line in exports if "HERALD_KMS_KEY_ID" not in line)
    done = shell(f"{keyless}\n{ADMIN} create-account", tmp_path, **stage)
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, done.stderr
    assert "HERALD_KMS_KEY_ID" in done.stderr


def _stored_account(stage: dict, region: str, table: str, sid: str) -> dict:
    import boto3

    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=stage["AWS_ENDPOINT_URL"],
        region_name=region,
        aws_access_key_id="ops",
        aws_secret_access_key="ops",
    )
    return dynamodb.get_item(TableName=table, Key=schema.account_key(sid))["Item"]
