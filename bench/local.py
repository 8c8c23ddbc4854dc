"""`make run` measured as its users meet it: a separate process tree, over HTTP, from a client
on the same machine. Printed figures, not a test (`make bench-local`).

    .venv/bin/python -m bench.local [--runs 3] [--burst 1000] [--stored 10000] [--smoke]

Every figure of issue 17 with its goal and, where one applies, a bare baseline measured the
same way in the same run (bench/http_load.py's bare server: Python's own HTTP server answering
at once with a canned body as long as Herald's answer), and the ratio Herald / bare:

- creates a second from 16 clients on kept-open connections (median of --runs bursts of
  --creates), and the create latency's p99 at a steady 100 a second;
- a fetch and a 50-message list page on a kept-open connection, and a fetch on a new one;
- a burst of --burst creates with the sandbox's receipt delay at 0, each with a
  StatusCallback: messages made final a second (from the burst's start to the last message's
  `delivered` in its history), and every callback received and signed;
- create → delivered at a steady 20 a second with the default receipt delay (1 s), each with
  a StatusCallback; `delivered` comes one receipt delay after `sent` by design, so the figure
  beyond that delay is the pipeline's own;
- CPU with nothing to do (after start, and after the load), start to first answer (median of
  --runs), and the longest stop after SIGTERM or Ctrl-C (SIGINT to the process group) at
  moments through start-up (before the first answer, right after it) and while serving;
- a list page, a fetch and the inbox's list with --small and --stored messages stored, and
  make run's memory (RSS of its processes) after start and with --stored messages.

Nothing reaches AWS: make run embeds its AWS. The load average is printed at the start and
the end: on a shared machine the figures are only as quiet as it was.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import http_load
from bench.harness import Receiver, callback_receiver
from bench.local_run import MakeRun, free_port, wait_for_calm

ROOT = Path(__file__).resolve().parent.parent
COMMAND = "make bench-local"
SID, TOKEN = "AC" + "b0" * 16, "e1" * 16
TO, FROM = "+14155550100", "+15005550006"
BASE = f"/2010-04-01/Accounts/{SID}"
AUTH = {"Authorization": http_load.basic(SID, TOKEN)}
FINAL = ("delivered", "undelivered", "failed")
SMOKE = {"runs": 1, "creates": 40, "burst": 30, "steady": 10, "small": 10, "stored": 40}


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def creates(port: int, count: int, tag: str, callback: str | None = None) -> list[bytes]:
    form = {"To": TO, "From": FROM, **({"StatusCallback": callback} if callback else {})}
    path = BASE + "/Messages.json"
    return [
        http_load.request_bytes("POST", path, port, AUTH, {**form, "Body": f"bench {tag}{i}"})
        for i in range(count)
    ]


def get(port: int, path: str) -> bytes:
    return http_load.request_bytes("GET", path, port, AUTH)


def sids_of(result: dict) -> list[str]:
    answers = filter(None, result["answers"])
    return [json.loads(body)["sid"] for status, body in answers if status == 201]


def history(port: int, sids: list[str]) -> dict[str, dict]:
    """Each message's status history (the inbox's message route), by status: at_ms."""
    connection, found = http_load.Connection(port), {}
    for sid in sids:
        status, body = connection.send(get(port, f"/inbox/api/Accounts/{SID}/Messages/{sid}.json"))
        if status == 200:
            found[sid] = {entry["status"]: entry["at_ms"] for entry in json.loads(body)["history"]}
    connection.close()
    return found


def wait_final(port: int, sid: str, timeout: float) -> None:
    """Until the message `sid` is final: the pipeline is done with it and those before it."""
    connection, deadline = http_load.Connection(port), time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, body = connection.send(get(port, f"{BASE}/Messages/{sid}.json"))
        except OSError:  # a restart of make run's HTTP child (a file changed): ask again;
            # the report quotes what make run said about it
            status, body = None, b""
        if status == 200 and json.loads(body)["status"] in FINAL:
            break
        time.sleep(0.2)
    connection.close()


def first_answer(run: MakeRun) -> float:
    return run.wait_first_answer(get(run.port, BASE + "/Messages.json?PageSize=1"))


# --- the figures ----------------------------------------------------------------------------


def start_and_stop(runs: int, smoke: bool) -> dict:
    """Start to first answer (median of `runs`), and each stop, at moments through start-up
    and while serving."""
    starts, stops = [], []
    for _ in range(runs):
        with MakeRun(SID, TOKEN) as run:
            starts.append(first_answer(run))
            run.wait_banner()
            stops.append(("SIGTERM while serving", run.stop("term")))
    for index, moment in enumerate(() if smoke else (0.05, 0.2, 0.4, 0.7)):
        how = ("int", "term")[index % 2]
        with MakeRun(SID, TOKEN) as run:
            time.sleep(moment)
            stops.append((f"{how} at {moment:.2f} s", run.stop(how)))
    for how in ("int",) if smoke else ("int", "term"):
        with MakeRun(SID, TOKEN) as run:
            first_answer(run)
            stops.append((f"{how} at the first answer", run.stop(how)))
    return {"start": statistics.median(starts), "bare": bare_start(runs), "stops": stops}


def bare_start(runs: int) -> float:
    times = []
    for _ in range(runs):
        port, began = free_port(), time.perf_counter()
        command = [sys.executable, "-m", "bench.http_load", str(port)]
        process = subprocess.Popen(command, cwd=ROOT)
        try:
            while True:
                try:
                    http_load.Connection(port, timeout=5).send(get(port, "/10"))
                    break
                except OSError:
                    time.sleep(0.005)
            times.append(time.perf_counter() - began)
        finally:
            process.terminate()
            process.wait()
    return statistics.median(times)


def api(run: MakeRun, bare: int, args) -> dict:
    # Once it has started: after its first answer, the delivery pipeline's process still
    # loads the app (devtools/worker_process.py), which is start-up, not idling.
    wait_for_calm(run)
    figures: dict = {"idle": run.idle_cpu(1 if args.smoke else 10), "rss_start": run.rss_mib()}
    run.calm = figures["calm"] = max(3.0, figures["idle"] * 1.5 + 2)
    rates, bare_rates, errors = [], [], 0
    for index in range(args.runs):
        result = http_load.closed_loop(run.port, creates(run.port, args.creates, f"r{index}-"), 16)
        rates.append(result["rate"])
        errors += result["errors"]
        size = len(result["answers"][0][1]) if result["answers"][0] else 900
        form = {"To": TO, "From": FROM, "Body": "bench"}  # answered with as many bytes
        same = [http_load.request_bytes("POST", f"/{size}", bare, AUTH, form)] * args.creates
        bare_result = http_load.closed_loop(bare, same, 16)
        bare_rates.append(bare_result["rate"])
        wait_final(run.port, sids_of(result)[-1], 600)
        wait_for_calm(run)
    figures.update(creates=statistics.median(rates), bare_creates=statistics.median(bare_rates))
    steady = http_load.paced(run.port, creates(run.port, 30 if args.smoke else 300, "p"), 100)
    figures.update(p99_at_100=steady["p99_ms"], errors=errors + steady["errors"])
    sid = sids_of(steady)[-1]
    wait_final(run.port, sid, 600)
    wait_for_calm(run)
    count = 20 if args.smoke else 200
    fetch, page = f"{BASE}/Messages/{sid}.json", f"{BASE}/Messages.json?PageSize=50"
    sizes = {name: len(http_load.Connection(run.port).send(get(run.port, path))[1])
             for name, path in (("fetch", fetch), ("list", page))}  # fmt: skip
    figures["fetch"] = http_load.sequential_ms(run.port, get(run.port, fetch), count)
    figures["fetch_new"] = http_load.sequential_ms(run.port, get(run.port, fetch), count, False)
    figures["list"] = http_load.sequential_ms(run.port, get(run.port, page), max(10, count // 4))
    bare_fetch, bare_page = get(bare, f"/{sizes['fetch']}"), get(bare, f"/{sizes['list']}")
    figures["bare_fetch"] = http_load.sequential_ms(bare, bare_fetch, count)
    figures["bare_fetch_new"] = http_load.sequential_ms(bare, bare_fetch, count, False)
    figures["bare_list"] = http_load.sequential_ms(bare, bare_page, count)
    return figures


def steady_delivery(run: MakeRun, receiver: Receiver, count: int) -> dict:
    """`count` messages at 20 a second, each with a StatusCallback: create → delivered from
    each message's history, and the callbacks."""
    result = http_load.paced(run.port, creates(run.port, count, "s", receiver.url), 20)
    sids = sids_of(result)
    receiver.wait_for(sids, "delivered", timeout=120 + count / 20)
    stored = history(run.port, sids)
    latencies = [h["delivered"] - h["queued"] for h in stored.values() if "delivered" in h]
    return {
        "created": len(sids),
        "delivered": len(latencies),
        "p50": http_load.percentile(latencies, 50) if latencies else None,
        "p99": http_load.percentile(latencies, 99) if latencies else None,
        "callbacks": receiver.summary(sids),
    }


