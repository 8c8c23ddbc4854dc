"""Opt-out keywords, as carriers and Twilio handle them: a text that is only the keyword.

STOP, UNSUBSCRIBE, CANCEL, END, QUIT, STOPALL (and STOP ALL) opt the handset out of the
number it texted; START, YES, UNSTOP opt it back in; HELP (and INFO) asks for help. Case,
surrounding spaces and trailing punctuation do not matter; a longer text ("stop it!") is
an ordinary message.
"""

from enum import StrEnum


class Keyword(StrEnum):
    OPT_OUT = "opt-out"
    OPT_IN = "opt-in"
    HELP = "help"


_WORDS = {
    **dict.fromkeys(("STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "STOPALL"), Keyword.OPT_OUT),
    **dict.fromkeys(("START", "YES", "UNSTOP"), Keyword.OPT_IN),
    **dict.fromkeys(("HELP", "INFO"), Keyword.HELP),
}

# Twilio's default answers (Advanced Opt-Out's defaults, unverified word for word).
REPLIES = {
    Keyword.OPT_OUT: (
        "You have successfully been unsubscribed. You will not receive any more messages"
        " from this number. Reply START to resubscribe."
    ),
    Keyword.OPT_IN: (
        "You have successfully been re-subscribed to messages from this number. Reply HELP"
        " for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
    ),
    Keyword.HELP: "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
}


def keyword_of(body: str) -> Keyword | None:
    word = " ".join(body.split()).strip(" .!?").upper()
    return _WORDS.get(word.replace(" ", "")) if len(word) <= 12 else None
