"""devtools/memory_aws/expressions.py, DynamoDB's expressions for make run's in-memory DynamoDB,
held to moto and to dynalite: the same conditional write, update, projected read or query
(tests/devtools/expression_cases.py: Herald's own expressions on the item states they meet,
then DynamoDB's semantics around them) must end the same way on each (accepted or refused,
the same item after).

Where a reference differs from DynamoDB, the module follows DynamoDB, and DIFFERS pins what
that reference answers instead, and why: moto is the lenient one (it fails inside on some
expressions, and misses binary begins_with/contains and a projection of two elements of one
list); dynalite compares strings as UTF-16 and lists and maps by identity.
"""

import copy
import timeit
import uuid

import pytest
from moto import mock_aws

from devtools.memory_aws import expression_parser, expressions
from devtools.memory_aws.expressions import ValidationError
from tests.conftest import MOTO
from tests.devtools.expression_cases import (
    CONDITIONS,
    ITEM,
    PROJECTIONS,
    QUERIES,
    SORT_KEYS,
    UPDATES,
    B,
    L,
    M,
    N,
    S,
)
from tests.devtools.expression_references import (
    Reference,
    ours_condition,
    ours_projected,
    ours_query,
    ours_update,
)

UNORDERED = "DynamoDB orders strings by their UTF-8 bytes (code points); dynalite by UTF-16"
IDENTITY = "dynalite compares lists and maps by identity, DynamoDB by their contents"
DIFFERS = {
    ("moto", "n-lt-string"): ("crash", "values of different types are not ordered: false"),
    ("moto", "between-type"): ("crash", "values of different types are not ordered: false"),
    ("moto", "size-number"): ("crash", "a number has no size(): false, as dynalite says"),
    ("moto", "size-missing"): ("crash", "a missing attribute has no size(): false (dynalite)"),
    ("moto", "not-not"): ("crash", "NOT takes a condition, not a NOT: dynalite refuses it"),
    ("moto", "begins-binary"): (False, "begins_with takes binary values too (docs, dynalite)"),
    ("moto", "contains-b"): (False, "contains() finds a byte subsequence (docs' CONTAINS)"),
    ("moto", "list-elements"): (
        {"l": ("L", [("S", "x")])}, "a projection of l[2], l[0] answers both elements"),
    ("moto", "reversed-operands"): ("refused", "`:x < sk` is `sk > :x` (dynalite takes it)"),
    ("dynalite", "s-gt-astral"): (False, UNORDERED),
    ("dynalite", "l-eq"): (False, IDENTITY),
    ("dynalite", "m-eq"): (False, IDENTITY),
    ("dynalite", "contains-l-map"): (False, IDENTITY),
    ("dynalite", "size-astral"): (False, "dynalite counts UTF-16 units; moto characters"),
    ("dynalite", "remove-indexes"): (
        "?", "REMOVE l[0], l[2] removes the elements at those positions before the update;"
        " dynalite removes one after the other, so its l[2] is the original l[3]"),
}  # fmt: skip


@pytest.fixture(scope="module", params=["moto", "dynalite"])
def reference(request):
    table = f"expressions-{uuid.uuid4().hex[:8]}"
    if request.param == "moto":
        with mock_aws(config=MOTO):
            yield Reference.create("moto", table)
        return
    url = request.getfixturevalue("dynalite_url")
    yield Reference.create(
        "dynalite", table, endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="x"
    )


# The cases meant to be refused; any other refused would be a case that tests nothing (one
# naming a reserved word without a placeholder, say).
REFUSED = {
    "not-not", "herald4-account", "sum-string", "sum-missing", "copy-missing",
    "set-nested-missing", "set-index-on-map", "append-missing", "append-string",
    "remove-through-missing", "add-to-string", "add-set-type", "delete-type",
}  # fmt: skip


