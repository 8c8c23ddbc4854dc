"""One rule for every way parameters arrive (a form, a JSON object, a query string), and
answers in the API's words, never Python's.

A JSON body with a name given twice once kept the last value where the same form was
refused; a 5,000-digit integer was answered with Python's `sys.set_int_max_str_digits()`
advice (JSON) or a 500 (a form's ValidityPeriod, a list's PageSize).
"""

import json
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.twilio import errors, forms
from tests.conftest import FROM, TO, body, error_of
from tests.twilio.test_properties import PROPERTY, VALUES, grouped

BIG = "9" * 5000
JSON = {"Content-Type": "application/json"}


def json_object(pairs) -> bytes:
    """A JSON object with `pairs` in order, repeated names too (json.dumps cannot)."""
    return ("{" + ",".join(f"{json.dumps(n)}:{json.dumps(v)}" for n, v in pairs) + "}").encode()


@PROPERTY
@given(st.lists(st.tuples(st.sampled_from(["To", "Body", "MediaUrl", "x"]), VALUES), max_size=8))
def test_a_json_body_with_repeated_names_gives_the_forms_params(pairs):
    assert forms.parse_body(json_object(pairs), "application/json") == grouped(pairs)
    assert forms.parse_body(urlencode(pairs).encode(), None) == grouped(pairs)


def test_a_single_valued_parameter_given_twice_is_refused_in_json_as_in_a_form(api):
    pairs = [("To", TO), ("From", FROM), ("Body", "first"), ("Body", "second")]
    as_form = api.create(**{"To": TO, "From": FROM, "Body": ["first", "second"]})
    as_json = api.request(
        "POST", api.base + "/Messages.json", body=json_object(pairs), headers=JSON
    )
    assert error_of(as_form) == error_of(as_json) == (400, 20001)
    assert (
        body(as_form)["message"]
        == body(as_json)["message"]
        == ("Parameter Body may be given only once")
    )
    # A list parameter repeated is its values together, in either form.
    media = [("To", TO), ("From", FROM), ("MediaUrl", "https://a.example/1.png")]
    media.append(("MediaUrl", "https://a.example/2.png"))
    parsed = forms.parse_body(json_object(media), "application/json")
    assert parsed["MediaUrl"] == ["https://a.example/1.png", "https://a.example/2.png"]


@pytest.mark.parametrize("how", ["form", "json number", "json string"])
def test_a_5000_digit_integer_is_the_parameters_own_400(api, how):
    params = {"To": TO, "From": FROM, "Body": "x", "ValidityPeriod": BIG}
    if how == "form":
        answer = api.create(**params)
    else:
        raw = json.dumps(params).encode()
        if how == "json number":
            raw = raw.replace(f'"{BIG}"'.encode(), BIG.encode())
        answer = api.request("POST", api.base + "/Messages.json", body=raw, headers=JSON)
    assert error_of(answer) == (400, 20001)
    assert body(answer)["message"] == "ValidityPeriod must be an integer from 1 to 36000"


@pytest.mark.parametrize("name", ["PageSize", "Page"])
def test_a_5000_digit_page_parameter_is_a_400_not_a_500(api, name):
    answer = api.list(urlencode({name: BIG}))
    assert error_of(answer) == (400, 20001)
    assert "sys." not in body(answer)["message"]


def test_json_numbers_are_taken_as_written():
    raw = b'{"MaxPrice": 1.50, "ValidityPeriod": 600, "x": 1e2}'
    assert forms.parse_body(raw, "application/json") == {
        "MaxPrice": ["1.50"],
        "ValidityPeriod": ["600"],
        "x": ["1e2"],
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"Body": "x" ', "Malformed JSON body at line 1 column 14"),
        (b'{"Body": NaN}', "Malformed JSON body"),
        (b'{"Body": -Infinity}', "Malformed JSON body"),
        (b'{"Body": "\xff"}', "Malformed JSON body: it is not UTF-8"),
    ],
)
def test_malformed_json_is_told_in_the_apis_words(raw, message):
    with pytest.raises(errors.TwilioError) as raised:
        forms.parse_body(raw, "application/json")
    assert (raised.value.code, raised.value.message) == (20001, message)
