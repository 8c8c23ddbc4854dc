"""chalicelib.outbound.signing, checked only by Twilio's own validator (twilio.request_validator).

Every assertion that a signature is right goes through `RequestValidator.validate`, the code a
receiver runs; Herald's function is never compared with itself. Params reach the validator as a
flat dict or as werkzeug's MultiDict (what Flask hands a receiver; it comes with moto[server]).
"""

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from chalicelib.outbound.signing import SIGNATURE_HEADER, signature

TOKEN = "12345"


def multidict(params):
    """The form a receiver parses: one (name, value) pair per occurrence."""
    pairs = []
    for name, value in params.items():
        for item in [value] if isinstance(value, str) else value:
            pairs.append((name, item))
    return MultiDict(pairs)


def valid(url, params, sig, token=TOKEN):
    return RequestValidator(token).validate(url, params, sig)


def test_header_name():
    assert SIGNATURE_HEADER == "X-Twilio-Signature"


def test_delivery_md_test_vector():
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    sig = signature(TOKEN, url, params)
    assert sig == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert valid(url, params, sig)
    assert not valid(url, params, sig, token="54321")
    assert not valid(url, {**params, "Digits": "1235"}, sig)
    assert not valid(url.replace("foo=1", "foo=2"), params, sig)


def test_status_callback_form():
    url = "https://hooks.example.com/status"
    params = {
        "MessageSid": "SM" + "0" * 32,
        "SmsSid": "SM" + "0" * 32,
        "MessageStatus": "delivered",
        "SmsStatus": "delivered",
        "AccountSid": "AC" + "1" * 32,
        "From": "+15005550006",
        "To": "+14155550100",
        "ApiVersion": "2010-04-01",
        "RawDlrDoneDate": "2611251203",
    }
    sig = signature("a" * 32, url, params)
    assert valid(url, params, sig, token="a" * 32)
    assert valid(url, multidict(params), sig, token="a" * 32)


def test_repeated_names_media_and_two_values():
    url = "https://hooks.example.com/sms"
    params = {
        "NumMedia": "3",
        "MediaUrl0": "https://media.example.com/ME0",
        "MediaUrl1": "https://media.example.com/ME1",
        "MediaUrl2": "https://media.example.com/ME2",
        "MediaContentType0": "image/jpeg",
        "Tag": ["zeta", "alpha"],
    }
    sig = signature(TOKEN, url, params)
    assert valid(url, multidict(params), sig)
    # The order the values came in does not matter: each name's values are signed sorted.
    assert sig == signature(TOKEN, url, {**params, "Tag": ("alpha", "zeta")})
    # Dropping one of the two values is detected.
    assert not valid(url, multidict({**params, "Tag": ["zeta"]}), sig)


def test_duplicate_values_are_signed_once():
    url = "https://hooks.example.com/sms"
    params = {"Tag": ["same", "same", "other"]}
    sig = signature(TOKEN, url, params)
    assert valid(url, multidict(params), sig)
    assert valid(url, MultiDict([("Tag", "other"), ("Tag", "same")]), sig)


def test_empty_values_and_no_params():
    url = "https://hooks.example.com/sms"
    params = {"Body": "", "MessagingServiceSid": "", "To": "+14155550100"}
    sig = signature(TOKEN, url, params)
    assert valid(url, params, sig)
    # An empty value still contributes its name.
    assert not valid(url, {"To": "+14155550100"}, sig)
    for empty in (None, {}):
        sig = signature(TOKEN, url, empty)
        assert valid(url, {}, sig)
        assert valid(url, None, sig)


def test_unicode_names_values_url_and_token():
    url = "https://hooks.example.com/r\u00e9ponse?q=caf\u00e9"
    params = {"Body": "h\u00e9llo \U0001f44b \u4f60\u597d", "N\u00e4me": "\u00fc", "To": "+1"}
    sig = signature("t\u00f6ken", url, params)
    assert valid(url, params, sig, token="t\u00f6ken")
    assert valid(url, multidict(params), sig, token="t\u00f6ken")


