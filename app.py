"""Herald: Twilio's Messages API on Chalice. Routes only: parse, call chalicelib, render."""

import functools
import gc

from chalice import Chalice, Response

from chalicelib import auth, errors, forms, messages, storage
from chalicelib.delivery import callbacks, dispatch, receipts, scheduler, sources, worker
from chalicelib.observability.handlers import instrument

app = Chalice(app_name="herald")
# First, so that its request line is the outermost middleware (chalicelib/observability).
instrument(app)

ACCOUNT = "/2010-04-01/Accounts/{account_sid}"
MESSAGES = ACCOUNT + "/Messages.json"
# A path parameter must be a whole segment, so `{Sid}.json` is captured whole and split.
MESSAGE = ACCOUNT + "/Messages/{sid_json}"
# Content types are checked by forms.parse_body, so that a wrong one gets Twilio's error
# JSON instead of Chalice's; and twilio-python sends a form Content-Type even on GET.
ANY_CONTENT_TYPE = ["*/*"]
EVERY_METHOD = ["GET", "POST", "PUT", "DELETE", "PATCH"]
# The methods each resource serves. Its route takes every method and answers the others
# with Twilio's 405 itself: on AWS, API Gateway would answer an undeclared method before the
# function ran, with a 403 "Missing Authentication Token" that no Twilio client understands.
SERVED_METHODS = {
    "message_list": ("GET", "POST"),
    "message_instance": ("GET", "POST", "PUT", "DELETE"),
}
# Chalice has no greedy path parameter, so unknown paths are caught one depth at a time.
UNKNOWN_PATH_DEPTHS = 9


