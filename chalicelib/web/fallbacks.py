"""What answers when no resource does: the middleware that turns Chalice's own errors into
Twilio's JSON, the catch-all routes for unknown paths, and the OpenAPI document."""

import functools
import logging

from chalicelib.twilio import errors, forms
from chalicelib.web import http
from chalicelib.web.routing import ANY_CONTENT_TYPE, EVERY_METHOD, RESOURCES

OPENAPI = "/openapi.json"
# Chalice has no greedy path parameter, so unknown paths are caught one depth at a time.
UNKNOWN_PATH_DEPTHS = 9
log = logging.getLogger("herald.api")


def _chalice_error(request, response) -> errors.TwilioError:
    """Chalice answers some requests itself (a method no route declares, an uncaught
    exception): a method no route declares is 405 with the resource's own Allow on a
    resource path, and 404 on any other path (as API Gateway answers, deploy/gateway_errors.py)."""
    if response.status_code == 405:
        allowed = {**RESOURCES, OPENAPI: ("GET",)}.get(request.context.get("resourcePath"))
        if allowed is None:
            return errors.not_found(http.request_path(request))
        return errors.method_not_allowed(request.method, ", ".join(allowed))
    if response.status_code == 415:
        return errors.unsupported_media_type(request.headers.get("content-type", ""))
    return errors.internal_error()


@functools.cache
def _openapi_text() -> str:
    # Read on the first request only (never at a cold start), then served from memory.
    from pathlib import Path

    return (Path(__file__).parent.parent / "openapi.json").read_text(encoding="utf-8")


def register(app) -> None:
    @app.middleware("http")
    def refuse_early_and_rewrite_errors(request, get_response):
        try:
            body = request.raw_body if request.method in ("POST", "PUT", "PATCH") else b""
            if body and len(body) > forms.MAX_BODY_BYTES:
                return http.error_response(errors.payload_too_large(forms.MAX_BODY_BYTES))
            response = get_response(request)
            if (
                response.status_code >= 400
                and isinstance(response.body, dict)
                and "Code" in response.body
            ):
                return http.error_response(_chalice_error(request, response))
            return response
        except Exception:
            # Whatever failed, the client gets Twilio's JSON, never Chalice's own 500 body.
            log.exception("unexpected error")
            return http.error_response(errors.internal_error())

    @app.route(OPENAPI, methods=["GET"], content_types=ANY_CONTENT_TYPE)
    def openapi_document():
        """Herald's OpenAPI 3 document (chalicelib/openapi.json); no auth."""
        return http.json_response(200, _openapi_text())

    def unknown_path(**_segments):
        return http.error_response(errors.not_found(http.request_path(app.current_request)))

    for depth in range(UNKNOWN_PATH_DEPTHS + 1):
        path = "".join(f"/{{p{i}}}" for i in range(depth)) or "/"
        app.route(
            path, methods=EVERY_METHOD, content_types=ANY_CONTENT_TYPE, name=f"unknown{depth}"
        )(unknown_path)
