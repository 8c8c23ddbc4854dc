"""What sealing the credentials in users' URLs costs: printed figures, not a test.

    .venv/bin/python -m bench.url_credentials [--runs 200]

Prints, as Markdown, for API requests through the Lambda handler (`app.app(event, context)`,
moto in process) and for the delivery side's `url_credentials.opened`:

1. KMS calls per request, counted on botocore's event hooks of chalicelib.storage.tokens'
   client, with that client's caches empty (a container's first such request, or its first
   after tokens.CACHE_SECONDS) and warm (the same credentials again);
2. the handler's median and p90 latency for a create without a StatusCallback, with one
   without credentials and with one with credentials (warm cache): what Herald itself adds.

moto's KMS answers in process, so a cold figure here is Herald's and moto's work, not AWS
KMS's network round trip (a few ms in-region, not measured here). Nothing reaches AWS.
"""

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from bench.harness import offline  # noqa: E402

offline("herald-bench-credentials")

import admin  # noqa: E402
from bench.run import Client, handle, moto_backend, table  # noqa: E402
from chalicelib.accounts import credentials as auth  # noqa: E402
from chalicelib.storage import tokens, url_credentials  # noqa: E402

COMMAND = ".venv/bin/python -m bench.url_credentials"
TO, FROM = "+14155550100", "+15005550006"
PLAIN = "https://app.example/status"
WITH = "https://cb:pa55word@app.example/status"


class KmsCalls:
    """The KMS operations `fn` makes, on the client chalicelib.storage.tokens uses."""

    def __init__(self):
        self.names: list[str] = []

    def count(self, fn, *, cold: bool) -> str:
        if cold:
            tokens.reset()  # a new container: no client, nothing cached
        self.names = []
        events = tokens._client().meta.events
        events.register("before-call.kms", self._seen, unique_id="bench-kms")
        try:
            fn()
        finally:
            events.unregister("before-call.kms", unique_id="bench-kms")
        return " + ".join(self.names) or "none"

    def _seen(self, model, **_):
        self.names.append(model.name)


def calls_table(client: Client, account_sid: str) -> list[list[str]]:
    kms = KmsCalls()
    stored = url_credentials.sealed(account_sid, WITH)

    def create(**params):
        response = handle(client.create(To=TO, From=FROM, Body="hi", **params))
        assert response["statusCode"] == 201, response["body"]

    def number():
        path = client.base + "/IncomingPhoneNumbers.json"
        phone = f"+1415555{time.perf_counter_ns() % 10_000:04d}"
        response = handle(client.event("POST", path, {"PhoneNumber": phone, "SmsUrl": WITH}))
        assert response["statusCode"] == 201, response["body"]

    rows = []
    for label, fn in [
        ("create, no StatusCallback", lambda: create()),
        ("create, StatusCallback without credentials", lambda: create(StatusCallback=PLAIN)),
        ("create, StatusCallback with credentials", lambda: create(StatusCallback=WITH)),
        ("create, StatusCallback and MediaUrl, same credentials",
         lambda: create(StatusCallback=WITH, MediaUrl=WITH + ".png")),
        ("IncomingPhoneNumber create, SmsUrl with credentials", number),
        ("callbacks or sender: open a stored URL",
         lambda: url_credentials.opened(account_sid, stored)),
    ]:  # fmt: skip
        rows.append([label, kms.count(fn, cold=True), kms.count(fn, cold=False)])
    return rows


def latency_table(client: Client, runs: int) -> list[list[str]]:
    rows = []
    for label, params in [
        ("no StatusCallback", {}),
        ("StatusCallback without credentials", {"StatusCallback": PLAIN}),
        ("StatusCallback with credentials (cache warm)", {"StatusCallback": WITH}),
    ]:
        handle(client.create(To=TO, From=FROM, Body="hi", **params))  # warm-up
        times = []
        for _ in range(runs):
            event = client.create(To=TO, From=FROM, Body="hi", **params)
            started = time.perf_counter()
            handle(event)
            times.append((time.perf_counter() - started) * 1000)
        p90 = statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0]
        rows.append([label, f"{statistics.median(times):.2f}", f"{p90:.2f}", runs])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="creates per latency figure")
    args = parser.parse_args(argv)
    command = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])
    # The request lines the handler writes are not the figures.
    with moto_backend(), open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        account = admin.create_account()
        client = Client(account)
        auth.forget()
        calls = calls_table(client, account["account_sid"])
        latency = latency_table(client, args.runs)
    print(f"Command: `{command}` (moto in process; KMS calls counted on botocore's hooks).\n")
    print("**KMS calls per request**, the cache empty and then warm:\n")
    print(table(["request", "KMS calls, cold", "KMS calls, warm"], calls))
    print("\n**Create latency through the handler** (ms, moto):\n")
    print(table(["create", "median ms", "p90 ms", "runs"], latency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
