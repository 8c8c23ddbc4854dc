"""The expressions tests/devtools/test_memory_expressions.py runs on moto, on dynalite and
through devtools/memory_aws/expressions.py: Herald's own (chalicelib/storage), each on the item
states it meets, and a spread of DynamoDB's semantics around them.

A case is (id, item before, expression, names, values), as pytest parameters; an item None
is no item. A projection case has no values; a query case no item (it reads SORT_KEYS).
"""

import pytest

from chalicelib.storage import marshal


# DynamoDB's type names, as the wire writes them.
def S(text):
    return {"S": text}


def N(text):
    return {"N": text}


def B(data):
    return {"B": data}


def L(*elements):
    return {"L": list(elements)}


def M(**entries):
    return {"M": entries}


TRUE, NULL = {"BOOL": True}, {"NULL": True}
NONE = {"L": []}

ITEM = {
    "s": S("hello"), "s2": S("hello"), "e": S("é"), "emoji": S("😀"), "n": N("12"),
    "n2": N("12.0"), "neg": N("-3.5"), "b": B(b"\x01\x02\x03"), "t": TRUE, "z": NULL,
    "l": L(S("x"), N("1"), M(k=S("v"))), "m": M(a=M(b=L(N("1"), N("2"))), s=S("inner")),
    "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"\x01", b"\x02"]},
    "hollow": L(), "hist": L(M(status=S("queued"))),
}  # fmt: skip

# --- Herald's expressions ----------------------------------------------------------------------

MESSAGE = {
    "account_sid": S("AC1"), "sid": S("SM1"), "status": S("queued"), "created_ms": N("1000"),
    "history": L(M(status=S("queued"), at_ms=N("1000"))), "lk": S("0001"), "attempts": N("1"),
    "media_urls": L(S("u0"), S("u1"), S("u2")), "media_sids": L(S("ME0"), S("ME1"), S("ME2")),
    "media_types": L(S("t0"), S("t1"), S("t2")), "claim": S("c1"), "idem_digest": S("d1"),
}  # fmt: skip
STAND_IN = {"stand_in": S("deleted"), "expires_at": N("500"), "idem_digest": S("d1")}
ACCOUNT = {"token_hash": S("h"), "created_ms": N("5"), "list_shards": N("1")}
WITH_SENDERS = {**ACCOUNT, "senders": M(default=S("id0"))}
SERVICE = {"revision": N("3"), "friendly_name": S("x"), "inbound_request_url": S("u")}
OWNER = {"sid": S("PN1"), "account_sid": S("AC1"), "service_sid": S("MG1")}
IS_MESSAGE = "attribute_exists(pk) AND attribute_not_exists(stand_in)"
MESSAGE_STATES = [("none", None), ("message", MESSAGE), ("stand_in", STAND_IN)]
MESSAGE_STATES += [("sending", {**MESSAGE, "status": S("sending")})]
MESSAGE_STATES += [("marked", {**MESSAGE, "status": S("sent"), "receipt": TRUE})]

NOW = {":now": N("1000")}
STATUS = {"#status": "status"}
STATUSES = {":s0": S("queued"), ":s1": S("scheduled")}
MARKED = f"({IS_MESSAGE}) AND (#status IN (:s0) OR (#status = :m0 AND attribute_exists(#m0)))"
NOT_REFUSED = (
    "NOT #status IN (:r0, :r1) AND (attribute_not_exists(#digest) OR created_ms < :recent)"
)
DELETE_NAMES = {"#status": "status", "#digest": "idem_digest"}
DELETE_VALUES = {":r0": S("sending"), ":r1": S("sent"), ":recent": N("2000")}
SERVICE_CHECK = "attribute_exists(pk) AND #rev = :rev AND attribute_not_exists(deleting)"

