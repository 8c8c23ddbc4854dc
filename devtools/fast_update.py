"""UpdateItem on the embedded AWS without moto's expression engine, for the updates Herald makes.

Three UpdateItems a message (claim, sent, delivered) took 2.8 ms each in moto, two thirds of
what the embedded AWS spent on a message: moto copies the update expression's syntax tree and
walks it with ten validators, then an executor, and re-sizes the whole item at every
attribute it sets. Here `DynamoDBBackend.update_item` (the model: moto's request checks, its
parsing of both expressions, its ReturnValues and its serializer all still run) applies an
update whose expression is SET and REMOVE of top-level attributes, the values being
placeholders, attributes, `if_not_exists(attribute, value)` and `list_append(a, b)`, to an item
that exists: it evaluates the condition with moto's own parsed tree, computes every new value
from the item as it was, sizes the item once, sets and removes, and writes the stream record
as moto does. Anything else (nested paths, arithmetic, ADD and DELETE, a missing item or
attribute, a key attribute, an empty string, an item near the size limit, legacy
AttributeUpdates and Expected) is moto's, unchanged. tests/devtools/test_fast_update.py holds the
two to the same answers, items and stream records.
"""

import copy
import re
import threading

from devtools.faster_moto import serving

TOKEN = re.compile(r"\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|([=,()]))")
FUNCTIONS = ("if_not_exists", "list_append")
SIZE_LIMIT = 405000  # moto's LimitedSizeDict
_installed = threading.Lock()
_plans: dict[str, object] = {}


class Unsupported(Exception):
    """An update this does not apply: moto applies it."""


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    while at < len(expression):
        if expression[at:].strip() == "":
            break
        match = TOKEN.match(expression, at)
        if match is None:
            raise Unsupported  # '.', '[', '+', '-', ...
        kinds = ("name", "value", "word", "punct")
        tokens.append(next((k, v) for k, v in zip(kinds, match.groups(), strict=True) if v))
        at = match.end()
    return tokens


class _Parser:
    def __init__(self, expression: str):
        self.tokens, self.at = _tokens(expression), 0

    def peek(self):
        return self.tokens[self.at] if self.at < len(self.tokens) else (None, None)

    def take(self, kind=None, value=None):
        token = self.peek()
        if token[0] is None or (kind and token[0] != kind) or (value and token[1] != value):
            raise Unsupported
        self.at += 1
        return token

    def plan(self) -> list:
        actions, seen = [], set()
        while self.peek()[0] is not None:
            clause = self.take("word")[1].upper()
            if clause not in ("SET", "REMOVE") or clause in seen:
                raise Unsupported
            seen.add(clause)
            while True:
                path = self.path()
                if clause == "SET":
                    self.take("punct", "=")
                    actions.append(("set", path, self.operand()))
                else:
                    actions.append(("remove", path))
                if self.peek() != ("punct", ","):
                    break
                self.take()
        if not actions:
            raise Unsupported
        return actions

    def path(self):
        kind, text = self.take()
        if kind not in ("name", "word") or text in FUNCTIONS:
            raise Unsupported
        return ("path", kind, text)

    def operand(self):
        kind, text = self.peek()
        if kind == "value":
            self.take()
            return ("value", text)
        if kind == "word" and text in FUNCTIONS:
            self.take()
            self.take("punct", "(")
            first = self.path() if text == "if_not_exists" else self.operand()
            self.take("punct", ",")
            second = self.operand()
            self.take("punct", ")")
            return (text, first, second)
        return self.path()


def plan_of(expression: str) -> list:
    found = _plans.get(expression)
    if found is None:
        found = _Parser(expression).plan()
        if len(_plans) < 4096:
            _plans[expression] = found
    return found


def _name(path, names: dict) -> str:
    _, kind, text = path
    if kind == "name":
        if text not in names:
            raise Unsupported
        return names[text]
    return text


