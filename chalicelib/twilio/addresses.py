"""To and From addresses as Twilio accepts them: E.164 numbers, `whatsapp:` numbers and
alphanumeric sender IDs, normalised to the form Herald stores and filters on.

A phone number is written as `+` and its digits; spaces, dashes, dots and parentheses
between them are dropped, as Twilio accepts them (`+1 (415) 555-0100`). Nothing else is: a
letter (libphonenumber would read `+1415555O1OO` as the vanity number +14155556166), an
extension (`ext 5`, `;ext=1`, `x5`: it would drop them), another script's digits, or a
national trunk prefix such as the `(0)` of `+44 (0)20 …` (it would drop the 0). Such a number
is refused, never rewritten into one the user did not write: the stored number is always
exactly `+` and the digits given.
"""

import re

CHANNEL_PREFIXES = ("whatsapp:",)
# Twilio's alphanumeric sender IDs: 1-11 of A-Z a-z 0-9 and space, at least one letter.
# \Z, not $: `$` also matches before a trailing newline, which would let "Herald\n" through.
ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}\Z")
# `+`, then ASCII digits with the separators Twilio accepts between them.
WRITTEN_NUMBER = re.compile(r"\+[0-9 ().\-]*[0-9][0-9 ().\-]*\Z")
_SEPARATORS = str.maketrans("", "", " ().-")


def normalize_number(text: str) -> str | None:
    """The E.164 form of a phone number written as `+` and digits (the module's rules), or
    None."""
    text = text.strip(" ")
    if not WRITTEN_NUMBER.match(text):
        return None
    e164 = "+" + text[1:].translate(_SEPARATORS)
    # Imported on first use, not at module load: libphonenumber is the largest import in
    # the bundle, and a Lambda cold start that serves a fetch or a delete never needs it.
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) != e164:
        return None  # libphonenumber dropped a digit (a trunk prefix): not what was written
    return e164


def normalize_address(text: str, allow_alphanumeric: bool = False) -> str | None:
    """A stored address: `+E164`, `whatsapp:+E164` or (for senders) an alphanumeric ID."""
    for prefix in CHANNEL_PREFIXES:
        if text.lower().startswith(prefix):
            number = normalize_number(text[len(prefix) :])
            return prefix + number if number else None
    number = normalize_number(text)
    if number:
        return number
    if allow_alphanumeric and ALPHANUMERIC_SENDER.match(text):
        return text
    return None


def region_of(number: str) -> str | None:
    """The ISO country code of an E.164 number (FromCountry/ToCountry), or None."""
    if not number.startswith("+"):
        return None
    import phonenumbers

    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None)) or None
    except phonenumbers.NumberParseException:
        return None