HERALD_CONDITIONS = [
    ("attribute_not_exists(pk)", None, None, [("none", None), ("message", MESSAGE)]),
    (
        "attribute_not_exists(pk) OR (attribute_exists(stand_in) AND expires_at < :now)",
        None, NOW, [*MESSAGE_STATES, ("live_stand_in", {**STAND_IN, "expires_at": N("5000")})],
    ),
    (f"{IS_MESSAGE} AND #status IN (:s0, :s1)", STATUS, STATUSES, MESSAGE_STATES),
    (MARKED, {**STATUS, "#m0": "receipt"}, {":s0": S("queued"), ":m0": S("sent")}, MESSAGE_STATES),
    (
        f"{IS_MESSAGE} AND #status IN (:s0)"
        " AND (attribute_not_exists(attempts) OR attempts = :seen)",
        STATUS, {":s0": S("sending"), ":seen": N("1")}, MESSAGE_STATES,
    ),
    (f"{IS_MESSAGE} AND #status IN (:s0) AND (claim = :claim)", STATUS,
     {":s0": S("sending"), ":claim": S("c1")}, MESSAGE_STATES),
    (f"{IS_MESSAGE} AND {NOT_REFUSED}", DELETE_NAMES, DELETE_VALUES, MESSAGE_STATES),
    (f"{IS_MESSAGE} AND #digest = :digest AND NOT #status IN (:r0, :r1)", DELETE_NAMES,
     {":r0": S("sending"), ":r1": S("sent"), ":digest": S("d1")}, MESSAGE_STATES),
    (f"{IS_MESSAGE} AND media_sids[1] = :media", None, {":media": S("ME1")}, MESSAGE_STATES),
    ("list_shards = :current", None, {":current": N("1")}, [("account", ACCOUNT), ("none", None)]),
    ("attribute_exists(pk) AND attribute_not_exists(list_shards)", None, None,
     [("account", ACCOUNT), ("bare", {"token_hash": S("h")}), ("none", None)]),
    ("attribute_exists(pk) AND attribute_exists(#senders)", {"#senders": "senders"}, None,
     [("account", ACCOUNT), ("senders", WITH_SENDERS), ("none", None)]),
    ("attribute_exists(pk) AND attribute_not_exists(#senders)", {"#senders": "senders"}, None,
     [("account", ACCOUNT), ("senders", WITH_SENDERS), ("none", None)]),
    (SERVICE_CHECK, {"#rev": "revision"}, {":rev": N("3")},
     [("service", SERVICE), ("deleting", {**SERVICE, "deleting": TRUE}), ("none", None)]),
    ("attribute_exists(pk) AND #sid = :pn AND account_sid = :ac"
     " AND attribute_not_exists(service_sid)",
     {"#sid": "sid"}, {":pn": S("PN1"), ":ac": S("AC1")},
     [("linked", OWNER), ("free", {"sid": S("PN1"), "account_sid": S("AC1")}), ("none", None)]),
    ("service_sid = :mg", None, {":mg": S("MG1")}, [("linked", OWNER), ("none", None)]),
    ("attribute_not_exists(pk) OR (#sid = :sid AND attribute_not_exists(service_sid))",
     {"#sid": "sid"}, {":sid": S("PN1")}, [("linked", OWNER), ("none", None)]),
    ("#sid = :sid AND service_sid = :mg", {"#sid": "sid"}, {":sid": S("PN1"), ":mg": S("MG1")},
     [("linked", OWNER), ("none", None)]),
    ("attribute_not_exists(pk) OR #from = :old", {"#from": "from"}, {":old": S("+1")},
     [("none", None), ("same", {"from": S("+1")}), ("other", {"from": S("+2")})]),
    ("#lk = :lk AND attribute_not_exists(#new_sent)", {"#lk": "lk", "#new_sent": "sent_at_ms"},
     {":lk": S("0001")}, [("message", MESSAGE), ("sent", {**MESSAGE, "sent_at_ms": N("9")})]),
    ("#sent BETWEEN :first AND :last", {"#sent": "sent_ms"}, {":first": N("5"), ":last": N("9")},
     [("in", {"sent_ms": N("7")}), ("out", {"sent_ms": N("10")}), ("none", {})]),
    ("attribute_not_exists(#sent) OR #sent BETWEEN :first AND :last", {"#sent": "sent_ms"},
     {":first": N("5"), ":last": N("9")},
     [("in", {"sent_ms": N("7")}), ("out", {"sent_ms": N("10")}), ("none", {})]),
    ("sk = :message OR sk = :idem", None, {":message": S("k"), ":idem": S("idem")}, [("k", {})]),
]  # fmt: skip

