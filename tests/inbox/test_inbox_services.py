"""Herald Inbox's Messaging Services section in a real browser (headless Chromium through
Playwright, against a live Herald): it lists the account's services and their numbers,
creates a service and adds a number to one through the API, and axe-core finds no serious or
critical violation with it open."""

import pytest

from tests.inbox import test_browser as inbox
from tests.inbox.test_browser import axe_violations, expect_text, signed_in

# The inbox tests' fixtures: a live Herald with the app's receiver, and a checked page.
herald, page = inbox.herald, inbox.page

pytestmark = [pytest.mark.server, pytest.mark.browser]


def open_section(page):
    page.locator("#services-box summary").click()
    page.locator("#services-box[open]").wait_for()


def test_services_are_listed_created_and_given_numbers(page, herald):
    account = herald.account()
    client = herald.client(account)
    client.messaging.base_url = herald.url + "/messaging"
    existing = client.messaging.v1.services.create(friendly_name="Reminders")
    number = client.incoming_phone_numbers.create(phone_number="+14155550131")
    client.messaging.v1.services(existing.sid).phone_numbers.create(phone_number_sid=number.sid)
    other = client.incoming_phone_numbers.create(phone_number="+14155550132")

    signed_in(page, herald, account)
    open_section(page)
    listed = page.locator(f'#services li[data-sid="{existing.sid}"]')
    expect_text(listed, "Reminders")
    expect_text(listed, "+14155550131")

    page.get_by_label("New service's name").fill("Alerts")
    page.get_by_role("button", name="Create service").click()
    expect_text(page.locator("#services"), "Alerts")
    made = [s for s in client.messaging.v1.services.list() if s.friendly_name == "Alerts"]
    assert len(made) == 1

    page.get_by_label("Service", exact=True).select_option(made[0].sid)
    page.get_by_label("Number", exact=True).select_option(other.sid)
    page.get_by_role("button", name="Add number to service").click()
    expect_text(page.locator(f'#services li[data-sid="{made[0].sid}"]'), "+14155550132")
    numbers = client.messaging.v1.services(made[0].sid).phone_numbers.list()
    assert [n.phone_number for n in numbers] == ["+14155550132"]

    # A number already in a service: the API's refusal, in Twilio's words, on the page.
    page.get_by_label("Service", exact=True).select_option(made[0].sid)
    page.get_by_label("Number", exact=True).select_option(number.sid)
    page.get_by_role("button", name="Add number to service").click()
    expect_text(page.locator("#services-error"), "Error 21712")


def test_the_services_section_is_accessible(browser, herald, axe_script):
    account = herald.account()
    client = herald.client(account)
    client.messaging.base_url = herald.url + "/messaging"
    service = client.messaging.v1.services.create(friendly_name="Reminders")
    number = client.incoming_phone_numbers.create(phone_number="+14155550133")
    client.messaging.v1.services(service.sid).phone_numbers.create(phone_number_sid=number.sid)
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    try:
        signed_in(page, herald, account)
        open_section(page)
        expect_text(page.locator("#services"), "+14155550133")
        assert axe_violations(page, axe_script) == []
    finally:
        context.close()
