"""The app's TwiML answer, read as Twilio reads it: every shape, and hostile documents."""

import pytest

from chalicelib.inbound import keywords, twiml
from chalicelib.inbound.keywords import Keyword

HOOK = "https://app.example/sms/incoming?k=1"


def read(body: bytes | str, content_type="text/xml", status=200) -> twiml.Answer:
    data = body.encode() if isinstance(body, str) else body
    return twiml.read(status, content_type, data, HOOK)


def test_a_text_message():
    answer = read("<Response><Message>Thanks!</Message></Response>")
    assert answer == twiml.Answer([twiml.Reply("Thanks!")])


def test_body_media_and_attributes():
    answer = read(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Response><Message to="+14155550199" from="+15005550006" action="/status" method="get">'
        "<Body>Here</Body><Media>https://cdn.example/a.png</Media>"
        "<Media> https://cdn.example/b.jpg </Media></Message></Response>"
    )
    assert answer.error_code is None
    (reply,) = answer.replies
    assert reply.body == "Here"
    assert reply.media_urls == ["https://cdn.example/a.png", "https://cdn.example/b.jpg"]
    assert (reply.to, reply.from_) == ("+14155550199", "+15005550006")
    assert (reply.action, reply.method) == ("https://app.example/status", "GET")


def test_several_messages_in_order_and_media_without_body():
    answer = read(
        "<Response><Message>one</Message><Message><Media>https://x.example/m.gif</Media>"
        "</Message><Message>three</Message></Response>"
    )
    assert [(r.body, r.media_urls) for r in answer.replies] == [
        ("one", []), ("", ["https://x.example/m.gif"]), ("three", [])
    ]  # fmt: skip


@pytest.mark.parametrize("body", ["<Response/>", "<Response></Response>", "", "   \n"])
def test_an_empty_answer_sends_nothing_and_is_no_error(body):
    assert read(body) == twiml.Answer([])


def test_plain_text_is_sent_as_it_is():
    assert read("See you at 5", content_type="text/plain; charset=utf-8").replies == [
        twiml.Reply("See you at 5")
    ]


def test_xml_served_as_html_is_read():
    assert read("<Response><Message>hi</Message></Response>", "text/html").replies == [
        twiml.Reply("hi")
    ]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/json", '{"reply": "hi"}'), ("text/html", "<html><body>hi</body></html>"),
     ("", "<Response/>"), ("image/png", b"\x89PNG")],
)  # fmt: skip
def test_a_content_type_that_is_not_twiml_is_12300(content_type, body):
    assert read(body, content_type) == twiml.Answer([], 12300, read(body, content_type).warning)
    assert read(body, content_type).error_code == 12300


@pytest.mark.parametrize(
    "body",
    [
        "<Response><Message>unclosed</Response>",
        "<Response><Message>a & b</Message></Response>",
        "not xml at all <",
        b"<Response>\xff\xfe</Response>",
    ],
)
def test_malformed_xml_is_12100(body):
    answer = read(body)
    assert (answer.replies, answer.error_code) == ([], 12100)


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(2, 10))
    + "]><Response><Message>&lol9;</Message></Response>"
).replace("&lol1;", "&lol;")
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<Response><Message>&x;</Message></Response>"
)
EXTERNAL_DTD = (
    '<?xml version="1.0"?><!DOCTYPE Response SYSTEM "http://169.254.169.254/dtd">'
    "<Response><Message>hi</Message></Response>"
)


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_hostile_xml_is_refused_without_expanding_or_fetching(body):
    answer = read(body)
    assert (answer.replies, answer.error_code) == ([], 12100)


def test_a_root_other_than_response_is_12200():
    answer = read("<Message>hi</Message>")
    assert (answer.replies, answer.error_code) == ([], 12200)


def test_verbs_other_than_message_are_ignored_with_a_warning():
    answer = read(
        "<Response><Say>voice only</Say><Message>kept</Message><Redirect>/x</Redirect></Response>"
    )
    assert answer.replies == [twiml.Reply("kept")]
    assert answer.error_code == 12200 and "Redirect" in answer.warning and "Say" in answer.warning


def test_at_most_ten_messages_and_ten_media():
    media = "".join(f"<Media>https://m.example/{n}.png</Media>" for n in range(12))
    many = "".join(f"<Message>m{n}</Message>" for n in range(11))
    answer = read(f"<Response><Message><Body>b</Body>{media}</Message>{many}</Response>")
    assert len(answer.replies) == 10 and len(answer.replies[0].media_urls) == 10
    assert answer.error_code == 12200


@pytest.mark.parametrize("status", [None, 301, 404, 500, 503])
def test_an_answer_that_is_not_2xx_is_11200(status):
    answer = read("<Response><Message>hi</Message></Response>", status=status)
    assert (answer.replies, answer.error_code) == ([], 11200)


@pytest.mark.parametrize(
    ("body", "keyword"),
    [("STOP", Keyword.OPT_OUT), (" stop ", Keyword.OPT_OUT), ("Stop.", Keyword.OPT_OUT),
     ("unsubscribe", Keyword.OPT_OUT), ("cancel", Keyword.OPT_OUT), ("END", Keyword.OPT_OUT),
     ("quit!", Keyword.OPT_OUT), ("STOPALL", Keyword.OPT_OUT), ("stop all", Keyword.OPT_OUT),
     ("START", Keyword.OPT_IN), ("yes", Keyword.OPT_IN), ("Unstop", Keyword.OPT_IN),
     ("HELP", Keyword.HELP), ("info?", Keyword.HELP),
     ("stop it", None), ("please stop", None), ("STOPP", None), ("", None), ("yes please", None)],
)  # fmt: skip
def test_keywords_are_the_whole_text(body, keyword):
    assert keywords.keyword_of(body) == keyword


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [(200, "too large", 11750), (200, "incomplete", 11200), (500, "too large", 11200)],
)
def test_an_answer_that_did_not_arrive_whole_has_a_code(status, error, code):
    # chalicelib.outbound.client gives b"" for the body of an answer it could not read whole.
    answer = twiml.read(status, "text/xml", b"", HOOK, error)
    assert (answer.replies, answer.error_code) == ([], code)
