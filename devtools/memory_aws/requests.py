"""A DynamoDB request's expressions, compiled (devtools/memory_aws/expressions.py) after the
checks DynamoDB makes on their placeholders: every #name and :value an expression uses must
be defined, and every one defined must be used by one of the request's expressions."""

import functools

from devtools.memory_aws import expressions
from devtools.memory_aws.errors import validation
from devtools.memory_aws.values import take_values


@functools.lru_cache(maxsize=4096)
def _used(expression: str) -> tuple[frozenset, frozenset]:
    names, values = expressions.used_placeholders(expression)
    return frozenset(names), frozenset(values)


class Request:
    """The placeholders of one request (or of one item of a transaction) and its compiled
    expressions. Build it, call the compilers the request needs, then `check()`."""

    def __init__(self, operation: str, names, values, **written):
        self.operation = operation
        if names is not None and not names:
            raise validation(operation, "ExpressionAttributeNames must not be empty")
        self.names = dict(names or {})
        self.values = take_values(values, operation)
        self.written = {kind: text for kind, text in written.items() if text is not None}
        if not self.written and (self.names or self.values):
            which = "ExpressionAttributeNames" if self.names else "ExpressionAttributeValues"
            raise validation(operation, f"{which} can only be specified when using expressions")
        used_names, used_values = set(), set()
        for kind, text in self.written.items():
            if not isinstance(text, str) or not text.strip():
                raise validation(
                    operation, f"Invalid {kind}: The expression can not be empty;"
                )  # fmt: skip
            names_in, values_in = self._used(kind, text)
            for name in sorted(names_in - set(self.names)):
                raise validation(operation, expressions.undefined_name(kind, name))
            for value in sorted(values_in - set(self.values)):
                raise validation(operation, expressions.undefined_value(kind, value))
            used_names |= names_in
            used_values |= values_in
        for given, used, what in (
            (self.names, used_names, "ExpressionAttributeNames"),
            (self.values, used_values, "ExpressionAttributeValues"),
        ):
            unused = sorted(set(given) - used)
            if unused:
                raise validation(
                    operation, f"Value provided in {what} unused in expressions: keys: "
                    f"{{{', '.join(unused)}}}",
                )  # fmt: skip

    def _used(self, kind: str, text: str) -> tuple[frozenset, frozenset]:
        try:
            return _used(text)
        except expressions.ValidationError as error:
            raise validation(self.operation, str(error)) from None

    def _compiled(self, compiler, kind: str):
        text = self.written.get(kind)
        if text is None:
            return None
        try:
            return compiler(text)
        except expressions.ValidationError as error:
            raise validation(self.operation, str(error)) from None

    def condition(self, kind: str = "ConditionExpression"):
        """The ConditionExpression's (or FilterExpression's) test of a typed item or None."""
        return self._compiled(
            lambda text: expressions.condition(text, self.names, self.values, kind=kind), kind
        )  # fmt: skip

    def update(self):
        return self._compiled(
            lambda text: expressions.update(text, self.names, self.values), "UpdateExpression"
        )  # fmt: skip

    def updated_paths(self) -> list[tuple]:
        """The document paths the UpdateExpression writes (path[0]: a top-level attribute)."""
        compiled = self._compiled(
            lambda text: expressions.updated_paths(text, self.names), "UpdateExpression"
        )  # fmt: skip
        return compiled or []

    def key_condition(self, partition_key: str):
        return self._compiled(
            lambda text: expressions.key_condition(
                text, self.names, self.values, partition_key=partition_key
            ),
            "KeyConditionExpression",
        )

    def projection(self):
        return self._compiled(
            lambda text: expressions.projection(text, self.names), "ProjectionExpression"
        )  # fmt: skip

    def run(self, function, *arguments):
        """Apply a compiled expression to an item, its refusals as ValidationException."""
        try:
            return function(*arguments)
        except expressions.ValidationError as error:
            raise validation(self.operation, str(error)) from None
