"""Twilio's error JSON: every failure Herald reports is one of these."""

from dataclasses import dataclass, field

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
    return TwilioError(20001, message)


def not_found(path: str) -> TwilioError:
    return TwilioError(20404, f"The requested resource {path} was not found", 404)


def unauthorized() -> TwilioError:
    return TwilioError(
        20003,
        "Authenticate",
        401,
        headers={"WWW-Authenticate": 'Basic realm="Twilio API"'},
        detail="Your AccountSid or AuthToken was incorrect.",
    )


def method_not_allowed(method: str, allowed: str = "") -> TwilioError:
    headers = {"Allow": allowed} if allowed else {}
    return TwilioError(20004, f"Method not allowed: {method}", 405, headers=headers)


def unsupported_media_type(content_type: str) -> TwilioError:
    return TwilioError(
        20001,
        f"Unsupported Content-Type {content_type!r}: send application/x-www-form-urlencoded"
        " or application/json",
        415,
    )


def payload_too_large(limit: int) -> TwilioError:
    return TwilioError(20001, f"Request body is larger than {limit} bytes", 413)


def too_many_requests(retry_after: int = 1) -> TwilioError:
    return TwilioError(20429, "Too Many Requests", 429, headers={"Retry-After": str(retry_after)})


def service_unavailable(retry_after: int = 1) -> TwilioError:
    return TwilioError(
        20503, "Service is unavailable, try again", 503, headers={"Retry-After": str(retry_after)}
    )


def internal_error() -> TwilioError:
    return TwilioError(20500, "Internal Server Error", 500)
