"""Responses, Twilio's error JSON, and the parts of a request the routes read."""

import functools
import logging

from chalice import Response

from chalicelib import storage
from chalicelib.storage import tokens
from chalicelib.twilio import errors, forms

log = logging.getLogger("herald.api")


def json_response(status: int, body, headers: dict | None = None) -> Response:
    return Response(
        body=body,
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def no_content() -> Response:
    return Response(body="", status_code=204, headers={})


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
        except tokens.Unavailable as error:
            # Credentials in a URL could not be sealed (chalicelib.storage.url_credentials):
            # nothing was stored; the client may try again.
            log.error("KMS could not encrypt a URL's credentials: %s", error)
            return error_response(errors.service_unavailable())

    return handle


def request_path(request) -> str:
    # The event's own `path` is what the client asked for; requestContext.path and the
    # local server's context carry API Gateway's stage prefix (/api/2010-04-01/...).
    path = request.to_original_event().get("path")
    return path or request.context.get("path", request.path)


def body_params(request) -> forms.Params:
    return forms.parse_body(request.raw_body, request.headers.get("content-type"))


def query_params(request) -> forms.Params:
    return forms.from_multidict(request.query_params)


def idempotency_key(request) -> str | None:
    headers = request.headers
    return headers.get("idempotency-key") or headers.get("i-twilio-idempotency-token")


def sid_of(request, sid_json: str) -> str:
    """The Sid of a `{Sid}.json` path segment (Chalice captures whole segments only)."""
    if not sid_json.endswith(".json"):
        raise errors.not_found(request_path(request))
    return sid_json[: -len(".json")]