def burst(run: MakeRun, receiver: Receiver, count: int) -> dict:
    began = time.time() * 1000
    result = http_load.closed_loop(run.port, creates(run.port, count, "b", receiver.url), 16)
    sids = sids_of(result)
    receiver.wait_for(sids, "delivered", timeout=120 + count / 5)
    finals = [h["delivered"] for h in history(run.port, sids).values() if "delivered" in h]
    seconds = (max(finals) - began) / 1000 if finals else None
    return {
        "created": len(sids),
        "delivered": len(finals),
        "create_rate": result["rate"],
        "rate": len(finals) / seconds if seconds else 0.0,
        "callbacks": receiver.summary(sids),
    }


def at_scale(run: MakeRun, sizes: tuple[int, int], smoke: bool) -> dict:
    """A list page, a fetch and the inbox's list with each of `sizes` messages stored."""
    figures: dict = {}
    made: list[str] = []
    for size in sizes:
        while len(made) < size:
            count = min(1000, size - len(made))
            made += sids_of(http_load.closed_loop(run.port, creates(run.port, count, "l"), 16))
        wait_final(run.port, made[-1], 1200)
        wait_for_calm(run)
        samples, port = (10 if smoke else 40), run.port
        paths = {
            "list": f"{BASE}/Messages.json?PageSize=50",
            "fetch": f"{BASE}/Messages/{made[0]}.json",
            "inbox": f"/inbox/api/Accounts/{SID}/Messages.json?PageSize=50",
        }
        figures[size] = {
            name: http_load.sequential_ms(port, get(port, path), samples)
            for name, path in paths.items()
        }
        figures[size]["rss"] = run.rss_mib()
    figures["idle_after"] = run.idle_cpu(1 if smoke else 10)
    return figures


