"""How many SMS segments a body takes, the way carriers (and Twilio) count them.

GSM-7: 160 septets in one segment, 153 per segment once split; a character of the
extension table costs two septets (escape + character) and an escape pair is never split.
Any other character makes the whole message UCS-2: 70 UTF-16 units in one segment, 67 per
segment once split, and a surrogate pair is never split.
"""

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[]~|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def encoding_of(body: str) -> str:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in body):
        return "GSM-7"
    return "UCS-2"


def _costs(body: str) -> tuple[list[int], int, int]:
    if encoding_of(body) == "GSM-7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in body], GSM7_SINGLE, GSM7_PART
    return [2 if ord(ch) > 0xFFFF else 1 for ch in body], UCS2_SINGLE, UCS2_PART


def count_segments(body: str) -> int:
    """Segments for `body`; an empty body (a media-only message) counts as one."""
    costs, single, part = _costs(body)
    if sum(costs) <= single:
        return 1
    segments, room = 1, part
    for cost in costs:
        if cost > room:
            segments, room = segments + 1, part
        room -= cost
    return segments
