"""Twilio's error JSON: every failure Herald reports is one of these."""

from dataclasses import dataclass, field

from chalicelib.twilio import codes

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"


@dataclass
class TwilioError(Exception):
    code: int
    message: str
    status: int = 400
    headers: dict = field(default_factory=dict)
    detail: str | None = None

    def body(self) -> dict:
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": MORE_INFO.format(code=self.code),
            "status": self.status,
        }
        if self.detail is not None:
            body["detail"] = self.detail
        return body


def bad_parameter(message: str) -> TwilioError:
    return TwilioError(codes.INVALID_PARAMETER, message)


def not_found(path: str) -> TwilioError:
    return TwilioError(codes.NOT_FOUND, f"The requested resource {path} was not found", 404)


def unauthorized() -> TwilioError:
    return TwilioError(
        codes.PERMISSION_DENIED,
        "Authenticate",
        401,
        headers={"WWW-Authenticate": 'Basic realm="Twilio API"'},
        detail="Your AccountSid or AuthToken was incorrect.",
    )


def method_not_allowed(method: str, allowed: str = "") -> TwilioError:
    headers = {"Allow": allowed} if allowed else {}
    return TwilioError(
        codes.METHOD_NOT_ALLOWED, f"Method not allowed: {method}", 405, headers=headers
    )


def unsupported_media_type(content_type: str) -> TwilioError:
    return TwilioError(
        codes.INVALID_PARAMETER,
        f"Unsupported Content-Type {content_type!r}: send application/x-www-form-urlencoded"
        " or application/json",
        415,
    )


def payload_too_large(limit: int) -> TwilioError:
    return TwilioError(codes.INVALID_PARAMETER, f"Request body is larger than {limit} bytes", 413)


def too_many_requests(retry_after: int = 1) -> TwilioError:
    return TwilioError(
        codes.TOO_MANY_REQUESTS, "Too Many Requests", 429, headers={"Retry-After": str(retry_after)}
    )


def service_unavailable(retry_after: int = 1) -> TwilioError:
    return TwilioError(
        codes.SERVICE_UNAVAILABLE,
        "Service is unavailable, try again",
        503,
        headers={"Retry-After": str(retry_after)},
    )


def internal_error() -> TwilioError:
    return TwilioError(codes.INTERNAL_ERROR, "Internal Server Error", 500)
