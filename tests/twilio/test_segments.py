"""chalicelib.twilio.segments: exact segment boundaries, and agreement with a slow reference
splitter.

The expected numbers below are worked out by hand from Twilio's rules (GSM-7: 160 septets
alone, 153 per part; UCS-2: 70 UTF-16 units alone, 67 per part; an escape pair or a
surrogate pair is never split). The reference splitter is written here from 3GPP TS 23.038's
tables and shares no code with the module.
"""

import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chalicelib.twilio import segments
from chalicelib.twilio.segments import count_segments, encoding_of

# --- an independent statement of the GSM 03.38 alphabet ---------------------------------

# 3GPP TS 23.038 §6.2.1, the default alphabet in code order 0x00-0x7F; 0x1B is the escape to
# the extension table, not a character of text.
GSM7_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
REF_BASIC = frozenset(GSM7_TABLE) - {"\x1b"}
# §6.2.1.1, the extension table, by the code that follows ESC.
REF_EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
REF_EXTENSION_CHARS = frozenset(REF_EXTENSION.values())

# Look like they could be GSM-7 but are not (ç lowercase, grave accent, curly quote, tab,
# the bare escape code, Latin accents missing from the table), plus BMP and astral others.
NON_GSM_BMP = [
    "ç",
    "`",
    "\u2019",
    "\t",
    "\x1b",
    "á",
    "â",
    "ã",
    "ê",
    "í",
    "ó",
    "ú",
    "ж",
    "中",
    "\ufeff",
]
# Astral characters with high surrogates from every range D8xx-DBxx: emoji and 𝄞 are D83x,
# U+50000 is D900, U+A0000 is DA40, U+E0001 (a language tag) is DB40, U+10FFFF is DBFF.
ASTRAL = ["😀", "👍", "🎉", "𝄞", "🦄", "\U00050000", "\U000a0000", "\U000e0001", "\U0010ffff"]


def reference_segments(text: str) -> list[str]:
    """The segments a carrier would send, cut greedily, one character at a time.

    Cost of a character: in GSM-7, 2 septets for an extension character, else 1; in UCS-2,
    the number of UTF-16 code units it encodes to. A character is never cut, so a two-unit
    one that does not fit the room left goes whole to the next segment.
    """
    gsm = all(ch in REF_BASIC or ch in REF_EXTENSION_CHARS for ch in text)
    if gsm:
        single, part = 160, 153

        def cost(ch: str) -> int:
            return 2 if ch in REF_EXTENSION_CHARS else 1
    else:
        single, part = 70, 67

        def cost(ch: str) -> int:
            return len(ch.encode("utf-16-be")) // 2

    if sum(cost(ch) for ch in text) <= single:
        return [text]
    parts: list[str] = []
    current, used = "", 0
    for ch in text:
        if used + cost(ch) > part:
            parts.append(current)
            current, used = "", 0
        current += ch
        used += cost(ch)
    parts.append(current)
    # The cut is a real split of the text, and no part overflows.
    assert "".join(parts) == text
    assert all(sum(cost(ch) for ch in p) <= part for p in parts)
    return parts


# --- the alphabet ------------------------------------------------------------------------


def test_the_gsm7_tables_are_exactly_those_of_ts_23_038():
    assert len(GSM7_TABLE) == 128 and len(REF_BASIC) == 127
    assert set(segments.GSM7_BASIC) == REF_BASIC
    assert set(segments.GSM7_EXTENSION) == REF_EXTENSION_CHARS


@pytest.mark.parametrize("ch", sorted(REF_BASIC))
def test_every_basic_character_costs_one_septet(ch):
    assert encoding_of(ch * 161) == "GSM-7"
    assert count_segments(ch * 160) == 1
    assert count_segments(ch * 161) == 2


@pytest.mark.parametrize("ch", sorted(REF_EXTENSION_CHARS))
def test_every_extension_character_costs_two_septets(ch):
    assert encoding_of(ch) == "GSM-7"
    assert count_segments("a" * 158 + ch) == 1  # 160 septets
    assert count_segments("a" * 159 + ch) == 2  # 161 septets


@pytest.mark.parametrize("ch", NON_GSM_BMP + ASTRAL)
def test_one_non_gsm_character_makes_the_message_ucs2(ch):
    assert encoding_of("a" * 50 + ch) == "UCS-2"
    # 100 characters: one GSM-7 segment, but two UCS-2 segments.
    assert count_segments(ch + "a" * 99) == 2
    assert count_segments("a" * 99 + ch) == 2


def test_upper_c_cedilla_is_gsm7_but_lower_is_not():
    assert encoding_of("Ç") == "GSM-7" and count_segments("Ç" + "a" * 99) == 1
    assert encoding_of("ç") == "UCS-2" and count_segments("ç" + "a" * 99) == 2