HISTORY = "#history = list_append(if_not_exists(#history, :none), :history)"
TRANSITION = f"SET #f0 = :v0, #f1 = :v1, {HISTORY} REMOVE #r0, #r1"
TRANSITION_NAMES = {"#f0": "status", "#f1": "updated_ms", "#history": "history",
                    "#r0": "receipt", "#r1": "due_pk"}  # fmt: skip
TRANSITION_VALUES = {":v0": S("sent"), ":v1": N("2000"), ":none": NONE,
                     ":history": L(M(status=S("sent"), at_ms=N("2000")))}  # fmt: skip
PUT_ACCOUNT = (
    "SET token_hash = :hash, token_ciphertext = :cipher,"
    " created_ms = if_not_exists(created_ms, :created),"
    " list_shards = if_not_exists(list_shards, :shards)"
)
_names: dict = {}
_values: dict = {}
CHANGES = marshal.update_expression(
    {"friendly_name": "y", "inbound_request_url": None, "revision": 4}, _names, _values
)

HERALD_UPDATES = [
    (TRANSITION, TRANSITION_NAMES, TRANSITION_VALUES,
     [("message", MESSAGE), ("no_history", {"status": S("queued")}),
      ("marked", {"receipt": TRUE})]),
    ("SET #f0 = :v0", {"#f0": "feedback"}, {":v0": S("x")}, [("message", MESSAGE)]),
    (PUT_ACCOUNT, None,
     {":hash": S("h2"), ":cipher": S("c"), ":created": N("9"), ":shards": N("1")},
     [("none", None), ("account", ACCOUNT)]),
    ("SET list_shards = :n, list_shards_previous = :w, list_shards_from_ms = :at", None,
     {":n": N("4"), ":w": N("1"), ":at": N("77")}, [("account", ACCOUNT)]),
    ("SET #senders.#key = :identity", {"#senders": "senders", "#key": "MG1"},
     {":identity": S("id1")}, [("senders", WITH_SENDERS), ("account", ACCOUNT)]),
    ("SET #senders = :identity", {"#senders": "senders"}, {":identity": M(default=S("id1"))},
     [("account", ACCOUNT)]),
    ("SET revoked = :t", None, {":t": TRUE}, [("key", {"revoked": {"BOOL": False}})]),
    ("SET deleting = :yes", None, {":yes": TRUE}, [("service", SERVICE)]),
    (CHANGES, _names, _values, [("service", SERVICE)]),
    ("REMOVE media_urls[1], media_sids[1], media_types[1]", None, None, [("message", MESSAGE)]),
    ("SET service_sid = :mg", None, {":mg": S("MG2")}, [("owner", {"sid": S("PN1")})]),
    ("REMOVE service_sid", None, None, [("linked", OWNER)]),
    ("SET #c0 = :c0 REMOVE #r0", {"#c0": "lk", "#r0": "sent_ms"}, {":c0": S("0002")},
     [("message", {**MESSAGE, "sent_ms": N("5")})]),
]  # fmt: skip


def _expand(herald: list) -> list:
    return [
        pytest_param(f"herald{index}-{state}", item, expression, names, values)
        for index, (expression, names, values, states) in enumerate(herald)
        for state, item in states
    ]


def pytest_param(case_id, *case):
    return pytest.param(case_id, *case, id=case_id)


