"""Twilio's wire conventions, which every resource shares:

    codes.py      every Twilio error code Herald answers or records, with its meaning: the
                  one registry, which every path names its codes from
    errors.py     Twilio's error JSON (TwilioError) and the answers every route may give
    forms.py      request parameters from a form, a JSON object or a query string
    paging.py     Twilio's page JSON and opaque, tamper-evident PageTokens
    addresses.py  To and From addresses as Twilio accepts them (E.164, whatsapp:, sender IDs)
    segments.py   how many SMS segments a body takes
    dates.py      RFC 2822 out, ISO 8601 in
    sids.py       resource identifiers
    paths.py      the API's version and the account's path every resource's URI starts with

Stdlib (and phonenumbers) only; nothing here imports the rest of Herald.
"""