def test_escape_code_itself_is_not_gsm7():
    assert encoding_of("\x1b") == "UCS-2"
    assert count_segments("\x1b" + "a" * 70) == 2


# --- exact boundaries --------------------------------------------------------------------


def test_empty_body_is_one_segment():
    assert count_segments("") == 1
    assert encoding_of("") == "GSM-7"


@pytest.mark.parametrize(
    ("length", "expected"),
    [(1, 1), (159, 1), (160, 1), (161, 2), (305, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_boundaries(length, expected):
    assert count_segments("a" * length) == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (80, 1),  # 160 septets
        (81, 2),  # 162 septets: 76 pairs (152) + 5 pairs
        (152, 2),  # 304 septets: 76 + 76 pairs
        (153, 3),  # 306 septets, but only 76 pairs fit a 153-septet part
    ],
)
def test_extension_characters_count_two_septets(count, expected):
    assert count_segments("{" * count) == expected


def test_escape_pair_that_fits_the_part_stays():
    # 151 + 2 = 153 fills part one; 153 more fill part two.
    assert count_segments("a" * 151 + "{" + "a" * 153) == 2
    assert count_segments("a" * 151 + "{" + "a" * 154) == 3


def test_escape_pair_straddling_153_moves_whole():
    # Part one takes 152 'a'; '{' does not fit the last septet, so part two is '{' + 151 'a'.
    assert count_segments("a" * 152 + "{" + "a" * 151) == 2
    # Same 306 septets as the case above, but a septet was lost: three parts, not two.
    assert count_segments("a" * 152 + "{" + "a" * 152) == 3
    # And at the second boundary: parts of 153, 152 (pair moved), then the rest.
    assert count_segments("a" * 153 + "a" * 152 + "~" + "a" * 151) == 3
    assert count_segments("a" * 153 + "a" * 152 + "~" + "a" * 152) == 4


@pytest.mark.parametrize(
    ("length", "expected"), [(1, 1), (70, 1), (71, 2), (133, 2), (134, 2), (135, 3), (201, 3)]
)
def test_ucs2_boundaries(length, expected):
    assert count_segments("ж" * length) == expected


def test_gsm_characters_in_a_ucs2_message_cost_one_unit():
    assert count_segments("ж" + "{" * 69) == 1
    assert count_segments("ж" + "{" * 70) == 2


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (34, 1),  # 68 units
        (35, 1),  # 70 units
        (36, 2),  # 72 units: 33 pairs (66) + 3 pairs
        (66, 2),  # 132 units: 33 + 33 pairs
        (67, 3),  # 134 units, but only 33 pairs fit a 67-unit part
    ],
)
def test_astral_emoji_count_two_units(count, expected):
    assert count_segments("😀" * count) == expected


def test_surrogate_pair_that_fits_the_part_stays():
    # 65 + 2 = 67 fills part one; 67 more fill part two.
    assert count_segments("ж" * 65 + "😀" + "ж" * 67) == 2
    assert count_segments("ж" * 65 + "😀" + "ж" * 68) == 3


@pytest.mark.parametrize("emoji", ASTRAL)
def test_surrogate_pair_straddling_67_moves_whole(emoji):
    assert len(emoji.encode("utf-16-le")) == 4
    # Alone it fits: 66 + 2 = 68 <= 70.
    assert count_segments("ж" * 66 + emoji) == 1
    # Split: part one takes 66 'ж', the pair goes whole to part two with 65 'ж'.
    assert count_segments("ж" * 66 + emoji + "ж" * 65) == 2
    # Same 134 units as the 65 + 2 + 67 case above, yet three parts.
    assert count_segments("ж" * 66 + emoji + "ж" * 66) == 3
    # At the second boundary: parts of 67, 66 (pair moved), then the rest.
    assert count_segments("ж" * 67 + "ж" * 66 + emoji + "ж" * 65) == 3
    assert count_segments("ж" * 67 + "ж" * 66 + emoji + "ж" * 66) == 4


def test_lone_surrogates_count_one_unit_each():
    # The form parser refuses these; the module still counts them sanely. A lone high
    # surrogate at the cut, not followed by a low one, is one unit and stays.
    assert count_segments("ж" * 66 + "\ud83d" + "ж" * 67) == 2
    # A lone high then a lone low surrogate are the same code units as a pair: moved whole.
    assert count_segments("ж" * 66 + "\ud83d\ude00" + "ж" * 65) == 2
    assert count_segments("ж" * 66 + "\ud83d\ude00" + "ж" * 66) == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a" * 1600, 11),  # 1600 septets / 153
        ("{" * 1600, 22),  # 3200 septets, 76 pairs a part
        ("a{" * 800, 16),  # 2400 septets, 51 'a{' (153) a part: ceil(800 / 51)
        ("ж" * 1600, 24),  # 1600 units / 67
        ("😀" * 1600, 49),  # 3200 units, 33 pairs a part
        ("ç" + "a" * 1599, 24),  # one non-GSM character: all 1600 as UCS-2
        ("😀" + "a" * 1599, 24),  # 1601 units: 67 * 23 = 1541, so still 24
    ],
)
def test_1600_character_bodies(body, expected):
    assert len(body) == 1600
    assert count_segments(body) == expected