def same_or_known(reference: Reference, case_id: str, ours, theirs) -> None:
    assert (ours == "refused") == (case_id in REFUSED)
    known = DIFFERS.get((reference.name, case_id))
    if known is None:
        assert ours == theirs
        return
    answer, why = known
    assert ours != theirs, f"{reference.name} now agrees: {why}"
    if answer != "?":
        assert theirs == answer, why


@pytest.mark.parametrize("case_id, item, expression, names, values", CONDITIONS)
def test_conditions_end_as_on_the_reference(reference, case_id, item, expression, names, values):
    ours = ours_condition(item, expression, names, values)
    same_or_known(reference, case_id, ours, reference.condition(item, expression, names, values))


@pytest.mark.parametrize("case_id, item, expression, names, values", UPDATES)
def test_updates_leave_the_item_the_reference_leaves(
    reference, case_id, item, expression, names, values
):
    ours = ours_update(item, expression, names, values)
    same_or_known(reference, case_id, ours, reference.update(item, expression, names, values))


@pytest.mark.parametrize("case_id, item, expression, names", PROJECTIONS)
def test_projections_answer_what_the_reference_answers(reference, case_id, item, expression, names):
    ours = ours_projected(item, expression, names)
    same_or_known(reference, case_id, ours, reference.projected(item, expression, names))


@pytest.fixture(scope="module")
def partition(reference) -> Reference:
    reference.put_partition("P", SORT_KEYS)
    return reference


@pytest.mark.parametrize("case_id, expression, names, values", QUERIES)
def test_key_conditions_find_what_the_reference_finds(
    partition, case_id, expression, names, values
):
    ours = ours_query(SORT_KEYS, "P", expression, names, values)
    same_or_known(partition, case_id, ours, partition.query(expression, names, values))


# --- what only the module says: its answers' shape, its cost, its errors ---------------------


def test_an_update_copies_only_what_it_changes_and_never_mutates():
    before = copy.deepcopy(ITEM)
    new = expressions.update(
        "SET m.a.c = :v, l[0] = :v, n = n + :one REMOVE ss ADD ns :ns",
        None,
        {":v": S("new"), ":one": N("1"), ":ns": {"NS": ["7"]}},
    )(ITEM)
    assert before == ITEM
    assert new["m"]["M"]["a"]["M"]["c"] == S("new") and "ss" not in new
    assert new["s"] is ITEM["s"] and new["emoji"] is ITEM["emoji"]  # shared, not copied
    assert new["m"]["M"]["s"] is ITEM["m"]["M"]["s"]  # beside the changed path: shared
    assert new["m"] is not ITEM["m"] and new["m"]["M"]["a"] is not ITEM["m"]["M"]["a"]


def test_numbers_are_computed_with_38_digits_and_answered_normalized():
    """DynamoDB stores numbers normalized: 1.5 + 1.5 is "3", not moto's "3.0"."""
    cases = [
        ("SET n = n + :v", N("1.5"), N("1.5"), "3"),
        ("SET n = n - :v", N("5"), N("5.00"), "0"),
        ("SET n = n + :v", N("0.1"), N("0.2"), "0.3"),
        ("SET n = n + :v", N("1E+2"), N("0"), "100"),
        ("ADD n :v", N("99999999999999999999999999999999999999"), N("1"), "1" + "0" * 38),
    ]
    for expression, start, value, expected in cases:
        assert expressions.update(expression, None, {":v": value})({"n": start})["n"] == N(expected)
    with pytest.raises(ValidationError, match="38 significant digits"):
        expressions.update("ADD n :v", None, {":v": N("1")})({"n": N("1" * 38 + ".5")})


def test_a_number_set_holds_each_number_once():
    new = expressions.update("ADD ns :v", None, {":v": {"NS": ["2.50", "3"]}})(ITEM)
    assert sorted(new["ns"]["NS"]) == ["1", "2.5", "3"]  # moto keeps "2.5" and "2.50"


