"""One customer's slow URLs against another's callbacks: does a slow receiver delay anyone else?

    .venv/bin/python -m bench.starvation [--slow 0,1,3] [--hang 20] [--max-wait 90]

Printed figures, not a test, as Markdown. Herald is served as `make run` serves it
(devtools.server.serve_herald: the app in a child process whose threads poll the delivery
queues, devtools/local_workers.py) on the embedded AWS, with the sandbox's default receipt
delay (1 s a step). For each count S in --slow: account A creates S messages whose
StatusCallback answers only after --hang seconds (past Herald's 15 s total timeout, so each
attempt times out and is retried once, as Twilio's default `#rc=1` says); half a second
later account B creates one message whose StatusCallback answers at once. The figures are
B's: create → `delivered` in its status history (Herald's clock), and create → its
`delivered` callback's arrival at B's receiver (or "not within --max-wait"). S = 0 is the
baseline. Nothing reaches AWS or anything but 127.0.0.1.
"""

import argparse
import base64
import contextlib
import json
import os
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent

from bench.harness import callback_receiver, offline  # noqa: E402

offline("herald-bench-starvation")  # before anything imports boto3

COMMAND = ".venv/bin/python -m bench.starvation"
TO = "+14155550100"  # delivered by the sandbox: sending, sent, delivered
FROM = "+15005550006"


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def create(url: str, account: dict, callback: str) -> tuple[str, float]:
    """Create one message over HTTP; its Sid and when the create was sent (wall clock, ms)."""
    credentials = f"{account['account_sid']}:{account['auth_token']}".encode()
    request = urllib.request.Request(
        f"{url}/2010-04-01/Accounts/{account['account_sid']}/Messages.json",
        data=urlencode({"To": TO, "From": FROM, "Body": "hi", "StatusCallback": callback}).encode(),
        headers={"Authorization": "Basic " + base64.b64encode(credentials).decode()},
    )
    sent = time.time() * 1000
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["sid"], sent


def delivered_at(account_sid: str, sid: str) -> float | None:
    from chalicelib.storage import messages

    fields = messages.get_message(account_sid, sid) or {}
    return next(
        (h["at_ms"] for h in fields.get("history") or [] if h["status"] == "delivered"), None
    )


def scenario(url: str, slow_count: int, hang_s: float, max_wait_s: float) -> dict:
    import admin

    slow_account, fast_account = admin.create_account(), admin.create_account()
    with callback_receiver(hang_s) as slow, callback_receiver() as fast:
        for _ in range(slow_count):
            create(url, slow_account, slow.url)
        time.sleep(0.5)
        sid, created = create(url, fast_account, fast.url)
        deadline = time.monotonic() + max_wait_s
        while time.monotonic() < deadline and (sid, "delivered") not in fast.arrived:
            time.sleep(0.1)
        arrived = fast.arrived.get((sid, "delivered"))
        delivered = delivered_at(fast_account["account_sid"], sid)
    return {
        "slow": slow_count,
        "delivered_s": None if delivered is None else (delivered - created) / 1000,
        "callback_s": None if arrived is None else (arrived - created) / 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", default="0,1,3", help="slow messages per run (comma list)")
    parser.add_argument("--hang", type=float, default=20.0, help="slow receiver's delay, s")
    parser.add_argument("--max-wait", type=float, default=90.0, help="per run, s")
    args = parser.parse_args()
    from chalicelib import storage
    from chalicelib.storage import tokens
    from devtools import run, server

    rows = []
    with contextlib.ExitStack() as stack:
        endpoint = stack.enter_context(server.embedded_aws())
        env = server.server_environment(endpoint, embedded=True)
        env.update(run.delivery_environment(endpoint, stack))
        env.pop("HERALD_SANDBOX_DELAY_SECONDS", None)  # make run's default: 1 s a step
        os.environ.update(env)
        storage.reset()
        tokens.reset()
        storage.ensure_table()
        url = stack.enter_context(server.serve_herald(env, quiet=True))
        for count in (int(n) for n in args.slow.split(",")):
            log(f"starvation: {count} slow message(s)")
            rows.append(scenario(url, count, args.hang, args.max_wait))
            # The slow jobs' retries would spill into the next run: let them finish.
            time.sleep(0 if count == 0 else 2 * 15 + 5)

    def shown(value):
        return f"not within {args.max_wait:g} s" if value is None else f"{value:.1f} s"

    print(f"`{COMMAND} --slow {args.slow} --hang {args.hang:g}`, load {os.getloadavg()[0]:.2f}\n")
    print(
        "| slow messages (account A) | B: create → delivered | B: create → its delivered callback |"
    )
    print("|---|---|---|")
    for row in rows:
        print(f"| {row['slow']} | {shown(row['delivered_s'])} | {shown(row['callback_s'])} |")


if __name__ == "__main__":
    main()