# --- the reference splitter itself -------------------------------------------------------


def test_reference_splitter_moves_pairs_whole():
    parts = reference_segments("a" * 152 + "{" + "a" * 152)
    assert [len(p) for p in parts] == [152, 152, 1] and parts[1][0] == "{"
    parts = reference_segments("ж" * 66 + "😀" + "ж" * 66)
    assert [len(p) for p in parts] == [66, 66, 1] and parts[1][0] == "😀"


# --- property: agreement with the reference splitter -------------------------------------

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

BASIC = st.sampled_from(sorted(REF_BASIC))
EXTENSION = st.sampled_from(sorted(REF_EXTENSION_CHARS))
OTHER = st.sampled_from(NON_GSM_BMP)
EMOJI = st.sampled_from(ASTRAL)

# Mostly GSM-7 text with extension characters mixed in (so bodies stay GSM-7 often enough),
# and UCS-2 text with surrogate pairs; lengths up to and past 1600 characters.
gsm_text = st.lists(st.one_of(BASIC, BASIC, EXTENSION), max_size=700).map("".join)
mixed_text = st.lists(
    st.one_of(BASIC, EXTENSION, OTHER, EMOJI, EMOJI), min_size=1, max_size=700
).map("".join)
runs = st.lists(
    st.tuples(st.one_of(BASIC, EXTENSION, OTHER, EMOJI), st.integers(1, 160)), max_size=12
).map(lambda rs: "".join(ch * n for ch, n in rs))
# Any text Herald accepts: every code point but lone surrogates (the form parser refuses them).
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
# GSM-7 text made UCS-2 by a single character somewhere in it.
one_odd = st.builds(
    lambda text, odd, at: text[:at] + odd + text[at:],
    gsm_text,
    st.one_of(OTHER, EMOJI),
    st.integers(0, 700),
)


@st.composite
def near_edges(draw):
    """Text whose cost is within a few units of a segment edge, with two-unit characters
    (escape pairs or surrogate pairs) at random places, often right on an edge."""
    gsm = draw(st.booleans())
    single, part = (160, 153) if gsm else (70, 67)
    edges = [single, part, 2 * part, 3 * part, 10 * part]
    total = draw(st.sampled_from(edges)) + draw(st.sampled_from([0, 0, -1, 1, -2, 2, -3, 3]))
    fill = draw(BASIC if gsm else st.sampled_from(["ж", "ç", "\x1b"]))
    double = EXTENSION if gsm else EMOJI
    starts = draw(
        st.sets(
            st.sampled_from([e + d for e in edges for d in (-2, -1, 0)]) | st.integers(0, total),
            max_size=4,
        )
    )
    text, used = [], 0
    while used < total:
        if used in starts and used + 2 <= total:
            text.append(draw(double))
            used += 2
        else:
            text.append(fill)
            used += 1
    return "".join(text)


bodies = st.one_of(gsm_text, mixed_text, one_odd, runs, near_edges(), any_text)


@PROPERTY
@given(bodies)
@example("")
@example("a" * 158 + "{")
@example("a" * 159 + "{")
@example("\x1b" + "a" * 70)
@example("a" * 152 + "{" + "a" * 152)
@example("ж" * 66 + "😀" + "ж" * 66)
@example("😀" * 1600)
def test_count_segments_agrees_with_the_reference_splitter(text):
    expected_encoding = (
        "GSM-7" if all(c in REF_BASIC or c in REF_EXTENSION_CHARS for c in text) else "UCS-2"
    )
    assert encoding_of(text) == expected_encoding
    assert count_segments(text) == len(reference_segments(text))


@PROPERTY
@given(near_edges())
def test_count_segments_agrees_with_the_reference_splitter_at_the_edges(text):
    assert count_segments(text) == len(reference_segments(text))


@PROPERTY
@given(st.integers(0, 1600), st.booleans())
def test_segment_count_of_single_unit_text_is_the_closed_form(length, gsm):
    text = ("a" if gsm else "ж") * length
    single, part = (160, 153) if gsm else (70, 67)
    assert count_segments(text) == (1 if length <= single else math.ceil(length / part))


@PROPERTY
@given(bodies, st.one_of(BASIC, EXTENSION, OTHER, EMOJI))
def test_a_longer_body_never_takes_fewer_segments(text, ch):
    # Holds across the switch to UCS-2 too: 67 UTF-16 units never hold more than the 76
    # characters a GSM-7 segment holds at worst.
    assert count_segments(text + ch) >= count_segments(text)
    assert count_segments(ch + text) >= count_segments(text)