def json_response(status: int, body, headers: dict | None = None) -> Response:
    return Response(
        body=body,
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def error_response(error: errors.TwilioError) -> Response:
    return json_response(error.status, error.body(), error.headers)


def twilio_errors(view):
    """Turn every expected failure into Twilio's error JSON."""

    @functools.wraps(view)
    def handle(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except errors.TwilioError as error:
            return error_response(error)
        except storage.Throttled:
            return error_response(errors.too_many_requests())
        except storage.Unavailable:
            return error_response(errors.service_unavailable())

    return handle


# Chalice answers some requests itself (a method no route declares, an uncaught exception)
# with its own body; rewrite those into Twilio's shape so every error a client sees is
# parseable. A method no route declares is 405 with the resource's own Allow on a resource
# path, and 404 on any other path (as API Gateway answers, deploy/shared.py).
_RESOURCE_METHODS = {
    MESSAGES: SERVED_METHODS["message_list"],
    MESSAGE: SERVED_METHODS["message_instance"],
    "/openapi.json": ("GET",),
}


def _chalice_error(request, response) -> errors.TwilioError:
    if response.status_code == 405:
        allowed = _RESOURCE_METHODS.get(request.context.get("resourcePath"))
        if allowed is None:
            return errors.not_found(_request_path(request))
        return errors.method_not_allowed(request.method, ", ".join(allowed))
    if response.status_code == 415:
        return errors.unsupported_media_type(request.headers.get("content-type", ""))
    return errors.internal_error()


@app.middleware("http")
def refuse_early_and_rewrite_errors(request, get_response):
    try:
        body = request.raw_body if request.method in ("POST", "PUT", "PATCH") else b""
        if body and len(body) > forms.MAX_BODY_BYTES:
            return error_response(errors.payload_too_large(forms.MAX_BODY_BYTES))
        response = get_response(request)
        if (
            response.status_code >= 400
            and isinstance(response.body, dict)
            and "Code" in response.body
        ):
            return error_response(_chalice_error(request, response))
        return response
    except Exception:
        # Whatever failed, the client gets Twilio's JSON, never Chalice's own 500 body.
        import logging

        logging.getLogger("herald.api").exception("unexpected error")
        return error_response(errors.internal_error())


def _request_path(request) -> str:
    # The event's own `path` is what the client asked for; requestContext.path and the
    # local server's context carry API Gateway's stage prefix (/api/2010-04-01/...).
    path = request.to_original_event().get("path")
    return path or request.context.get("path", request.path)


def _served(view_name: str) -> None:
    method = app.current_request.method
    allowed = SERVED_METHODS[view_name]
    if method not in allowed:
        raise errors.method_not_allowed(method, ", ".join(allowed))


def _authenticated(account_sid: str):
    request = app.current_request
    auth.authenticate(account_sid, request.headers.get("authorization"))
    return request


def _idempotency_key(request) -> str | None:
    headers = request.headers
    return headers.get("idempotency-key") or headers.get("i-twilio-idempotency-token")


def _body_params(request) -> forms.Params:
    return forms.parse_body(request.raw_body, request.headers.get("content-type"))


@app.route(MESSAGES, methods=EVERY_METHOD, content_types=ANY_CONTENT_TYPE)
@twilio_errors
def message_list(account_sid):
    _served("message_list")
    request = _authenticated(account_sid)
    if request.method == "POST":
        created = messages.create(account_sid, _body_params(request), _idempotency_key(request))
        # A replayed create answers as the first one did: 201 and the same message.
        headers = {"Idempotent-Replayed": "true"} if created.replayed else {}
        return json_response(201, created.message.to_json(), headers)
    page = messages.list_page(account_sid, forms.from_multidict(request.query_params))
    return json_response(200, page)


@app.route(MESSAGE, methods=EVERY_METHOD, content_types=ANY_CONTENT_TYPE)
@twilio_errors
def message_instance(account_sid, sid_json):
    _served("message_instance")
    request = _authenticated(account_sid)
    if not sid_json.endswith(".json"):
        raise errors.not_found(_request_path(request))
    sid = sid_json[: -len(".json")]
    if request.method == "GET":
        return json_response(200, messages.fetch(account_sid, sid).to_json())
    if request.method == "DELETE":
        messages.delete(account_sid, sid)
        return Response(body="", status_code=204, headers={})
    message = messages.update(account_sid, sid, _body_params(request))
    return json_response(200, message.to_json())


@functools.cache
def _openapi_text() -> str:
    # Read on the first request only (never at a cold start), then served from memory.
    from pathlib import Path

    return (Path(__file__).parent / "chalicelib" / "openapi.json").read_text(encoding="utf-8")


@app.route("/openapi.json", methods=["GET"], content_types=ANY_CONTENT_TYPE)
def openapi_document():
    """Herald's OpenAPI 3 document (chalicelib/openapi.json); no auth."""
    return json_response(200, _openapi_text())


def _unknown_path(**_segments):
    request = app.current_request
    return error_response(errors.not_found(_request_path(request)))


for _depth in range(1, UNKNOWN_PATH_DEPTHS + 1):
    _path = "".join(f"/{{p{i}}}" for i in range(_depth))
    app.route(_path, methods=EVERY_METHOD, content_types=ANY_CONTENT_TYPE, name=f"unknown{_depth}")(
        _unknown_path
    )
app.route("/", methods=EVERY_METHOD, content_types=ANY_CONTENT_TYPE, name="unknown0")(_unknown_path)

# --- delivery: the functions behind the queues (chalicelib/delivery) ---------------------


@app.on_dynamodb_record(
    stream_arn=sources.TABLE_STREAM_ARN,
    batch_size=sources.STREAM_BATCH,
    starting_position="TRIM_HORIZON",
    name="dispatcher",
)
def dispatcher(event):
    return dispatch.handle(event.to_dict())


@app.on_sqs_message(queue=sources.SEND_QUEUE, batch_size=sources.QUEUE_BATCH, name="sender")
def sender(event):
    return worker.handle(event.to_dict())


@app.on_sqs_message(queue=sources.RECEIPT_QUEUE, batch_size=sources.QUEUE_BATCH, name="receipts")
def receipt_handler(event):
    return receipts.handle(event.to_dict())


@app.on_sqs_message(queue=sources.CALLBACK_QUEUE, batch_size=sources.QUEUE_BATCH, name="callbacks")
def callback_sender(event):
    return callbacks.handle(event.to_dict())


@app.schedule(sources.SCHEDULE, name="scheduler")
def scheduled_sends(event):
    return {"dispatched": scheduler.sweep()}


# Everything imported so far lives as long as the Lambda container: moving it out of the
# collector's reach spares each later collection from walking it again (a measured 5-10%
# of the cold start; bench/cold_start.py).
gc.freeze()
