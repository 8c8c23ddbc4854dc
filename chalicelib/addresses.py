"""To and From addresses as Twilio accepts them: E.164 numbers, `whatsapp:` numbers and
alphanumeric sender IDs, normalised to the form Herald stores and filters on."""

import re

CHANNEL_PREFIXES = ("whatsapp:",)
# Twilio's alphanumeric sender IDs: 1-11 of A-Z a-z 0-9 and space, at least one letter.
# \Z, not $: `$` also matches before a trailing newline, which would let "Herald\n" through.
ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}\Z")


def normalize_number(text: str) -> str | None:
    """The E.164 form of a phone number written with a leading '+', or None."""
    text = text.strip()
    if not text.startswith("+"):
        return None
    # Imported on first use, not at module load: libphonenumber is the largest import in
    # the bundle, and a Lambda cold start that serves a fetch or a delete never needs it.
    import phonenumbers

    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