# --- DynamoDB's semantics --------------------------------------------------------------------


def _c(case_id, expression, values=None, names=None, item=ITEM):
    return pytest_param(case_id, item, expression, names, values)


CONDITIONS = [
    *_expand(HERALD_CONDITIONS),
    _c("n-eq", "n = :v", {":v": N("12")}),
    _c("n-eq-decimal", "n = :v", {":v": N("12.00")}),
    _c("n-eq-other", "n = :v", {":v": N("13")}),
    _c("n-eq-string", "n = :v", {":v": S("12")}),
    _c("n-eq-path", "n = n2"),
    _c("n-lt-numeric", "n < :v", {":v": N("100")}),
    _c("n-le", "n <= :v", {":v": N("11.99")}),
    _c("n-ge", "n >= :v", {":v": N("12")}),
    _c("neg-lt", "neg < :v", {":v": N("-3.4")}),
    _c("s-lt", "s < :v", {":v": S("world")}),
    _c("s-gt-accent", "e > :v", {":v": S("z")}),
    _c("s-gt-astral", "emoji > :v", {":v": S("\uffff")}),
    _c("b-lt", "b < :v", {":v": B(b"\x01\x02\x04")}),
    _c("b-lt-unsigned", "b < :v", {":v": B(b"\x80")}),
    _c("bool-lt", "t < :v", {":v": TRUE}),
    _c("n-lt-string", "n < :v", {":v": S("99")}),
    _c("s-ne-same", "s <> :v", {":v": S("hello")}),
    _c("s-ne-string-path", "s <> s2"),
    _c("n-ne-string", "n <> :v", {":v": S("12")}),
    _c("missing-ne", "gone <> :v", {":v": S("x")}),
    _c("missing-eq", "gone = :v", {":v": S("x")}),
    _c("missing-lt", "gone < :v", {":v": N("1")}),
    _c("missing-both-ne", "gone <> nope"),
    _c("ss-eq-unordered", "ss = :v", {":v": {"SS": ["b", "a"]}}),
    _c("ns-eq-unordered", "ns = :v", {":v": {"NS": ["2.5", "1"]}}),
    _c("l-eq", "l = :v", {":v": L(S("x"), N("1"), M(k=S("v")))}),
    _c("l-eq-order", "l = :v", {":v": L(N("1"), S("x"), M(k=S("v")))}),
    _c("m-eq", "m.a = :v", {":v": M(b=L(N("1"), N("2")))}),
    _c("null-eq", "z = :v", {":v": NULL}),
    _c("bool-eq", "t = :v", {":v": TRUE}),
    _c("nested-index", "m.a.b[1] = :v", {":v": N("2")}),
    _c("nested-index-past", "m.a.b[5] = :v", {":v": N("2")}),
    _c("nested-list-map", "l[2].k = :v", {":v": S("v")}),
    _c("nested-names", "#m.#a.b[0] = :v", {":v": N("1")}, {"#m": "m", "#a": "a"}),
    _c("nested-through-scalar", "s.x = :v", {":v": N("1")}),
    _c("between", "n BETWEEN :a AND :b", {":a": N("1"), ":b": N("100")}),
    _c("between-out", "n BETWEEN :a AND :b", {":a": N("13"), ":b": N("100")}),
    _c("between-edges", "n BETWEEN :a AND :b", {":a": N("12"), ":b": N("12.0")}),
    _c("between-strings", "s BETWEEN :a AND :b", {":a": S("a"), ":b": S("z")}),
    _c("between-type", "n BETWEEN :a AND :b", {":a": S("1"), ":b": S("9")}),
    _c("between-missing", "gone BETWEEN :a AND :b", {":a": N("1"), ":b": N("2")}),
    _c("in", "s IN (:a, :b)", {":a": S("x"), ":b": S("hello")}),
    _c("in-number", "n IN (:a)", {":a": N("12.0")}),
    _c("in-none", "s IN (:a, :b)", {":a": S("x"), ":b": S("y")}),
    _c("in-missing", "gone IN (:a)", {":a": S("x")}),
    _c("not-and", "NOT s = :a AND n = :b", {":a": S("x"), ":b": N("12")}),
    _c("or-and", "s = :a OR n = :b AND n = :c", {":a": S("hello"), ":b": N("1"), ":c": N("2")}),
    _c("and-or", "n = :b AND n = :c OR s = :a", {":a": S("hello"), ":b": N("1"), ":c": N("2")}),
    _c("parens", "(s = :a OR n = :b) AND n = :c", {":a": S("hello"), ":b": N("1"), ":c": N("2")}),
    _c("not-parens", "NOT (s = :a OR n = :b)", {":a": S("x"), ":b": N("1")}),
    _c("not-not", "NOT NOT s = :a", {":a": S("hello")}),
    _c("not-or", "NOT s = :a OR s = :b", {":a": S("hello"), ":b": S("hello")}),
    _c("lowercase", "s = :a and not n = :b or t = :c", {":a": S("x"), ":b": N("1"), ":c": TRUE}),
    _c("exists-nested", "attribute_exists(m.a.b[1])"),
    _c("not-exists-nested", "attribute_not_exists(m.a.b[9])"),
    _c("exists-list-map", "attribute_exists(l[2].k)"),
    _c("exists-null", "attribute_exists(z)"),
    _c("type-ns", "attribute_type(ns, :t)", {":t": S("NS")}),
    _c("type-null", "attribute_type(z, :t)", {":t": S("NULL")}),
    _c("type-other", "attribute_type(n, :t)", {":t": S("S")}),
    _c("begins", "begins_with(s, :p)", {":p": S("he")}),
    _c("begins-not", "begins_with(s, :p)", {":p": S("lo")}),
    _c("begins-binary", "begins_with(b, :p)", {":p": B(b"\x01\x02")}),
    _c("begins-number", "begins_with(n, :p)", {":p": S("1")}),
    _c("begins-missing", "begins_with(gone, :p)", {":p": S("1")}),
    _c("contains-s", "contains(s, :p)", {":p": S("ell")}),
    _c("contains-ss", "contains(ss, :p)", {":p": S("a")}),
    _c("contains-ss-partial", "contains(ss, :p)", {":p": S("ab")}),
    _c("contains-ns", "contains(ns, :p)", {":p": N("2.50")}),
    _c("contains-bs", "contains(bs, :p)", {":p": B(b"\x01")}),
    _c("contains-l", "contains(l, :p)", {":p": S("x")}),
    _c("contains-l-map", "contains(l, :p)", {":p": M(k=S("v"))}),
    _c("contains-s-number", "contains(s, :p)", {":p": N("1")}),
    _c("contains-b", "contains(b, :p)", {":p": B(b"\x02\x03")}),
    _c("contains-path", "contains(s, e)"),
    _c("size-s", "size(s) = :v", {":v": N("5")}),
    _c("size-astral", "size(emoji) = :v", {":v": N("1")}),
    _c("size-b", "size(b) = :v", {":v": N("3")}),
    _c("size-l", "size(l) = :v", {":v": N("3")}),
    _c("size-m", "size(m) = :v", {":v": N("2")}),
    _c("size-ss", "size(ss) > :v", {":v": N("1")}),
    _c("size-empty", "size(hollow) = :v", {":v": N("0")}),
    _c("size-missing", "size(gone) = :v", {":v": N("0")}),
    _c("size-number", "size(n) > :v", {":v": N("-1")}),
    _c("size-both", "size(s) = size(s2)"),
    _c("absent-not-exists", "attribute_not_exists(pk)", item=None),
    _c("absent-exists", "attribute_exists(pk)", item=None),
    _c("absent-not-eq", "NOT s = :a", {":a": S("x")}, item=None),
    _c("absent-ne", "s <> :a", {":a": S("x")}, item=None),
]


