"""Sending through a Messaging Service on the delivery pipeline: accepted with no From, the
sender chosen at the hand-off (sticky, geomatched, alpha where the country takes one),
Twilio's codes when there is none, and what the service gives its messages (StatusCallback,
ValidityPeriod, Smart Encoding, opt-outs, inbound webhooks)."""

import threading

from chalicelib.services import pool
from chalicelib.storage import service_senders
from tests.conftest import body, error_of
from tests.pipeline import fetched, receiver
from tests.services.conftest import V1, register
from tests.services.helpers import add_number, make_service

TO = "+14155550100"  # area code 415
LOCAL, OTHER = "+14155550111", "+12125550111"  # 415 and 212


def send(api, service, **params) -> dict:
    params = {"To": TO, "Body": "hello", "MessagingServiceSid": service, **params}
    response = api.request("POST", api.base + "/Messages.json", params=params)
    assert response.status_code == 201, response.body
    return body(response)


def test_a_message_with_only_a_service_is_accepted_then_sent_from_its_pool(line, api):
    service = make_service(api.account_sid, OTHER, LOCAL)
    created = send(api, service)
    assert (created["status"], created["from"]) == ("accepted", None)
    line.drain()
    sent = fetched(api, created["sid"])
    # Area Code Geomatch: the pool's 415 number for a 415 To.
    assert (sent["status"], sent["from"]) == ("delivered", LOCAL)
    assert line.handoffs[created["sid"]] == 1
    # The From it got is the one the lists filter on.
    listed = body(api.list(f"From={LOCAL.replace('+', '%2B')}"))["messages"]
    assert [m["sid"] for m in listed] == [created["sid"]]


def test_sticky_sender_keeps_a_recipients_from(line, api):
    service = make_service(api.account_sid, OTHER, "+13105550111", AreaCodeGeomatch="false")
    to = "+14155550177"
    first = send(api, service, To=to)["sid"]
    line.drain()
    chosen = fetched(api, first)["from"]
    # Even once a number with the To's own area code joins the pool.
    add_number(api.account_sid, service, "+14155550199")
    pool.forget()
    for _ in range(3):
        sid = send(api, service, To=to)["sid"]
        line.drain()
        assert fetched(api, sid)["from"] == chosen
    assert service_senders.get_sticky(api.account_sid, service, to) == chosen


def test_without_sticky_sender_geomatch_chooses_afresh(line, api):
    service = make_service(api.account_sid, OTHER, StickySender="false")
    send(api, service)
    line.drain()
    add_number(api.account_sid, service, LOCAL)
    sid = send(api, service)["sid"]
    line.drain()
    assert fetched(api, sid)["from"] == LOCAL
    assert service_senders.get_sticky(api.account_sid, service, TO) is None


def test_racing_first_sends_to_a_recipient_agree_on_one_from(api):
    service = make_service(api.account_sid, OTHER, LOCAL)
    to = "+447911123456"
    winners: list[str] = []
    candidates = [OTHER, LOCAL] * 4

    def claim(chosen):
        winners.append(service_senders.claim_sticky(api.account_sid, service, to, chosen, None))

    threads = [threading.Thread(target=claim, args=(c,)) for c in candidates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(winners)) == 1
    assert service_senders.get_sticky(api.account_sid, service, to) == winners[0]


def test_no_sender_for_the_destination_fails_the_message_with_21703(line, api):
    service = make_service(api.account_sid, LOCAL)
    sid = send(api, service, To="+447911123456")["sid"]
    line.drain()
    failed = fetched(api, sid)
    assert (failed["status"], failed["error_code"], failed["from"]) == ("failed", 21703, None)
    assert line.calls[sid] == 0


def test_an_alpha_sender_goes_where_the_country_takes_one(line, api):
    service = make_service(api.account_sid, LOCAL)
    v1 = V1(api)
    v1.request("POST", f"/v1/Services/{service}/AlphaSenders", params={"AlphaSender": "Herald"})
    uk = send(api, service, To="+447911123456")["sid"]
    us = send(api, service)["sid"]
    line.drain()
    assert fetched(api, uk)["from"] == "Herald"
    assert fetched(api, us)["from"] == LOCAL  # +1: no alphanumeric senders


