"""X-Twilio-Signature for the requests Herald makes to its users' URLs.

Why this module: status callbacks and inbound-message webhooks go to URLs that Herald's users
run, and those receivers check `X-Twilio-Signature` with Twilio's own SDKs
(`twilio.request_validator.RequestValidator` and its siblings in other languages). Herald must
therefore sign exactly as Twilio does. It is stdlib only (hmac, hashlib, base64) because it is
imported inside Lambda functions whose cold start and bundle size matter; the twilio package is a
dev dependency used only by the tests, which check every signature with RequestValidator.

The algorithm: base64(HMAC-SHA1(key=AuthToken, message=URL + for each parameter name in sorted
order, each of its distinct values in sorted order, name + value)). Sorting is by code point, as
Python's RequestValidator does (an SDK that sorts UTF-16 code units, such as JavaScript's default
sort, could disagree only for names or values mixing characters above U+FFFF with ones in
U+E000..U+FFFF; Twilio's parameter names are ASCII). Repeated values are signed once, as
RequestValidator does, although the form body carries each occurrence.

Which URL to sign. Sign the URL exactly as Herald calls it: the user's configured URL with the
fragment (Twilio's connection overrides, `#rc=..`, see `outbound.fragment_overrides`) removed and
nothing else changed but the normalisation below: same host spelling and case, the port as
written (present or absent), path and query byte for byte (percent-encoding as configured).
`outbound.request` sends exactly that: the request target is the URL's path and query, and the
Host header is the URL's authority as written. A receiver behind a proxy or load balancer
must rebuild that public URL (scheme from X-Forwarded-Proto, host from Host/X-Forwarded-Host),
not its internal `http://10.0.0.7:8080/...`. The SDK's port logic (twilio/request_validator.py
9.13) helps with ports only: `validate` accepts a signature over the URL it is given with any
port removed, or with the scheme's default port added when it has none. Hence:
- default ports (`https://h/x` and `https://h:443/x`, `http://h/x` and `http://h:80/x`) are
  interchangeable: sign either, the receiver may see either;
- a non-default port that Herald signs (`https://h:8443/x`) validates only if the receiver rebuilds
  the URL with that port; a proxy that drops it (`https://h/x`) makes validation fail;
- its port stripping is `netloc.split(":")[0]`, which breaks for IPv6 literals and user:password
  authorities: Herald signs a URL without its `user:password@`, as Twilio does (the credentials
  go in an Authorization header, chalicelib.outbound.client.twilio_request), so the receiver
  validates against its URL without them;
- the host's case gets no normalisation (an SDK that lower-cases it, like Node's, would then
  disagree with Python's: users should configure lower-case hosts, and ASCII URLs).
What the validator does normalise, it does through `urllib.parse.urlparse(url).geturl()`: a
lower-case scheme, no empty `?` or `;`. `signature()` applies that too, and makes an empty path
`/` (what goes on the wire, and what a receiver rebuilds): for an ordinary URL all of this is
the identity, for `http://h?x=1` or `https://h/cb?` it is what makes the signature validate.
The JSON-body variant (`bodySHA256` query parameter) is not implemented: Herald sends forms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from urllib.parse import urlparse

__all__ = ["SIGNATURE_HEADER", "signature"]

SIGNATURE_HEADER = "X-Twilio-Signature"


def signature(
    auth_token: str, url: str, params: Mapping[str, str | Sequence[str]] | None = None
) -> str:
    """The X-Twilio-Signature value for a request to `url` whose form body is `params`.

    `url` is the URL as called (query string included, fragment already removed: a `#` raises
    ValueError, since signing a fragment the receiver never sees is always a bug), normalised
    as the module docstring says. `params` maps
    each name to one value or a sequence of values (e.g. repeated `MediaUrl0`); pass None or {}
    for a GET, whose parameters are then in the URL's query string.
    """
    if "#" in url:
        raise ValueError("sign the URL without its fragment")
    parsed = urlparse(url)
    parts = [parsed._replace(path=parsed.path or "/").geturl()]
    for name in sorted(params or {}):
        value = params[name]
        values = [value] if isinstance(value, str) else list(value)
        for item in sorted(set(values)):
            if not isinstance(item, str):
                raise TypeError(f"parameter {name!r}: values must be str, not {type(item)}")
            parts.append(name)
            parts.append(item)
    mac = hmac.new(auth_token.encode("utf-8"), "".join(parts).encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")