def test_each_expression_is_parsed_once(monkeypatch):
    calls = []
    real = expression_parser.parse_condition
    monkeypatch.setattr(expressions, "parse_condition", lambda *a: calls.append(a) or real(*a))
    new = f"x{uuid.uuid4().hex[:8]}"  # an expression no test compiled before
    text = f"attribute_not_exists({new}) AND #s = :v AND size(#s) > :n"
    for value in ("a", "b", "c"):
        expressions.condition(text, {"#s": "status"}, {":v": S(value), ":n": N("0")})
    expressions.condition(text, {"#s": "other"}, {":v": S("a"), ":n": N("0")})
    assert len(calls) == 1


def test_updated_paths_and_placeholders():
    text = "SET #a.b = :v, c[1] = :v REMOVE d ADD #e :n DELETE f :s"
    assert expressions.updated_paths(text, {"#a": "A", "#e": "E"}) == [
        ("A", "b"), ("c", 1), ("d",), ("E",), ("f",)
    ]  # fmt: skip
    assert expressions.used_placeholders(text, None, "x = :w AND #y = :v") == (
        {"#a", "#e", "#y"}, {":v", ":n", ":s", ":w"}
    )  # fmt: skip
    assert expressions.project(ITEM, [("m", "a", "b", 1), ("s",)]) == {
        "m": M(a=M(b=L(N("2")))), "s": S("hello")
    }  # fmt: skip


def test_a_key_condition_says_its_sort_condition_as_data():
    values = {":p": S("P"), ":a": S("a"), ":b": S("b")}
    found = expressions.key_condition("sk BETWEEN :a AND :b AND pk = :p", None, values)
    assert (found.partition_name, found.partition_value, found.sort_name) == ("pk", S("P"), "sk")
    assert (found.sort_operator, found.sort_values) == ("BETWEEN", (S("a"), S("b")))
    assert found.sort(S("ab")) and not found.sort(S("c"))
    # Two equalities: which is the partition key's only the key schema says.
    both = expressions.key_condition("sk = :a AND pk = :p", None, values, partition_key="pk")
    assert (both.partition_name, both.sort_name, both.sort_operator) == ("pk", "sk", "=")


