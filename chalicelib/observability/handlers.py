"""The app's own lines: one per API request, one per delivery invocation.

`instrument(app)` is called once, right after the app is made, so that its middleware is the
outermost: the request line sees the answer the client gets (after every other middleware
rewrote it) and times the whole request. Every line written while a request or an event is
handled carries the invocation's ids (observability.invocation).

Nothing here reads anything a handler would not read anyway: the request's path parameters
and context, the response's status, headers and (already built) body.
"""

import time

from chalicelib import observability

# The operation a request is, from its route's path template: a list path (`…/Name.json`)
# or an instance path (`…/Name/{sid_json}`) and the method. Messages' operations are plain
# (create, list, …); every other resource's are prefixed with its name (numbers.create,
# media.list, feedback.create, sandbox.inbound, …).
LIST_VERBS = {"GET": "list", "POST": "create"}
INSTANCE_VERBS = {"GET": "fetch", "POST": "update", "PUT": "update", "DELETE": "delete"}
RESOURCE_NAMES = {
    "Messages": "",
    "IncomingPhoneNumbers": "numbers",
    "Media": "media",
    "Feedback": "feedback",
    "Inbound": "sandbox",
}
SID_PREFIXES = ("SM", "MM", "PN", "ME")
# Chalice's names for the event sources behind the delivery functions.
EVENT_SOURCES = ("sqs", "dynamodb", "scheduled")
HEX = frozenset("0123456789abcdefABCDEF")


def instrument(app) -> None:
    """Send the "herald" loggers out as lines and add the request and invocation lines."""
    observability.configure_logging()

    @app.middleware("http")
    def request_line(request, get_response):
        started = time.perf_counter()
        context = request.context or {}
        lambda_context = app.lambda_context
        function = getattr(lambda_context, "function_name", None) or "api"
        with observability.invocation(function, lambda_context, context.get("requestId")):
            response = None
            try:
                response = get_response(request)
                return response
            finally:
                _request_line(request, response, observability.elapsed_ms(started))

    for source in EVENT_SOURCES:
        app.register_middleware(_invocation_line, source)


def _request_line(request, response, latency_ms: float) -> None:
    try:
        method = request.method
        resource = (request.context or {}).get("resourcePath")
        operation = operation_of(resource or "", method)
        params = request.uri_params or {}
        status = response.status_code if response is not None else 500
        body = response.body if response is not None else None
        sid_json = params.get("sid_json") or ""
        sid = sid_json[: -len(".json")] if sid_json.endswith(".json") else None
        sid = sid or params.get("message_sid")
        if operation == "create" and status == 201 and isinstance(body, dict):
            sid = body.get("sid")
        account_sid = _shaped(params.get("account_sid"), "AC")
        sid = _shaped(sid, *SID_PREFIXES)
        replayed = response is not None and "Idempotent-Replayed" in (response.headers or {})
        created = operation == "create" and status == 201 and not replayed
        error_code = body.get("code") if status >= 400 and isinstance(body, dict) else None
    except Exception:
        return  # a request line must never change the answer
    observability.event(
        "api.request",
        level="error" if status >= 500 else "info",
        operation=operation,
        method=method,
        account_sid=account_sid,
        sid=sid,
        http_status=status,
        error_code=error_code,
        replayed=True if replayed else None,
        latency_ms=latency_ms,
        metrics={"MessagesCreated": 1} if created else None,
    )


def operation_of(template: str, method: str) -> str:
    if template == "/openapi.json":
        return "openapi"
    if template.startswith("/inbox"):
        # The Inbox's own JSON reads mirror the Messages paths; keep them apart on dashboards.
        if template == "/inbox":
            return "inbox.page"
        if template.startswith("/inbox/assets/"):
            return "inbox.asset"
        inner = operation_of(template[len("/inbox/api") :], method)
        return "other" if inner == "other" else f"inbox.{inner}"
    segments = template.split("/")
    if segments[-1] == "{sid_json}" and len(segments) > 1:
        name, verbs = segments[-2], INSTANCE_VERBS
    elif segments[-1].endswith(".json"):
        name, verbs = segments[-1][: -len(".json")], LIST_VERBS
    else:
        return "other"
    resource, verb = RESOURCE_NAMES.get(name), verbs.get(method)
    if resource is None or verb is None:
        return "other"
    if resource == "sandbox":
        return "sandbox.inbound"
    return f"{resource}.{verb}" if resource else verb


def _shaped(value, *prefixes: str) -> str | None:
    """A path's Sid as written: itself if it has a Sid's shape, else "malformed" (a path
    segment is the client's text, which may be anything, a phone number included)."""
    if value is None:
        return None
    value = str(value)
    if len(value) == 34 and value[:2] in prefixes and HEX.issuperset(value[2:]):
        return value
    return "malformed"


def _invocation_line(event, get_response):
    """One line per delivery invocation: records in, jobs that failed, time taken, and the
    metrics of all its jobs (observability.batch_metrics)."""
    started = time.perf_counter()
    context = event.context
    function = getattr(context, "function_name", None) or "delivery"
    records = event.to_dict().get("Records")
    count = len(records) if isinstance(records, list) else None
    with observability.invocation(function, context):
        try:
            with observability.batch_metrics() as metrics:
                try:
                    result = get_response(event)
                finally:
                    counted = metrics()
        except BaseException as error:
            observability.event(
                "invocation",
                level="error",
                outcome="error",
                error=type(error).__name__,
                records=count,
                latency_ms=observability.elapsed_ms(started),
                # What its jobs counted before it raised: never lost with it.
                metrics=counted or None,
            )
            raise
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        # A scheduled sweep that found nothing due did nothing: a debug line.
        idle = isinstance(result, dict) and result.get("dispatched") == 0
        observability.event(
            "invocation",
            level="debug" if idle else "info",
            outcome="partial" if failures else "ok",
            records=count,
            failed_jobs=len(failures) if isinstance(failures, list) else None,
            latency_ms=observability.elapsed_ms(started),
            metrics=counted or None,
        )
        return result