def test_url_with_query_string_get():
    # A GET webhook: parameters in the query string, none in a body.
    query = "From=%2B14155550100&Body=hi%20there&MediaUrl0=x&MediaUrl0=y"
    url = f"https://hooks.example.com/sms?{query}"
    sig = signature(TOKEN, url, None)
    assert valid(url, {}, sig)
    # The query string is signed as written: a re-encoded query is a different URL.
    assert not valid(url.replace("%20", "+"), {}, sig)


def test_fragment_is_refused_and_types_checked():
    with pytest.raises(ValueError):
        signature(TOKEN, "https://h/x#rc=2", {})
    with pytest.raises(TypeError):
        signature(TOKEN, "https://h/x", {"A": [1]})


@pytest.mark.parametrize(
    ("configured", "rebuilt"),
    [
        ("https://hooks.example.com/cb?x=1", "https://hooks.example.com/cb?x=1"),
        ("HTTPS://hooks.example.com/cb", "https://hooks.example.com/cb"),
        ("https://hooks.example.com/cb?", "https://hooks.example.com/cb?"),
        ("https://hooks.example.com/cb?", "https://hooks.example.com/cb"),
        ("https://hooks.example.com/cb;", "https://hooks.example.com/cb;"),
        ("https://hooks.example.com", "https://hooks.example.com/"),
        ("https://hooks.example.com?x=1", "https://hooks.example.com/?x=1"),
    ],
)
def test_url_as_the_receiver_rebuilds_it(configured, rebuilt):
    # The receiver rebuilds the URL from what came on the wire: path "/" at least, and
    # RequestValidator parses it (urlparse(...).geturl()), dropping an empty "?" or ";".
    params = {"MessageStatus": "sent"}
    assert valid(rebuilt, params, signature(TOKEN, configured, params))


# What RequestValidator (twilio 9.13) does with ports: it accepts a signature over the URL it is
# given with its port removed, or with the scheme's default port added when it has none.
PORTS = [
    # signed by Herald            seen by the receiver         validates
    ("https://h/x", "https://h/x", True),
    ("https://h/x", "https://h:443/x", True),
    ("https://h:443/x", "https://h/x", True),
    ("http://h/x", "http://h:80/x", True),
    ("http://h:80/x", "http://h/x", True),
    ("https://h:8443/x", "https://h:8443/x", True),
    ("https://h:8443/x", "https://h/x", False),  # a proxy that drops a non-default port
    ("https://h/x", "https://h:8443/x", True),  # the validator strips the port it sees
    ("https://h:443/x", "https://h:8443/x", False),
    ("https://h:80/x", "https://h/x", False),  # only the scheme's own default port is added
    ("https://h/x", "http://h/x", False),  # TLS terminated by a proxy: rebuild with https
    ("https://H/x", "https://h/x", False),  # no case normalisation
    ("http://[::1]:8080/x", "http://[::1]:8080/x", True),
    ("http://[::1]:8080/x", "http://[::1]/x", False),
]


@pytest.mark.parametrize(("signed", "seen", "ok"), PORTS)
def test_request_validator_port_logic(signed, seen, ok):
    params = {"MessageStatus": "sent"}
    assert valid(seen, params, signature(TOKEN, signed, params)) is ok


# Random forms and URLs: whatever Herald signs, RequestValidator accepts.
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_params = st.dictionaries(
    _text, st.one_of(_text, st.lists(_text, min_size=1, max_size=4)), max_size=8
)
_host = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){1,2}", fullmatch=True)
_segment = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8).map(
    lambda s: quote(s, safe="")
)


@st.composite
def _urls(draw):
    scheme = draw(st.sampled_from(["http", "https"]))
    port = draw(st.one_of(st.none(), st.integers(1, 65535)))
    netloc = draw(_host) + ("" if port is None else f":{port}")
    path = "/" + "/".join(draw(st.lists(_segment, max_size=4)))
    query = draw(st.lists(st.tuples(_segment, _segment), max_size=4))
    url = f"{scheme}://{netloc}{path}"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query)
    return url


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(token=st.text(min_size=1, max_size=40), url=_urls(), params=_params)
def test_property_request_validator_accepts_every_signature(token, url, params):
    sig = signature(token, url, params)
    assert RequestValidator(token).validate(url, multidict(params), sig)
    flat = {k: v for k, v in params.items() if isinstance(v, str)}
    assert RequestValidator(token).validate(url, flat, signature(token, url, flat))
