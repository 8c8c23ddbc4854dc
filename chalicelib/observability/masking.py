"""What may be written about a person: masked addresses, URLs without their secrets, and a
last-resort scrub of free text.

Rules (docs/operations.md):
- A phone number keeps its country calling code and its last 2 digits, every other digit a
  `*`: `+14155550100` → `+1********00`. Enough to see which country a failure is about and
  to tell two numbers apart in one investigation; not enough to call anyone.
- `whatsapp:` (any channel prefix) keeps its prefix and masks the number the same way.
- Alphanumeric sender IDs ("Herald") and short codes are a business's, not a person's: kept.
- Anything else that may be an address keeps its last 2 characters.
- A URL keeps its scheme, host, port and path: never its query string, fragment or user
  info, where a receiver puts its own secrets.
- Free text (an exception, a logged message) has every run of 7 or more digits masked as a
  phone number. Message bodies, tokens, secrets and Authorization headers are never passed
  here: nothing in chalicelib/observability has a field for them.
"""

import functools
import re
from urllib.parse import urlsplit

# Country calling codes are prefix-free (ITU-T E.164): 1 and 7 are one digit, these are
# two, every other is three. tests/observability/test_lines.py checks this against libphonenumber.
_TWO_DIGIT_CODES = frozenset(
    {20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54,
     55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98}
)  # fmt: skip
KEEP_LAST = 2


@functools.cache
def _patterns() -> dict[str, re.Pattern]:
    # Compiled on first use, not at import: a cold start that writes no address or free
    # text (most API requests) never pays for them.
    return {
        "alphanumeric": re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}\Z"),
        "short code": re.compile(r"\d{3,6}\Z"),
        "channel": re.compile(r"([a-z][a-z0-9-]{0,19}:)(.*)\Z", re.IGNORECASE | re.DOTALL),
        # 7 to 15 digits (optionally after a '+') not inside a longer word: a Sid's hex or a
        # number with more digits around it is left alone.
        "digit run": re.compile(r"(?<![\w+])\+?\d{7,15}(?!\w)"),
    }


def calling_code(digits: str) -> str:
    """The country calling code at the start of an E.164 number's digits."""
    if digits[:1] in ("1", "7"):
        return digits[:1]
    if digits[:2].isdigit() and int(digits[:2]) in _TWO_DIGIT_CODES:
        return digits[:2]
    return digits[:3]


def mask_number(number: str) -> str:
    """`+14155550100` → `+1********00`; digits without a '+' keep their last 2 only."""
    if number.startswith("+") and number[1:].isdigit():
        digits = number[1:]
        code = calling_code(digits)
        hidden = max(0, len(digits) - len(code) - KEEP_LAST)
        return "+" + code + "*" * hidden + digits[len(code) + hidden :]
    return _keep_last(number)


def mask_address(address: str | None) -> str | None:
    """A To or From address as logs may show it (see the module's rules)."""
    if address is None:
        return None
    address = str(address)
    patterns = _patterns()
    if patterns["alphanumeric"].match(address) or patterns["short code"].match(address):
        return address
    channel = patterns["channel"].match(address)
    if channel:
        return channel.group(1) + mask_number(channel.group(2))
    return mask_number(address)


def mask_url(url: str | None) -> str | None:
    """scheme://host[:port]/path: no query string, fragment or user info."""
    if url is None:
        return None
    try:
        parts = urlsplit(str(url))
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable url>"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def scrub(text: str | None) -> str | None:
    """Free text with every phone-number-like run of digits masked."""
    if text is None:
        return None
    return _patterns()["digit run"].sub(lambda found: mask_number(found.group(0)), str(text))


def _keep_last(text: str) -> str:
    return "*" * max(0, len(text) - KEEP_LAST) + text[-KEEP_LAST:]
