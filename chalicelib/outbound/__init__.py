"""Outbound HTTP: every call Herald makes to a URL its users gave it (status callbacks,
inbound-message webhooks, media fetches), bounded and guarded the same way.

    client.py       one call, `request()` (and `twilio_request()`, signed as Twilio signs):
                    its limits, its answer, and the rules every call follows
    addresses.py    where a call may go: the URL read, the host resolved once, every address
                    vetted (the SSRF guard) and the connection pinned to the checked one
    http.py         the HTTP/1.1 exchange over that connection: TLS, request, answer parser
    signing.py      X-Twilio-Signature, exactly as Twilio signs
    media_fetch.py  a message's media, fetched within Twilio's limits for a carrier

Stdlib only, and nothing is imported here: a function that only checks a URL
(addresses.is_callable) never loads the rest.
"""