# --- the report -----------------------------------------------------------------------------


def number(value, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def ratio(value, bare) -> str:
    return f"{value / bare:.1f}" if value and bare else "-"


def rows(args, figures: dict) -> list[list[str]]:
    s, a, b, d, x = (figures[k] for k in ("start", "api", "burst", "steady", "scale"))
    small, large = args.small, args.stored
    beyond = d["p99"] - 1000 if d["p99"] is not None else None
    worst = max(seconds for _, seconds in s["stops"])
    scale = [
        [f"{name} at {small:,} / {large:,} stored, ms", "≤ 2 times",
         f"{number(x[small][key], 2)} / {number(x[large][key], 2)}", "",
         ratio(x[large][key], x[small][key]) + " (large / small)"]
        for name, key in (("list page of 50", "list"), ("fetch", "fetch"), ("inbox list", "inbox"))
    ]  # fmt: skip
    return [
        ["creates a second, 16 clients, kept-open", "≥ 500", number(a["creates"], 0),
         number(a["bare_creates"], 0), ratio(a["bare_creates"], a["creates"]) + " (bare / Herald)"],
        ["create errors", "0", str(a["errors"]), "", ""],
        ["create p99 at 100 a second, ms", "≤ 100", number(a["p99_at_100"]), "", ""],
        ["fetch, kept-open, ms", "≤ 5", number(a["fetch"], 2), number(a["bare_fetch"], 2),
         ratio(a["fetch"], a["bare_fetch"])],
        ["fetch, new connection, ms", "", number(a["fetch_new"], 2),
         number(a["bare_fetch_new"], 2), ratio(a["fetch_new"], a["bare_fetch_new"])],
        ["list page of 50, kept-open, ms", "≤ 10", number(a["list"], 2),
         number(a["bare_list"], 2), ratio(a["list"], a["bare_list"])],
        [f"burst of {args.burst}, delay 0: made final a second", "≥ 100", number(b["rate"], 0),
         "", f"created at {number(b['create_rate'], 0)}/s"],
        [f"burst of {args.burst}: delivered; callbacks", "all, signed",
         f"{b['delivered']}/{b['created']}; {b['callbacks']}", "", ""],
        ["create → delivered p99 at 20/s, default delay, ms", "≤ 1,000 beyond the 1 s delay",
         f"{number(d['p99'], 0)} ({number(beyond, 0)} beyond; p50 {number(d['p50'], 0)})", "", ""],
        ["  its deliveries; callbacks", "all, signed",
         f"{d['delivered']}/{d['created']}; {d['callbacks']}", "", ""],
        ["CPU with nothing to do, % of a core", "≤ 1", number(a["idle"], 2), "", ""],
        ["  the same after the load", "≤ 1", number(x["idle_after"], 2), "", ""],
        ["start to first answer, s", "≤ 1", number(s["start"], 2), number(s["bare"], 2),
         ratio(s["start"], s["bare"])],
        ["longest stop (SIGTERM or Ctrl-C, any moment), s", "≤ 5", number(worst, 2), "", ""],
        *scale,
        ["memory after start, MiB (RSS, all processes)", "stated", number(a["rss_start"], 0),
         "", ""],
        [f"memory with {large:,} messages, MiB", "stated", number(x[large]["rss"], 0), "", ""],
    ]  # fmt: skip


def report(args, figures: dict, loads: tuple[str, str], elapsed: float) -> str:
    lines = [
        f"`{COMMAND}`{' --smoke' if args.smoke else ''}: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"{loads[0]} at the start, {loads[1]} at the end; {elapsed:.0f} s.",
        "",
        "| figure | goal | Herald | bare | ratio |",
        "|---|---|---|---|---|",
        *("| " + " | ".join(row) + " |" for row in rows(args, figures)),
        "",
        "Stops: " + ", ".join(f"{how} {s:.2f} s" for how, s in figures["start"]["stops"]) + ".",
        *(["", "make run said:", *(f"    {line}" for line in figures["said"])]
          if figures.get("said") else []),
    ]  # fmt: skip
    return "\n".join(lines)


def notable(run: MakeRun) -> list[str]:
    """What make run printed that a run should not: restarts, tracebacks, errors."""
    marks = ("herald:", "Traceback", '"level":"error"')
    return [line[:300] for line in run.lines if any(mark in line for mark in marks)][:10]


def loadavg() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--creates", type=int, default=600)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--steady", type=int, default=400, help="messages at 20 a second")
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--stored", type=int, default=10_000)
    parser.add_argument("--smoke", action="store_true", help="seconds: that it runs")
    args = parser.parse_args(argv)
    if args.smoke:
        vars(args).update(SMOKE)
    began, load_start, figures = time.monotonic(), loadavg(), {}
    log("start and stop")
    figures["start"] = start_and_stop(args.runs, args.smoke)
    bare = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.http_load", str(bare)], cwd=ROOT)
    try:
        with callback_receiver(auth_token=TOKEN) as receiver:
            log("the API, then create → delivered at 20/s with the default receipt delay")
            with MakeRun(SID, TOKEN) as run:
                run.wait_banner()
                figures["api"] = api(run, bare, args)
                figures["steady"] = steady_delivery(run, receiver, args.steady)
                figures.setdefault("said", []).extend(notable(run))
            log("a burst, receipt delay 0")
            with MakeRun(SID, TOKEN, HERALD_SANDBOX_DELAY_SECONDS="0") as run:
                run.wait_banner()
                figures["burst"] = burst(run, receiver, args.burst)
                figures.setdefault("said", []).extend(notable(run))
            log(f"lists with {args.small} then {args.stored} messages stored, receipt delay 0")
            with MakeRun(SID, TOKEN, HERALD_SANDBOX_DELAY_SECONDS="0") as run:
                run.wait_banner()
                run.calm = figures["api"]["calm"]
                figures["scale"] = at_scale(run, (args.small, args.stored), args.smoke)
                figures.setdefault("said", []).extend(notable(run))
    finally:
        server.terminate()
        server.wait()
    print(report(args, figures, (load_start, loadavg()), time.monotonic() - began))
    return 0


if __name__ == "__main__":
    sys.exit(main())
