"""moto's DynamoDB costs, cut for the embedded AWS's requests (devtools/faster_moto.py says
where they were found and how each patch stays out of moto's way under `mock_aws`):

- its answers' items, written straight from moto's plain dicts instead of through the generic
  serializer's alias rules, member by member, and turned into those dicts in one pass (and
  sized without copying each map's values, twice an item);
- an update's or a condition's expression, parsed once, not twice per request and again for
  every request that sends it; moto's validators' table of node types, built once per walk
  (UpdateItem took 5 ms, three a message; devtools/fast_update.py goes further);
- an index's projection (keys and `sent_ms` for Herald's lists), a copy of the attributes it
  keeps instead of the whole item turned into Python values and back once per attribute.

tests/devtools/test_faster_moto.py holds each to moto's own answers.
"""

import base64
import threading

from devtools.faster_moto import serving

_installed = threading.Lock()


def install() -> None:
    from moto.dynamodb import models

    with _installed:
        if getattr(models, "herald_faster", False):
            return
        _attribute_values()
        _expressions_parsed_once()
        _traversals_look_up_once()
        _projections_copy_what_they_keep()
        models.herald_faster = True


class _NotPlain(Exception):
    """A value the fast path does not handle: moto's own serializer takes it."""


def _blob(value) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes | bytearray):
        raise _NotPlain
    return base64.b64encode(value).strip().decode("utf-8")


def _string(value) -> str:
    if type(value) is not str:
        raise _NotPlain
    return value


class _Plain(dict):
    """What dynamo_to_dict answers for a value with nothing binary in it, which is also what
    moto's serializer writes for it: the serializer takes it as it is."""


def _plain(value) -> _Plain:
    """dynamo_to_dict's answer for a DynamoType, made in one pass."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    kind, inner = value.type, value.value
    if kind == "S" or kind == "N":
        return _Plain({kind: _string(inner)})
    if kind == "M":
        if type(inner) is not dict or "" in inner:
            raise _NotPlain
        if any(type(v) is not DynamoType for v in inner.values()):
            raise _NotPlain
        return _Plain({kind: {k: _plain(v) for k, v in inner.items()}})
    if kind == "L":
        if type(inner) is not list or any(type(v) is not DynamoType for v in inner):
            raise _NotPlain
        return _Plain({kind: [_plain(v) for v in inner]})
    if kind == "BOOL" or kind == "NULL":
        if type(inner) is not bool:
            raise _NotPlain
        return _Plain({kind: inner})
    if (kind == "SS" or kind == "NS") and type(inner) is list:
        return _Plain({kind: [_string(v) for v in inner]})
    raise _NotPlain  # binary: moto decodes it, its serializer encodes it


def attribute_value(value) -> dict:
    """An AttributeValue as moto's JSON serializer writes it (one type key, plain values)."""
    if type(value) is _Plain:
        return value
    if type(value) is not dict or len(value) != 1:
        raise _NotPlain
    ((kind, inner),) = value.items()
    if kind == "S" or kind == "N":
        return {kind: _string(inner)}
    if kind == "M":
        return {kind: attribute_map(inner)}
    if kind == "L":
        if type(inner) is not list:
            raise _NotPlain
        return {kind: [attribute_value(item) for item in inner]}
    if kind == "BOOL" or kind == "NULL":
        if type(inner) is not bool:
            raise _NotPlain
        return {kind: inner}
    if kind == "B":
        return {kind: _blob(inner)}
    if kind in ("SS", "NS", "BS") and type(inner) is list:
        return {kind: [_blob(item) if kind == "BS" else _string(item) for item in inner]}
    raise _NotPlain


def attribute_map(value) -> dict:
    if type(value) is not dict or "" in value:  # moto writes an empty name's value oddly
        raise _NotPlain
    return {name: attribute_value(item) for name, item in value.items()}