ERRORS = [
    ("condition", "a = ", "Syntax error; token: \"<EOF>\", near: \"=\""),
    ("condition", "a = :v AND", "Syntax error; token: \"<EOF>\""),
    ("condition", "a ! :v", "Syntax error; token: \"!\", near: \"a !\""),
    ("condition", "NOT NOT a = :v", "Syntax error; token: \"NOT\""),
    ("condition", "a = :v :v", "Syntax error; token: \":v\""),
    ("condition", "", "The expression can not be empty;"),
    ("condition", "status = :v", "Attribute name is a reserved keyword; reserved keyword: status"),
    ("condition", "a = #nope", "An expression attribute name used in the document path is not"
     " defined; attribute name: #nope"),
    ("condition", "a = :nope", "An expression attribute value used in expression is not"
     " defined; attribute value: :nope"),
    ("condition", "((a = :v))", "The expression has redundant parentheses;"),
    ("condition", "a.b = a.b", "The first operand must be distinct from the remaining operands"
     " for this operator or function; operator: =, first operand: [a, b]"),
    ("condition", "size(a)", "The function is not allowed to be used this way in an expression;"
     " function: size"),
    ("condition", "attribute_exists(a) = :v", "not allowed to be used this way in an expression;"
     " function: attribute_exists"),
    ("condition", "attribute_exists(:v)", "Operator or function requires a document path;"
     " operator or function: attribute_exists"),
    ("condition", "foo(a)", "Invalid function name; function: foo"),
    ("condition", "ATTRIBUTE_EXISTS(a)", "Invalid function name; function: ATTRIBUTE_EXISTS"),
    ("condition", "begins_with(a)", "Incorrect number of operands for operator or function;"
     " operator or function: begins_with, number of operands: 1"),
    ("condition", "begins_with(a, :n)", "Incorrect operand type for operator or function;"
     " operator or function: begins_with, operand type: N"),
    ("condition", "attribute_type(a, :v)", "Invalid attribute type name found; type: x"),
    ("condition", "size(:n) > :n", "operator or function: size, operand type: N"),
    ("condition", "a BETWEEN :n AND :low", "The BETWEEN operator requires upper bound to be"
     " greater than or equal to lower bound; lower bound operand: AttributeValue: {N:5},"
     " upper bound operand: AttributeValue: {N:1}"),
    ("condition", "a BETWEEN :v AND :n", "The BETWEEN operator requires same data type"),
    ("update", "SET a = :v, a = :n", "Two document paths overlap with each other; must remove"
     " or rewrite one of these paths; path one: [a], path two: [a]"),
    ("update", "SET a.b = :v REMOVE a", "Two document paths overlap"),
    ("update", "SET a.b = :v, a[0] = :v", "Two document paths conflict with each other; must"
     " remove or rewrite one of these paths; path one: [a, b], path two: [a, [0]]"),
    ("update", "SET a = :v SET b = :v", "The \"SET\" section can only be used once"),
    ("update", "SET a = :n + :n + :n", "Syntax error; token: \"+\""),
    ("update", "SET a = (:n + :n) + :n", "Syntax error; token: \"+\""),
    ("update", "SET a = size(b)", "Invalid function name; function: size"),
    ("update", "SET a = if_not_exists(:v, a)", "Operator or function requires a document path;"
     " operator or function: if_not_exists"),
    ("update", "SET a = list_append(:v, :l)", "operator or function: list_append, operand type: S"),
    ("update", "SET a = a + :v", "operator or function: +, operand type: S"),
    ("update", "ADD a :v", "Incorrect operand type for operator or function; operator: ADD,"
     " operand type: STRING"),
    ("update", "DELETE a :n", "operator: DELETE, operand type: NUMBER"),
    ("update", "ADD a b", "Syntax error; token: \"b\""),
    ("update", "REMOVE", "Syntax error; token: \"<EOF>\""),
    ("update", "PUT a = :v", "Syntax error; token: \"PUT\""),
    ("projection", "a, a.b", "Two document paths overlap"),
    ("projection", "a, ", "Syntax error; token: \"<EOF>\""),
    ("key", "pk = :v OR sk = :n", "Invalid operator used in KeyConditionExpression: OR"),
    ("key", "NOT pk = :v", "Invalid operator used in KeyConditionExpression: NOT"),
    ("key", "pk <> :v", "Invalid operator used in KeyConditionExpression: <>"),
    ("key", "pk IN (:v)", "Invalid operator used in KeyConditionExpression: IN"),
    ("key", "pk = :v AND attribute_exists(sk)", "Invalid operator used in KeyConditionExpression:"
     " attribute_exists"),
    ("key", "pk = :v AND size(sk) > :n", "KeyConditionExpressions cannot contain nested"
     " operations"),
    ("key", "pk = :v AND pk = :v", "KeyConditionExpressions must only contain one condition per"
     " key"),
    ("key", "pk = :v AND a = :v AND b = :v", "Conditions can be of length 1 or 2 only"),
    ("key", "pk = sk", "Invalid condition in KeyConditionExpression: Multiple attribute names"
     " used in one condition"),
    ("key", ":v = :n", "Invalid condition in KeyConditionExpression: No key attribute specified"),
    ("key", "a.b = :v", "KeyConditionExpressions cannot have conditions on nested attributes"),
    ("key", "pk < :v", "Query key condition not supported"),
    ("key", "pk = :v AND begins_with(:v, sk)", "Invalid condition in KeyConditionExpression:"
     " begins_with operator must have the key attribute as its first operand"),
]  # fmt: skip