def _u(case_id, expression, values=None, names=None, item=ITEM):
    return pytest_param(case_id, item, expression, names, values)


ONE, TWO = {":one": N("1")}, {":a": S("A"), ":b": S("B")}
UPDATES = [
    *_expand(HERALD_UPDATES),
    _u("add-n", "SET n = n + :one", ONE),
    _u("sub-decimal", "SET n = n - :v", {":v": N("0.25")}),
    _u("sub-to-zero", "SET n = n - :v", {":v": N("12.00")}),
    _u("decimal-sum", "SET neg = neg + :v", {":v": N("3.6")}),
    _u("counter-missing", "SET c = if_not_exists(c, :zero) + :one", {":zero": N("0"), **ONE}),
    _u("counter-present", "SET n = if_not_exists(n, :zero) + :one", {":zero": N("0"), **ONE}),
    _u("values-sum", "SET c = :a + :b", {":a": N("1"), ":b": N("2")}),
    _u("path-sum", "SET c = n + n2"),
    _u("sum-string", "SET c = s + :one", ONE),
    _u("sum-missing", "SET c = gone + :one", ONE),
    _u("copy-missing", "SET c = gone"),
    _u("copy-old", "SET s = :a, s2 = s", TWO),
    _u("swap", "SET s = n, n = s"),
    _u("set-nested", "SET m.a.c = :a", TWO),
    _u("set-nested-missing", "SET m.fresh.c = :a", TWO),
    _u("set-nested-names", "SET #m.#a.#c = :a", TWO, {"#m": "m", "#a": "a", "#c": "c"}),
    _u("set-index", "SET l[1] = :a", TWO),
    _u("set-index-append", "SET l[10] = :a", TWO),
    _u("set-two-appends", "SET l[5] = :a, l[7] = :b", TWO),
    _u("set-index-map", "SET l[2].k = :a", TWO),
    _u("set-index-map-new", "SET l[2].fresh = :a", TWO),
    _u("set-deep-index", "SET m.a.b[0] = :a", TWO),
    _u("set-index-on-map", "SET m[0] = :a", TWO),
    _u("set-on-absent-item", "SET a = :a, n = :one", {**TWO, **ONE}, item=None),
    _u("append", "SET l = list_append(l, :more)", {":more": L(S("y"))}),
    _u("prepend", "SET l = list_append(:more, l)", {":more": L(S("y"))}),
    _u("append-missing", "SET c = list_append(gone, :more)", {":more": L(S("y"))}),
    _u("append-string", "SET c = list_append(s, :more)", {":more": L(S("y"))}),
    _u("append-if-not-exists", f"SET {HISTORY}", {":none": NONE, ":history": L(S("y"))},
       {"#history": "hist"}),
    _u("append-if-not-exists-new", f"SET {HISTORY}", {":none": NONE, ":history": L(S("y"))},
       {"#history": "fresh"}),
    _u("if-not-exists-present", "SET s = if_not_exists(s, :a)", TWO),
    _u("if-not-exists-absent", "SET c = if_not_exists(c, :a)", TWO),
    _u("if-not-exists-nested", "SET c = if_not_exists(m.a.b, :a)", TWO),
    _u("remove-indexes", "REMOVE l[0], l[2]"),
    _u("remove-indexes-reversed", "REMOVE l[2], l[0]"),
    _u("remove-past-end", "REMOVE l[9]"),
    _u("remove-deep-index", "REMOVE m.a.b[0]"),
    _u("remove-map-entry", "REMOVE m.s"),
    _u("remove-missing", "REMOVE gone, m.gone"),
    _u("remove-through-missing", "REMOVE gone.x"),
    _u("remove-several", "REMOVE s, n, m.a"),
    _u("add-number", "ADD n :one", ONE),
    _u("add-negative", "ADD neg :v", {":v": N("-0.5")}),
    _u("add-creates", "ADD c :one", ONE),
    _u("add-to-string", "ADD s :one", ONE),
    _u("add-set", "ADD ss :v", {":v": {"SS": ["b", "c"]}}),
    _u("add-number-set", "ADD ns :v", {":v": {"NS": ["3", "4"]}}),
    _u("add-binary-set", "ADD bs :v", {":v": {"BS": [b"\x03"]}}),
    _u("add-set-creates", "ADD c :v", {":v": {"SS": ["b", "c"]}}),
    _u("add-set-type", "ADD ss :v", {":v": {"NS": ["1"]}}),
    _u("add-nested", "ADD m.a.c :one", ONE),
    _u("delete-some", "DELETE ss :v", {":v": {"SS": ["a", "z"]}}),
    _u("delete-all", "DELETE ss :v", {":v": {"SS": ["a", "b"]}}),
    _u("delete-numbers", "DELETE ns :v", {":v": {"NS": ["2.5"]}}),
    _u("delete-missing", "DELETE c :v", {":v": {"SS": ["a"]}}),
    _u("delete-type", "DELETE ns :v", {":v": {"SS": ["a"]}}),
    _u("all-clauses", "SET c = :a REMOVE s ADD n :one DELETE ss :v",
       {":a": S("A"), ":one": N("1"), ":v": {"SS": ["a"]}}),
    _u("clauses-reordered", "delete ss :v add n :one remove s set c = :a",
       {":a": S("A"), ":one": N("1"), ":v": {"SS": ["a"]}}),
    _u("set-and-remove-list", "SET l[0] = :a REMOVE l[1]", TWO),
]  # fmt: skip


