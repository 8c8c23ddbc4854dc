"""An UpdateItem (alone or in a transaction) of the in-memory DynamoDB: checked and compiled
before the engine's lock, applied under it to what the item holds, and what it answers."""

from devtools.memory_aws import expressions
from devtools.memory_aws.errors import validation
from devtools.memory_aws.requests import Request
from devtools.memory_aws.values import (
    attribute_size,
    check_size,
    copy_item,
    item_size,
    take_value,
)  # fmt: skip


class Update:
    """An UpdateItem's change, checked before the lock: called under it with the item's key
    and what it holds, it answers (the new item, its size, its index placements)."""

    def __init__(self, table, key_attributes: dict, request: Request):
        self.table, self.request = table, request
        self.update = request.update()
        self.paths = request.updated_paths()
        touched = table.key_names.intersection(path[0] for path in self.paths)
        if touched:
            raise validation(
                request.operation, "One or more parameter values were invalid: Cannot update "
                f"attribute {sorted(touched)[0]}. This attribute is part of the key",
            )  # fmt: skip
        operation = request.operation
        self.base = {
            name: take_value(key_attributes[name], operation)[0] for name in table.key_names
        }

    def __call__(self, key: tuple, old):
        # The update copies on write: an attribute it left alone is the same object in both.
        table, operation = self.table, self.request.operation
        base = old if old is not None else self.base
        new = self.request.run(self.update, base) if self.update is not None else dict(base)
        if old is None:
            size = item_size(new)
            changed = new.keys()
        else:
            changed = [n for n in new.keys() | old.keys() if new.get(n) is not old.get(n)]
            size = table.sizes[key]
            for name in changed:
                size += (attribute_size(name, new[name]) if name in new else 0) - (
                    attribute_size(name, old[name]) if name in old else 0
                )
        check_size(size, operation)
        if old is not None and table.index_keys.isdisjoint(changed):
            placed = table.placed.get(key, [])
        else:
            placed = table.placements(new, key, operation)
        return new, size, placed


def answer(return_values: str, old, new, paths) -> dict:
    if return_values == "NONE":
        return {}
    if return_values == "ALL_OLD":
        chosen = old or {}
    elif return_values == "ALL_NEW":
        chosen = new
    else:  # UPDATED_OLD, UPDATED_NEW: what the paths the update writes held
        chosen = expressions.project((old or {}) if return_values == "UPDATED_OLD" else new, paths)
    return {"Attributes": copy_item(chosen)} if chosen else {}