def test_a_service_whose_numbers_all_left_fails_its_waiting_messages_with_21704(line, api):
    service = make_service(api.account_sid, LOCAL)
    sid = send(api, service)["sid"]
    number = api.request("GET", api.base + "/IncomingPhoneNumbers.json")
    pn = body(number)["incoming_phone_numbers"][0]["sid"]
    api.request("DELETE", f"{api.base}/IncomingPhoneNumbers/{pn}.json")
    pool.forget()
    line.drain()
    assert (fetched(api, sid)["status"], fetched(api, sid)["error_code"]) == ("failed", 21704)
    assert error_of(api.create(To=TO, MessagingServiceSid=service, Body="x")) == (400, 21704)


def test_the_services_status_callback_is_called_when_the_message_has_none(line, api):
    with receiver() as hook, receiver() as own:
        service = make_service(api.account_sid, LOCAL, StatusCallback=hook.url + "/service")
        via_service = send(api, service)["sid"]
        via_own = send(api, service, StatusCallback=own.url + "/own")["sid"]
        line.drain()
        assert {r.form["MessageSid"] for r in hook.requests} == {via_service}
        assert {r.form["MessageSid"] for r in own.requests} == {via_own}
        statuses = [r.form["MessageStatus"] for r in hook.requests]
        assert statuses[-1] == "delivered" and "sending" in statuses
        assert all(r.form["MessagingServiceSid"] == service for r in hook.requests)
        assert all(r.form["From"] in ("", LOCAL) for r in hook.requests)
        assert hook.requests[-1].form["From"] == LOCAL


def test_an_expired_validity_period_fails_with_30036_and_is_never_sent(line, api, monkeypatch):
    from chalicelib.runtime import clock

    service = make_service(api.account_sid, LOCAL, ValidityPeriod="60")
    by_service = send(api, service)["sid"]
    by_message = send(api, service, ValidityPeriod="3600")["sid"]
    real = clock.now_ms
    monkeypatch.setattr(clock, "now_ms", lambda: real() + 120_000)
    line.drain()
    expired = fetched(api, by_service)
    assert (expired["status"], expired["error_code"]) == ("failed", 30036)
    assert line.calls[by_service] == 0
    assert fetched(api, by_message)["status"] == "delivered"  # its own period overrides


def test_smart_encoding_keeps_a_word_processors_text_gsm7(line, api):
    text = "\u201cHello\u201d \u2014 it\u2019s here\u2026 " + "x" * 120
    service = make_service(api.account_sid, LOCAL)
    encoded = send(api, service, Body=text)
    assert encoded["body"] == '"Hello" - it\'s here... ' + "x" * 120
    assert encoded["num_segments"] == "1"
    off = make_service(api.account_sid, SmartEncoding="false")
    kept = send(api, off, Body=text, From="+15005550006")
    assert kept["body"] == text and kept["num_segments"] == "3"
    # The message may say otherwise, either way.
    asked = send(api, off, Body=text, From="+15005550006", SmartEncoded="true")
    assert asked["num_segments"] == "1"
    refused = send(api, service, Body=text, SmartEncoded="false")
    assert refused["body"] == text
    # And without a service, when the message asks for it.
    alone = api.request(
        "POST", api.base + "/Messages.json",
        params={"To": TO, "From": "+15005550006", "Body": text, "SmartEncoded": "true"},
    )  # fmt: skip
    assert (body(alone)["body"], body(alone)["num_segments"]) == (encoded["body"], "1")


def test_stop_to_one_number_of_a_service_stops_the_whole_service(line, api):
    handset = "+14155550142"
    service = make_service(api.account_sid, LOCAL, OTHER)
    sandbox = api.base + "/Sandbox/Inbound.json"
    stop = api.request("POST", sandbox, params={"From": handset, "To": OTHER, "Body": "STOP"})
    assert stop.status_code == 201
    line.drain()
    assert error_of(api.create(To=handset, MessagingServiceSid=service, Body="x")) == (400, 21610)
    assert error_of(api.create(To=handset, From=LOCAL, MessagingServiceSid=service, Body="x")) == (
        400,
        21610,
    )
    api.request("POST", sandbox, params={"From": handset, "To": LOCAL, "Body": "START"})
    line.drain()
    assert send(api, service, To=handset)["status"] == "accepted"


