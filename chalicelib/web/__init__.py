"""The web layer: the only part of Herald that imports chalice.

    http.py       responses, Twilio's error JSON, and reading a request
    auth.py       HTTP Basic authentication for the path's account
    routing.py    resources: a route per path that serves its methods and answers 405
    messages.py   the Message routes
    fallbacks.py  the middleware, unknown paths and the OpenAPI document

Each resource module has a `register(app)` that app.py calls.
"""