def _evaluate(operand, attrs, names, values):
    """The DynamoType an operand stands for, read from the item as it was."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    kind = operand[0]
    if kind == "value":
        if operand[1] not in values:
            raise Unsupported
        return DynamoType(copy.deepcopy(values[operand[1]]))
    if kind == "path":
        name = _name(operand, names)
        if name not in attrs:
            raise Unsupported  # moto refuses a path the item does not have
        return copy.deepcopy(attrs[name])
    if kind == "if_not_exists":
        name = _name(operand[1], names)
        return (
            copy.deepcopy(attrs[name])
            if name in attrs
            else _evaluate(operand[2], attrs, names, values)
        )
    first, second = (_evaluate(part, attrs, names, values) for part in operand[1:])
    if first.type != "L" or second.type != "L":
        raise Unsupported
    return DynamoType({"L": [*first.value, *second.value]})


def _paths(node):
    """Every attribute path a plan (or part of one) names."""
    if isinstance(node, list):
        for action in node:
            yield from _paths(action)
    elif isinstance(node, tuple) and node and node[0] == "path":
        yield node
    elif isinstance(node, tuple):
        for part in node[1:]:
            yield from _paths(part)


def _empty(value) -> bool:
    return value.type in ("S", "B") and value.value in ("", b"")


def apply(backend, table_name, key, expression, names, values, condition) -> object:
    """moto's update_item for the updates this applies; raises Unsupported for the rest
    before anything changed."""
    from moto.dynamodb.exceptions import ConditionalCheckFailed
    from moto.dynamodb.models import create_condition_expression_parser
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    plan = plan_of(expression)
    table = backend.get_table(table_name)
    range_attr = table.range_key_attr
    if table.hash_key_attr not in key or (range_attr and range_attr not in key):
        raise Unsupported
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[range_attr]) if range_attr else None
    item = table.get_item(hash_value, range_value)
    if item is None:
        raise Unsupported  # moto creates it (and writes two stream records)
    names, values = names or {}, values or {}
    if any(_name(path, names) in table.table_key_attrs for path in _paths(plan)):
        raise Unsupported  # moto refuses a key attribute anywhere in an update
    changes = {}
    for action in plan:
        name = _name(action[1], names)
        if name in changes:
            raise Unsupported  # moto refuses overlapping paths
        changes[name] = (
            _evaluate(action[2], item.attrs, names, values) if action[0] == "set" else None
        )
        if changes[name] is not None and _empty(changes[name]):
            raise Unsupported
    if not create_condition_expression_parser(condition, names, values).parse().expr(item):
        raise ConditionalCheckFailed  # moto's own outcome: it answers, with the item if asked
    size = sum(bytesize(name) + value.size() for name, value in item.attrs.items())
    size += sum(bytesize(name) + value.size() for name, value in changes.items() if value)
    if size > SIZE_LIMIT // 2:
        raise Unsupported
    old = copy.deepcopy(item)
    for name, value in changes.items():
        if value is None:
            item.attrs.pop(name, None)
        else:
            dict.__setitem__(item.attrs, name, value)  # sized above, once
    if table.stream_shard is not None:
        table.stream_shard.add(old, item)
    return item


def install() -> None:
    from moto.dynamodb.exceptions import ConditionalCheckFailed
    from moto.dynamodb.models import DynamoDBBackend

    with _installed:
        if getattr(DynamoDBBackend.update_item, "applies_simple_updates", False):
            return
        update_item = DynamoDBBackend.update_item

        def fast_update_item(
            self, table_name, key, update_expression, expression_attribute_names,
            expression_attribute_values, attribute_updates=None, expected=None,
            condition_expression=None, return_values_on_condition_check_failure=None,
        ):  # fmt: skip
            arguments = (
                table_name, key, update_expression, expression_attribute_names,
                expression_attribute_values, attribute_updates, expected,
                condition_expression, return_values_on_condition_check_failure,
            )  # fmt: skip
            if serving() and update_expression and not attribute_updates and not expected:
                try:
                    return apply(
                        self, table_name, key, update_expression, expression_attribute_names,
                        expression_attribute_values, condition_expression,
                    )  # fmt: skip
                except (Unsupported, ConditionalCheckFailed):
                    pass  # moto answers, from the item as it is (nothing was changed)
            return update_item(self, *arguments)

        fast_update_item.applies_simple_updates = True
        DynamoDBBackend.update_item = fast_update_item
