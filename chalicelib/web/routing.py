"""Resources: one route per path that takes every method, serves its own and answers the
others with Twilio's 405 and an Allow header.

On AWS, API Gateway answers a method a route does not declare before the function runs,
with a 403 "Missing Authentication Token" no Twilio client understands; so each resource's
route declares every method and says 405 itself. RESOURCES records what each path serves:
the middleware's fallback and the OpenAPI test read it.
"""

from chalicelib.twilio import errors
from chalicelib.web import auth
from chalicelib.web.http import twilio_errors

ACCOUNT = "/2010-04-01/Accounts/{account_sid}"
# Content types are checked by forms.parse_body, so that a wrong one gets Twilio's error
# JSON instead of Chalice's; and twilio-python sends a form Content-Type even on GET.
ANY_CONTENT_TYPE = ["*/*"]
EVERY_METHOD = ["GET", "POST", "PUT", "DELETE", "PATCH"]

# Route path -> the methods it serves; view name -> the same (for the OpenAPI test).
RESOURCES: dict[str, tuple[str, ...]] = {}
SERVED_METHODS: dict[str, tuple[str, ...]] = {}


def resource(app, path: str, methods: tuple[str, ...]):
    """Register the decorated view for `path`, serving `methods` (the rest: 405)."""

    def register(view):
        RESOURCES[path] = methods
        SERVED_METHODS[view.__name__] = methods

        @twilio_errors
        def served(**params):
            method = app.current_request.method
            if method not in methods:
                raise errors.method_not_allowed(method, ", ".join(methods))
            return view(**params)

        served.__name__ = view.__name__
        served.__doc__ = view.__doc__
        return app.route(path, methods=EVERY_METHOD, content_types=ANY_CONTENT_TYPE)(served)

    return register


def authenticated(app, account_sid: str):
    """(the request, the authenticated Account) for the current request; 401 otherwise."""
    request = app.current_request
    account = auth.authenticate(account_sid, request.headers.get("authorization"))
    return request, account