def _p(case_id, expression, names=None, item=ITEM):
    return pytest_param(case_id, item, expression, names)


PROJECTIONS = [
    _p("top", "s, n, gone"),
    _p("nested", "m.a.b[1], l[0]"),
    _p("list-elements", "l[2], l[0]"),
    _p("list-map", "l[2].k, m.s"),
    _p("names", "#m.#a, ss", {"#m": "m", "#a": "a"}),
    _p("past-end", "l[7], m.a.b[9], s"),
]

SORT_KEYS = ["a", "ab", "abc", "b", "event#1", "event#2", "x"]
VALUE = {":p": S("P"), ":x": S("ab"), ":y": S("event#1")}


def _q(case_id, expression, values=VALUE, names=None):
    return pytest_param(case_id, expression, names, values)


QUERIES = [
    _q("pk", "pk = :p", {":p": S("P")}),
    _q("other-pk", "pk = :p", {":p": S("Q")}),
    _q("eq", "pk = :p AND sk = :x"),
    _q("lt", "pk = :p AND sk < :x"),
    _q("le", "pk = :p AND sk <= :x"),
    _q("gt", "pk = :p AND sk > :x"),
    _q("ge", "pk = :p AND sk >= :x"),
    _q("between", "pk = :p AND sk BETWEEN :x AND :y"),
    _q("begins", "pk = :p AND begins_with(sk, :e)", {":p": S("P"), ":e": S("event#")}),
    _q(
        "herald-events",
        "pk = :pk AND begins_with(sk, :prefix)",
        {":pk": S("P"), ":prefix": S("event#")},
    ),
    _q(
        "herald-due",
        "#h = :h AND #s <= :until",
        {":h": S("P"), ":until": S("b")},
        {"#h": "pk", "#s": "sk"},
    ),
    _q(
        "herald-list",
        "#h = :h AND #lk BETWEEN :low AND :high",
        {":h": S("P"), ":low": S("ab"), ":high": S("event#9")},
        {"#h": "pk", "#lk": "sk"},
    ),
    _q("sort-first", "sk > :x AND pk = :p"),
    _q("reversed-operands", ":x < sk AND :p = pk"),
    _q("parens", "(pk = :p) AND (sk >= :y)"),
]
