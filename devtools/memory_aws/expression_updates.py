"""Document paths read from typed items, and UpdateExpressions applied to them copy-on-write:
the new item is a new dict that shares every attribute it did not change with the old one,
and the maps and lists on a changed path are copied once each, so the old item (a stream
record's old image, another reader's answer) never changes under anyone.

As DynamoDB does: every SET value is computed from the item as it was before the update; SET
of a list index past the end appends (in index order); REMOVE of list elements removes them at
their positions before the update (later ones shift down); ADD adds to a number or a set,
creating it where the path is missing; DELETE takes elements out of a set, and the attribute
out of the item when the set is left empty. Numbers are computed with 38 significant digits,
as DynamoDB stores them, and answered normalized ("3", not "3.0").
"""

from collections.abc import Callable
from decimal import Decimal

from devtools.memory_aws import document
from devtools.memory_aws.expression_parser import Parsed, ValidationError

INVALID_PATH = "The document path provided in the update expression is invalid for update"
WRONG_TYPE = "An operand in the update expression has an incorrect data type"
MISSING = "The provided expression refers to an attribute that does not exist in the item"


def _arithmetic(sign: str, a: dict, b: dict) -> dict:
    if "N" not in a or "N" not in b:
        raise ValidationError(WRONG_TYPE)
    return (document.add if sign == "+" else document.subtract)(a["N"], b["N"])


def _value(node: tuple, resolve: Callable) -> Callable:
    """A SET value as a function (item, values) -> typed value; raises ValidationError."""
    kind = node[0]
    if kind == "value":
        name = node[1]
        return lambda item, values: values[name]
    if kind == "path":
        get = document.getter(resolve(node[1]))

        def present(item, values):
            found = get(item, values)
            if found is None:
                raise ValidationError(MISSING)
            return found

        return present
    if kind in ("+", "-"):
        a, b = _value(node[1], resolve), _value(node[2], resolve)
        return lambda item, values: _arithmetic(kind, a(item, values), b(item, values))
    name, args = node[1], node[2]
    if name == "if_not_exists":
        get, default = document.getter(resolve(args[0][1])), _value(args[1], resolve)
        return lambda item, values: get(item, values) or default(item, values)
    a, b = _value(args[0], resolve), _value(args[1], resolve)
    return lambda item, values: _append(a(item, values), b(item, values))


def _append(a: dict, b: dict) -> dict:
    if "L" not in a or "L" not in b:
        raise ValidationError(WRONG_TYPE)
    return {"L": a["L"] + b["L"]}


def _parent(new: dict, path: tuple, fresh: dict):
    """The map (dict) or list holding the end of `path` in `new`, copied first unless this
    update made it; raises INVALID_PATH when it is not there or not a map or list."""
    container = new
    for depth, key in enumerate(path[:-1]):
        try:
            child = container[key]
        except (KeyError, IndexError, TypeError):
            raise ValidationError(INVALID_PATH) from None
        kind = "L" if isinstance(path[depth + 1], int) else "M"
        inner = child.get(kind)
        if inner is None:
            raise ValidationError(INVALID_PATH)
        if id(inner) not in fresh:
            inner = list(inner) if kind == "L" else dict(inner)
            fresh[id(inner)] = inner
            container[key] = {kind: inner}
        container = inner
    if isinstance(container, list) != isinstance(path[-1], int):
        raise ValidationError(INVALID_PATH)
    return container


def _put(new: dict, path: tuple, value: dict, fresh: dict) -> None:
    container = _parent(new, path, fresh) if len(path) > 1 else new
    key = path[-1]
    if isinstance(container, list) and key >= len(container):
        container.append(value)
    else:
        container[key] = value


def _remove(new: dict, path: tuple, fresh: dict) -> None:
    container = _parent(new, path, fresh) if len(path) > 1 else new
    if isinstance(container, dict):
        container.pop(path[-1], None)
    elif path[-1] < len(container):
        del container[path[-1]]


def _elements(type_: str, raw: list) -> dict:
    """A set's elements by identity: numbers by value ("1" is "1.0")."""
    return {Decimal(x) if type_ == "NS" else x: x for x in raw}


def _add(new: dict, path: tuple, value: dict, fresh: dict) -> None:
    container = _parent(new, path, fresh) if len(path) > 1 else new
    key = path[-1]
    old = container.get(key) if isinstance(container, dict) else None
    if isinstance(container, list) and key < len(container):
        old = container[key]
    ((type_, raw),) = value.items()
    if old is not None and type_ not in old:
        raise ValidationError(WRONG_TYPE)
    if type_ == "N":
        result = document.add(old["N"] if old else "0", raw)
    else:
        elements = _elements(type_, old[type_]) if old else {}
        for key, element in _elements(type_, raw).items():
            elements.setdefault(key, element)
        result = {type_: list(elements.values())}
    _put(new, path, result, fresh)


def _delete(new: dict, path: tuple, value: dict, fresh: dict) -> None:
    container = _parent(new, path, fresh) if len(path) > 1 else new
    key = path[-1]
    if isinstance(container, list):
        old = container[key] if key < len(container) else None
    else:
        old = container.get(key)
    if old is None:
        return
    ((type_, raw),) = value.items()
    if type_ not in old:
        raise ValidationError(WRONG_TYPE)
    gone = _elements(type_, raw)
    left = [x for k, x in _elements(type_, old[type_]).items() if k not in gone]
    if left:
        _put(new, path, {type_: left}, fresh)
    else:
        _remove(new, path, fresh)


def compile_update(parsed: Parsed, resolve: Callable, kind: str):
    """(apply, paths): apply(item, values) -> the new item; paths, every path the update
    writes, in the order written."""
    tree = parsed.tree
    sets = [(resolve(path), _value(node, resolve)) for path, node in tree.get("SET", ())]
    removes = [resolve(path) for path in tree.get("REMOVE", ())]
    adds = [(resolve(path), name) for path, name in tree.get("ADD", ())]
    deletes = [(resolve(path), name) for path, name in tree.get("DELETE", ())]
    paths = [path for path, _ in sets] + removes + [path for path, _ in adds + deletes]
    document.check_paths(kind, paths)
    # Sorted: appends past a list's end land in index order, removals of list elements go
    # from the last, so each index means the position before the update. (Two paths that
    # share a prefix differ next in the same kind: check_paths refused the others.)
    sets.sort(key=lambda action: action[0])
    removes.sort(reverse=True)
    simple = all(len(path) == 1 for path in paths) and not adds and not deletes

    def apply(item: dict, values: dict) -> dict:
        computed = [(path, value(item, values)) for path, value in sets]
        new = dict(item)
        if simple:
            for path, value in computed:
                new[path[0]] = value
            for path in removes:
                new.pop(path[0], None)
            return new
        fresh: dict = {}
        for path, value in computed:
            _put(new, path, value, fresh)
        for path in removes:
            _remove(new, path, fresh)
        for path, name in adds:
            _add(new, path, values[name], fresh)
        for path, name in deletes:
            _delete(new, path, values[name], fresh)
        return new

    return apply, paths