@pytest.mark.parametrize("kind, expression, message", ERRORS, ids=[e[1] for e in ERRORS])
def test_what_dynamodb_refuses_before_reading_an_item(kind, expression, message):
    values = {":v": S("x"), ":n": N("5"), ":low": N("1"), ":l": L()}
    compile_ = {
        "condition": lambda: expressions.condition(expression, None, values),
        "update": lambda: expressions.update(expression, None, values),
        "projection": lambda: expressions.projection(expression, None),
        "key": lambda: expressions.key_condition(expression, None, values),
    }[kind]
    with pytest.raises(ValidationError) as refused:
        compile_()
    assert message in str(refused.value)
    if kind != "key":  # the expression's own errors are prefixed with its kind, as DynamoDB's
        prefix = {"condition": "ConditionExpression", "update": "UpdateExpression"}
        assert str(refused.value).startswith(
            "Invalid " + prefix.get(kind, "ProjectionExpression") + ": "
        )


RUNTIME_ERRORS = [
    ("SET a = b + :n", {}, "The provided expression refers to an attribute that does not exist"
     " in the item"),
    ("SET a = list_append(b, :l)", {}, "The provided expression refers to an attribute"),
    ("SET a = b + :n", {"b": S("x")}, "An operand in the update expression has an incorrect"
     " data type"),
    ("SET a = list_append(b, :l)", {"b": S("x")}, "An operand in the update expression has an"
     " incorrect data type"),
    ("ADD b :n", {"b": S("x")}, "An operand in the update expression has an incorrect data type"),
    ("DELETE b :ss", {"b": {"NS": ["1"]}}, "An operand in the update expression has an"
     " incorrect data type"),
    ("SET a.b = :v", {}, "The document path provided in the update expression is invalid for"
     " update"),
    ("SET a.b = :v", {"a": S("x")}, "The document path provided in the update expression is"
     " invalid for update"),
    ("SET a[0] = :v", {"a": M()}, "The document path provided in the update expression is"
     " invalid"),
    ("REMOVE a.b", {"a": S("x")}, "The document path provided in the update expression is"
     " invalid"),
]  # fmt: skip


@pytest.mark.parametrize("expression, item, message", RUNTIME_ERRORS)
def test_what_dynamodb_refuses_on_reading_the_item(expression, item, message):
    values = {":v": S("x"), ":n": N("5"), ":l": L(), ":ss": {"SS": ["x"]}}
    used = expressions.used_placeholders(expression)[1]
    apply = expressions.update(expression, None, {k: v for k, v in values.items() if k in used})
    with pytest.raises(ValidationError) as refused:
        apply(item)
    assert str(refused.value).startswith(message)


def test_binary_values_compare_bytewise():
    test = expressions.condition("b < :v AND begins_with(b, :p)", None,
                                 {":v": B(b"\x80"), ":p": B(b"\x01")})  # fmt: skip
    assert test({"b": B(b"\x01\xff")}) and not test({"b": B(b"\x81")})


def test_commonest_condition_and_update_rates(capsys):
    """Evaluations a second of Herald's commonest condition (a message's transition) and
    update (its SET/REMOVE with the history appended), compiled once each: printed, not
    asserted. `pytest -s -k rates tests/devtools/test_memory_expressions.py` shows them."""
    names = {"#status": "status", "#f0": "status", "#f1": "updated_ms", "#history": "history",
             "#r0": "claim"}  # fmt: skip
    values = {":s0": S("queued"), ":s1": S("sending"), ":v0": S("sent"), ":v1": N("2"),
              ":none": L(), ":history": L(M(status=S("sent")))}  # fmt: skip
    item = {"pk": S("AC#SM"), "status": S("queued"), "history": L(M(status=S("queued")))}
    test = expressions.condition(
        "attribute_exists(pk) AND attribute_not_exists(stand_in) AND #status IN (:s0, :s1)",
        names, values,
    )  # fmt: skip
    change = expressions.update(
        "SET #f0 = :v0, #f1 = :v1, #history = list_append(if_not_exists(#history, :none),"
        " :history) REMOVE #r0", names, values,
    )  # fmt: skip
    assert test(item) and change(item)["status"] == S("sent")
    rounds = 2000
    for what, run in (("condition", lambda: test(item)), ("update", lambda: change(item))):
        seconds = timeit.timeit(run, number=rounds)
        with capsys.disabled():
            print(f"\n{what}: {rounds / seconds:,.0f} evaluations/s")