def _attribute_values() -> None:
    """DynamoDB's items (maps of AttributeValue), written straight from moto's plain dicts;
    anything else (and any value not plain) by moto's serializer."""
    from moto.core.serialize import BaseJSONSerializer

    structure = BaseJSONSerializer._serialize_type_structure
    mapping = BaseJSONSerializer._serialize_type_map

    def serialize_structure(self, serialized, value, shape, key):
        if key and shape.name == "AttributeValue" and serving():
            try:
                serialized[self.get_serialized_name(shape, key)] = attribute_value(value)
                return
            except _NotPlain:
                pass
        structure(self, serialized, value, shape, key)

    def serialize_map(self, serialized, value, shape, key):
        if shape.value.name == "AttributeValue" and serving():
            try:
                serialized[self.get_serialized_name(shape, key)] = attribute_map(value)
                return
            except _NotPlain:
                pass
        mapping(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = serialize_structure
    BaseJSONSerializer._serialize_type_map = serialize_map

    from moto.dynamodb import responses
    from moto.dynamodb.models import utilities
    from moto.dynamodb.models.dynamo_type import DynamoType

    to_dict = utilities.dynamo_to_dict

    def dynamo_to_dict(obj):
        if type(obj) is DynamoType and serving():
            try:
                return _plain(obj)
            except _NotPlain:
                pass
        return to_dict(obj)

    utilities.dynamo_to_dict = responses.dynamo_to_dict = dynamo_to_dict
    _sizes(DynamoType)


def _sizes(DynamoType) -> None:
    """DynamoType.size copied every value of a map (DynamoType(v)) to size it, twice for each
    item BatchGetItem or Query returns: the same sum, without the copies."""
    from moto.dynamodb.models.utilities import bytesize

    size = DynamoType.size

    def sized(self):
        if not serving():
            return size(self)
        kind, value = self.type, self.value
        if kind == "N":
            return len(str(value))
        if kind in ("SS", "NS", "BS"):
            sub = "N" if kind == "NS" else None
            return sum(len(str(v)) if sub else bytesize(v) for v in value)
        if kind == "L":
            return sum(v.size() for v in value)
        if kind == "M":
            return sum(bytesize(k) + DynamoType(v).size() if type(v) is not DynamoType
                       else bytesize(k) + v.size() for k, v in value.items())  # fmt: skip
        if isinstance(value, bool):
            return 1
        return bytesize(value)

    DynamoType.size = sized


_PARSED_LIMIT = 4096


def _expressions_parsed_once() -> None:
    """An expression parses to the same tree every time: parse each one once. moto copies
    an update expression's tree before it changes it (Validator), and evaluates a condition's
    tree without changing it, so one tree serves every request that sends the expression."""
    import json

    from moto.dynamodb import comparisons, models, responses
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    make = UpdateExpressionParser.make.__func__
    updates: dict = {}

    def make_once(cls, expression_str):
        if not serving() or cls is not UpdateExpressionParser:
            return make(cls, expression_str)
        tree = updates.get(expression_str)
        if tree is None:
            tree = make(cls, expression_str)
            if len(updates) < _PARSED_LIMIT:
                updates[expression_str] = tree
        return tree

    UpdateExpressionParser.make = classmethod(make_once)

    Parser = comparisons.ConditionExpressionParser
    conditions: dict = {}

    class ParsedOnce(Parser):
        def parse(self):
            text = self.condition_expression or ""
            # The tree holds the names and values the expression names (and no others: an
            # update's other values change from request to request).
            names = {k: v for k, v in (self.expression_attribute_names or {}).items() if k in text}
            values = {
                k: v for k, v in (self.expression_attribute_values or {}).items() if k in text
            }
            try:
                key = json.dumps([text, names, values], sort_keys=True)
            except (TypeError, ValueError):
                return super().parse()
            found = conditions.get(key)
            if found is None:
                found = (super().parse(), self.expr_attr_names_found, self.expr_attr_values_found)
                if len(conditions) < _PARSED_LIMIT:
                    conditions[key] = found
            tree, names, values = found
            self.expr_attr_names_found, self.expr_attr_values_found = list(names), list(values)
            return tree

    create = comparisons.create_condition_expression_parser

    def create_parser(expr, names, values):
        return ParsedOnce(expr, names, values) if serving() else create(expr, names, values)

    for module in (comparisons, models, responses):
        module.create_condition_expression_parser = create_parser


def _traversals_look_up_once() -> None:
    """DepthFirstTraverser asks `_processing_map()` (a new dict) at every node it visits; one
    traversal asks it once."""
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser

    traverse = DepthFirstTraverser.traverse

    def traverse_once(self, node):
        if serving():
            mapping = self._processing_map()
            kinds = tuple(mapping)
            self._processing_map = lambda: mapping
            self.nodes_to_be_processed = lambda: kinds
        return traverse(self, node)

    DepthFirstTraverser.traverse = traverse_once


def _binary(value) -> bool:
    if value.type in ("B", "BS"):
        return True
    if value.type == "M":
        return any(_binary(inner) for inner in value.value.values())
    if value.type == "L":
        return any(_binary(inner) for inner in value.value)
    return False


def _projections_copy_what_they_keep() -> None:
    """Item.project with top-level names (an index's projection, a ProjectionExpression of
    plain names): a copy of those attributes. moto went through Python values and back (the
    same values; a set's order may differ, as DynamoDB's may); binary values still do."""
    import copy

    from moto.dynamodb.models.dynamo_type import Item

    project = Item.project

    def project_names(self, projection_expressions):
        if not serving() or any(len(path) != 1 for path in projection_expressions):
            return project(self, projection_expressions)
        names = [path[0] for path in projection_expressions if path[0] in self.attrs]
        kept = {name: self.attrs[name] for name in dict.fromkeys(names)}
        if any(_binary(value) for value in kept.values()):
            return project(self, projection_expressions)
        projected = Item(self.hash_key, self.range_key, {})
        for name, value in copy.deepcopy(kept).items():
            # A part of an item that was within the size limit is: not sized again at each
            # attribute set (LimitedSizeDict sizes the whole item every time).
            dict.__setitem__(projected.attrs, name, value)
        return projected

    Item.project = project_names
