"""DynamoDB's expressions (condition, filter, update, key condition, projection) for the
in-memory DynamoDB (devtools/memory_aws/dynamodb.py), on items as the wire holds them
({"pk": {"S": "…"}}).

Each expression string is parsed once (expression_parser), then compiled once for each set of
names its "#name" placeholders stand for, into closures over the item and the call's values:
a request pays for no regex, no tree walk and no copy of the item. Values are compared as
devtools/memory_aws/document.py says; updates are applied copy-on-write (expression_updates).

Semantics and messages are DynamoDB's (Developer Guide, "Using expressions in DynamoDB"): a
call raises ValidationError for what DynamoDB refuses before it reads an item (syntax, reserved
words, placeholders not defined, operands of the wrong type, overlapping paths); an update
raises, when applied, for what depends on the item. Where moto differs from DynamoDB, this
follows DynamoDB: tests/devtools/test_memory_expressions.py says where.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from devtools.memory_aws.document import (
    COMPARE,
    at,
    begins_with,
    between,
    check_paths,
    contains,
    equal,
    less,
    path_text,
    project,
    raw_of,
    resolver,
    size,
    type_of,
)
from devtools.memory_aws.expression_parser import (
    CONDITION_FUNCTIONS,
    TYPES,
    Parsed,
    ValidationError,
    parse_condition,
    parse_projection,
    parse_update,
)
from devtools.memory_aws.expression_updates import compile_update

__all__ = ["KeyCondition", "ValidationError", "at", "condition", "key_condition", "project"]
__all__ += ["projection", "update", "updated_paths", "used_placeholders"]

_EMPTY: dict = {}
_CACHE_LIMIT = 10_000  # expressions (and name sets) kept; Herald's are a few hundred at most
_parsed: dict = {}
_compiled: dict = {}
_placeholders: dict = {}


@dataclass(frozen=True)
class KeyCondition:
    """A KeyConditionExpression: the partition key's name and value, and the sort key's
    condition (`sort` takes the item's typed sort key value) when there is one; the sort
    condition also as data, for a range read: `sort_operator` one of = < <= > >= BETWEEN
    begins_with, and its typed operands."""

    partition_name: str
    partition_value: dict
    sort_name: str | None
    sort: Callable[[dict], bool] | None
    sort_operator: str | None = None
    sort_values: tuple = ()


def undefined_name(kind: str, name: str) -> str:
    """DynamoDB's message for a #name the expression uses and the request does not define."""
    return (
        f"Invalid {kind}: An expression attribute name used in the document path is not"
        f" defined; attribute name: {name}"
    )


def undefined_value(kind: str, value: str) -> str:
    """And for such a :value."""
    return (
        f"Invalid {kind}: An expression attribute value used in expression is not defined;"
        f" attribute value: {value}"
    )


def _remember(cache: dict, key, make: Callable):
    found = cache.get(key)
    if found is None:
        found = make()
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = found
    return found


def _compile(kind: str, expression, parse: Callable, names, compile_: Callable) -> tuple:
    """(compiled, parsed): the expression parsed once, and compiled once for the names its
    placeholders stand for."""
    if not isinstance(expression, str):
        raise ValidationError(f"Invalid {kind}: the expression must be a string")
    parsed: Parsed = _remember(_parsed, (kind, expression), lambda: parse(expression, kind))
    resolved = ()
    if parsed.names:
        names = names or _EMPTY
        for name in parsed.names:
            if name not in names:
                raise ValidationError(undefined_name(kind, name))
        resolved = tuple([names[name] for name in parsed.names])

    def make():
        return compile_(parsed, resolver(dict(zip(parsed.names, resolved, strict=True))), kind)

    return _remember(_compiled, (kind, expression, resolved), make), parsed


def _checked(kind: str, parsed: Parsed, values: dict | None) -> dict:
    """`values`, once every placeholder the expression uses is there with a type it takes."""
    values = values or _EMPTY
    for value in parsed.values:
        if value not in values:
            raise ValidationError(undefined_value(kind, value))
    for check in parsed.checks:
        if check[0] == "types":
            type_ = type_of(values[check[1]])
            if type_ not in check[2]:
                words = check[4] if len(check) > 4 else {}
                raise ValidationError(f"Invalid {kind}: {check[3].format(words.get(type_, type_))}")
        elif check[0] == "attribute_type" and values[check[1]]["S"] not in TYPES:
            raise ValidationError(
                f"Invalid {kind}: Invalid attribute type name found; type: "
                f"{values[check[1]]['S']}, valid types: {{{','.join(TYPES)}}}"
            )
        elif check[0] == "between":
            low, high = values[check[1]], values[check[2]]
            if type_of(low) != type_of(high):
                problem = "requires same data type for lower and upper bounds"
            elif less(high, low):
                problem = "requires upper bound to be greater than or equal to lower bound"
            else:
                continue
            raise ValidationError(
                f"Invalid {kind}: The BETWEEN operator {problem}; lower bound operand:"
                f" AttributeValue: {{{type_of(low)}:{raw_of(low)}}}, upper bound operand:"
                f" AttributeValue: {{{type_of(high)}:{raw_of(high)}}}"
            )
    return values


# --- conditions ------------------------------------------------------------------------------


def _operand(node: tuple, resolve: Callable) -> Callable:
    """A function (item, values) -> typed value or None."""
    if node[0] == "path":
        path = resolve(node[1])
        if len(path) == 1:
            name = path[0]
            return lambda item, values: item.get(name)
        return lambda item, values: at(item, path)
    if node[0] == "value":
        name = node[1]
        return lambda item, values: values[name]
    inner = _operand(node[2][0], resolve)  # size(), the one function that is an operand
    return lambda item, values: size(inner(item, values))


def _distinct(kind: str, operator: str, a: tuple, b: tuple, resolve: Callable) -> None:
    if a[0] == b[0] == "path" and resolve(a[1]) == resolve(b[1]):
        raise ValidationError(
            f"Invalid {kind}: The first operand must be distinct from the remaining operands"
            f" for this operator or function; operator: {operator}, first operand: "
            + path_text(resolve(a[1]))
        )


def _condition(node: tuple, resolve: Callable, kind: str) -> Callable:
    """A function (item, values) -> bool."""
    op = node[0]
    if op in ("and", "or"):
        a, b = _condition(node[1], resolve, kind), _condition(node[2], resolve, kind)
        if op == "and":
            return lambda item, values: a(item, values) and b(item, values)
        return lambda item, values: a(item, values) or b(item, values)
    if op == "not":
        inner = _condition(node[1], resolve, kind)
        return lambda item, values: not inner(item, values)
    if op == "cmp":
        _distinct(kind, node[1], node[2], node[3], resolve)
        test, a, b = COMPARE[node[1]], _operand(node[2], resolve), _operand(node[3], resolve)
        return lambda item, values: test(a(item, values), b(item, values))
    if op == "between":
        x, low, high = (_operand(n, resolve) for n in node[1:])
        return lambda item, values: between(x(item, values), low(item, values), high(item, values))
    if op == "in":
        x, options = _operand(node[1], resolve), [_operand(n, resolve) for n in node[2]]
        return lambda item, values: any(equal(x(item, values), o(item, values)) for o in options)
    name, args = node[1], node[2]
    if len(args) == 2:
        _distinct(kind, name, args[0], args[1], resolve)
    first = _operand(args[0], resolve)
    if name == "attribute_exists":
        return lambda item, values: first(item, values) is not None
    if name == "attribute_not_exists":
        return lambda item, values: first(item, values) is None
    second = _operand(args[1], resolve)
    if name == "attribute_type":
        return lambda item, values: (
            type_of(first(item, values) or _EMPTY) == second(item, values)["S"]
        )
    test = begins_with if name == "begins_with" else contains
    return lambda item, values: test(first(item, values), second(item, values))


def _compile_condition(parsed: Parsed, resolve: Callable, kind: str) -> Callable:
    return _condition(parsed.tree, resolve, kind)


def condition(
    expression: str, names: dict | None, values: dict | None, *, kind: str = "ConditionExpression"
) -> Callable[[dict | None], bool]:
    """A ConditionExpression (or, with kind="FilterExpression", a FilterExpression) as a test
    of an item (None or {} when there is none)."""
    test, parsed = _compile(kind, expression, parse_condition, names, _compile_condition)
    values = _checked(kind, parsed, values)
    return lambda item: test(item if item is not None else _EMPTY, values)


# --- updates and projections -----------------------------------------------------------------


def update(expression: str, names: dict | None, values: dict | None) -> Callable[[dict], dict]:
    """An UpdateExpression as a function of the item (its key alone, or {}, when there is
    none) to the new item, which shares what did not change with it (and with `values`);
    neither is ever mutated. The function raises ValidationError for the errors that depend
    on the item: an operand missing, arithmetic on a non-number, a path through a missing
    map or list."""
    kind = "UpdateExpression"
    (apply, _), parsed = _compile(kind, expression, parse_update, names, compile_update)
    values = _checked(kind, parsed, values)
    return lambda item: apply(item or _EMPTY, values)


def updated_paths(expression: str, names: dict | None) -> list[tuple]:
    """Every document path the UpdateExpression writes, its "#name"s replaced, in the order
    written (path[0] is the top-level attribute): ReturnValues UPDATED_OLD and UPDATED_NEW
    answer project(item, paths) of the old and the new item."""
    (_, paths), _ = _compile("UpdateExpression", expression, parse_update, names, compile_update)
    return list(paths)


def _compile_projection(parsed: Parsed, resolve: Callable, kind: str) -> list:
    paths = [resolve(path) for path in parsed.tree]
    check_paths(kind, paths)
    return paths


def projection(expression: str, names: dict | None) -> Callable[[dict], dict]:
    """A ProjectionExpression as a function of the item to the parts of it it names."""
    kind = "ProjectionExpression"
    paths, _ = _compile(kind, expression, parse_projection, names, _compile_projection)
    return lambda item: project(item, paths)


# --- key conditions --------------------------------------------------------------------------

_MIRROR = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_CONDITION_ONLY = tuple(name for name in CONDITION_FUNCTIONS if name != "begins_with")


def _key_terms(parsed: Parsed, resolve: Callable, kind: str) -> list:
    """[(key name, operator, value placeholders)], one for each key the expression names."""
    terms: list = []

    def walk(node: tuple) -> None:
        op = node[0]
        if op == "and":
            walk(node[1])
            walk(node[2])
            return
        operator = {"cmp": node[1], "between": "BETWEEN", "call": node[1]}.get(op, op.upper())
        if op in ("or", "not", "in") or operator in ("<>", *_CONDITION_ONLY):
            raise ValidationError(f"Invalid operator used in KeyConditionExpression: {operator}")
        args = node[2] if op == "call" else node[2:] if op == "cmp" else node[1:]
        if any(arg[0] == "call" for arg in args) or operator == "size":
            raise ValidationError("KeyConditionExpressions cannot contain nested operations")
        keys = [at_ for at_, arg in enumerate(args) if arg[0] == "path"]
        if len(keys) != 1:
            problem = "Multiple attribute names used in one condition"
            raise ValidationError(
                "Invalid condition in KeyConditionExpression: "
                + (problem if keys else "No key attribute specified")
            )
        path = resolve(args[keys[0]][1])
        if len(path) > 1:
            raise ValidationError(
                "KeyConditionExpressions cannot have conditions on nested attributes"
            )
        if keys[0] != 0:
            if op != "cmp":
                raise ValidationError(
                    f"Invalid condition in KeyConditionExpression: {operator} operator must have"
                    " the key attribute as its first operand"
                )
            operator = _MIRROR[operator]
        if any(term[0] == path[0] for term in terms):
            raise ValidationError("KeyConditionExpressions must only contain one condition per key")
        terms.append((path[0], operator, tuple(a[1] for a in args if a[0] == "value")))

    walk(parsed.tree)
    if len(terms) > 2:
        raise ValidationError("Conditions can be of length 1 or 2 only")
    return terms


def key_condition(
    expression: str, names: dict | None, values: dict | None, *, partition_key: str | None = None
) -> KeyCondition:
    """A KeyConditionExpression: the partition key's equality and the sort key's condition,
    in either order. Which term is the partition key's: the one on `partition_key` when
    given (the engine knows the key schema), else the only (or first) equality."""
    kind = "KeyConditionExpression"
    terms, parsed = _compile(kind, expression, parse_condition, names, _key_terms)
    values = _checked(kind, parsed, values)
    if partition_key is not None:
        partition = next((term for term in terms if term[0] == partition_key), None)
        if partition is None:
            raise ValidationError(f"Query condition missed key schema element: {partition_key}")
    else:
        partition = next((term for term in terms if term[1] == "="), None)
    if partition is None or partition[1] != "=":
        raise ValidationError("Query key condition not supported")
    sort = next((term for term in terms if term is not partition), None)
    if sort is None:
        return KeyCondition(partition[0], values[partition[2][0]], None, None)
    name, operator, refs = sort
    operands = tuple(values[ref] for ref in refs)
    if operator == "BETWEEN":
        test = lambda value: between(value, *operands)  # noqa: E731
    else:
        compare = begins_with if operator == "begins_with" else COMPARE[operator]
        test = lambda value: compare(value, operands[0])  # noqa: E731
    return KeyCondition(partition[0], values[partition[2][0]], name, test, operator, operands)


def used_placeholders(*expressions: str | None) -> tuple[set[str], set[str]]:
    """The "#name"s and ":value"s that the expressions use (None ones skipped), for
    DynamoDB's refusal of ExpressionAttributeNames or Values that none of them uses."""
    names: set[str] = set()
    values: set[str] = set()
    for expression in expressions:
        if expression:
            found = _remember(_placeholders, expression, lambda e=expression: _scan(e))
            names |= found[0]
            values |= found[1]
    return names, values


def _scan(expression: str) -> tuple[frozenset, frozenset]:
    found = re.findall(r"[#:]\w+", expression, re.ASCII)
    return frozenset(f for f in found if f[0] == "#"), frozenset(f for f in found if f[0] == ":")