def test_a_number_the_handset_stopped_before_it_joined_the_service_never_texts_it(line, api):
    # The STOP was the number's alone; the service chooses that number only at the hand-off,
    # which asks the number's opt-outs too: 21610, as Twilio fails such a message.
    handset = "+14155550142"
    sandbox = api.base + "/Sandbox/Inbound.json"
    pn = register(api, LOCAL)
    stop = {"From": handset, "To": LOCAL, "Body": "STOP"}
    assert api.request("POST", sandbox, params=stop).status_code == 201
    line.drain()
    service = make_service(api.account_sid)
    V1(api).add_number(service, pn)
    sid = send(api, service, To=handset)["sid"]
    line.drain()
    failed = fetched(api, sid)
    assert (failed["status"], failed["error_code"]) == ("failed", 21610)
    assert line.calls[sid] == 0


def test_texts_to_a_pool_number_go_to_the_services_inbound_url(line, api):
    handset = "+14155550142"
    sandbox = api.base + "/Sandbox/Inbound.json"
    with receiver() as service_hook, receiver() as number_hook:
        service = make_service(api.account_sid, InboundRequestUrl=service_hook.url + "/in")
        register(api, LOCAL)
        pn = body(api.request("GET", api.base + "/IncomingPhoneNumbers.json"))
        pn = pn["incoming_phone_numbers"][0]["sid"]
        api.request(
            "POST", f"{api.base}/IncomingPhoneNumbers/{pn}.json",
            params={"SmsUrl": number_hook.url + "/number"},
        )  # fmt: skip
        V1(api).add_number(service, pn)
        api.request("POST", sandbox, params={"From": handset, "To": LOCAL, "Body": "hi"})
        line.drain()
        assert [r.path for r in service_hook.requests] == ["/in"]
        assert service_hook.requests[0].form["MessagingServiceSid"] == service
        assert number_hook.requests == []
        V1(api).update(service, UseInboundWebhookOnNumber="true")
        api.request("POST", sandbox, params={"From": handset, "To": LOCAL, "Body": "again"})
        line.drain()
        assert [r.path for r in number_hook.requests] == ["/number"]


def test_the_services_fallback_url_is_called_when_its_inbound_url_fails_both_signed(
    line, api, account
):
    from twilio.request_validator import RequestValidator

    handset = "+14155550142"
    sandbox = api.base + "/Sandbox/Inbound.json"
    with receiver() as hook:
        hook.answers = [500, (200, "text/xml", "<Response><Message>Got it</Message></Response>")]
        service = make_service(
            api.account_sid,
            InboundRequestUrl=hook.url + "/in",
            FallbackUrl=hook.url + "/fallback?x=1",
            FallbackMethod="GET",
        )
        add_number(api.account_sid, service, LOCAL)
        api.request("POST", sandbox, params={"From": handset, "To": LOCAL, "Body": "hi"})
        line.drain()
        first, second = hook.requests
        assert (first.method, first.path) == ("POST", "/in")
        assert (second.method, second.path.split("?")[0]) == ("GET", "/fallback")
        validator = RequestValidator(account["auth_token"])
        assert validator.validate(hook.url + "/in", first.form, first.headers["X-Twilio-Signature"])
        assert validator.validate(hook.url + second.path, {}, second.headers["X-Twilio-Signature"])
        assert "MessagingServiceSid=" + service in second.path
    # The fallback's TwiML answer is followed: the reply goes from the pool number texted.
    replies = [
        m
        for m in body(api.list(f"To={handset.replace('+', '%2B')}"))["messages"]
        if m["direction"] == "outbound-reply"
    ]
    assert [(m["from"], m["body"]) for m in replies] == [(LOCAL, "Got it")]


def test_a_pool_number_of_a_service_without_an_inbound_url_calls_no_webhook(line, api):
    # Not even the number's own (UseInboundWebhookOnNumber is false); the text is kept
    # (docs/differences.md: Twilio would not log it).
    handset = "+14155550142"
    sandbox = api.base + "/Sandbox/Inbound.json"
    with receiver() as number_hook:
        service = make_service(api.account_sid)
        pn = register(api, LOCAL)
        api.request(
            "POST", f"{api.base}/IncomingPhoneNumbers/{pn}.json",
            params={"SmsUrl": number_hook.url + "/number"},
        )  # fmt: skip
        V1(api).add_number(service, pn)
        sent = api.request("POST", sandbox, params={"From": handset, "To": LOCAL, "Body": "hi"})
        line.drain()
        assert number_hook.requests == []
    kept = fetched(api, body(sent)["sid"])
    assert (kept["status"], kept["messaging_service_sid"]) == ("received", service)
