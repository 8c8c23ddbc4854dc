"""Texts that arrive: from End User Messaging's two-way topic, or the sandbox's handset.

    receive.py    an inbound text becomes an `inbound` message of the number's owner, once
    keywords.py   STOP, START and HELP, as carriers and Twilio read them
    replies.py    the replies an inbound text gets (TwiML's, keyword answers), made once
    webhook.py    the number's SmsUrl called, signed, and its TwiML answer followed
    twiml.py      messaging TwiML read as Twilio reads it
    handset.py    the sandbox's handset: a text queued as End User Messaging would queue it

The delivery functions hand texts (the receipt queue) and webhook jobs (the callback queue)
to this package; it makes its replies through chalicelib.messages, like every message.
"""
