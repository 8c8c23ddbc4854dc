"""DynamoDB's expression language parsed into plain tuples, with DynamoDB's ValidationException
messages for what it refuses before it reads an item (devtools/memory_aws/expressions.py
evaluates the trees; the parse of each expression string is made once and cached there).

Trees:
    path        tuple of str (an attribute, or a "#name" placeholder) and int (a list index)
    operand     ("path", path) | ("value", ":v") | ("call", function, args) | (op, a, b) for
                an update's "+" and "-"
    condition   ("cmp", op, a, b) | ("between", x, low, high) | ("in", x, operands)
                | ("call", function, args) | ("and", a, b) | ("or", a, b) | ("not", a)
    update      {"SET": [(path, operand)], "REMOVE": [path], "ADD": [(path, ":v")],
                 "DELETE": [(path, ":v")]}, only the clauses written
    projection  [path, ...]

What can only be checked with the values (an operand's type) is returned as data, for the
caller to check on each call, `Parsed.checks`: ("types", ":v", allowed types, message with a
"{}" for the type found[, names to give types in it]), ("attribute_type", ":v") and
("between", ":low", ":high").
"""

import re
from dataclasses import dataclass
from pathlib import Path


class ValidationError(Exception):
    """DynamoDB's ValidationException; str(error) is its message."""


RESERVED = frozenset(
    word
    for line in (Path(__file__).with_name("reserved_words.txt")).read_text().splitlines()
    if not line.startswith("#")
    for word in line.split()
)
_TOKEN = re.compile(r"\s*(?:(#\w+)|(:\w+)|([A-Za-z_]\w*)|(\d+)|(<>|<=|>=|[=<>(),.\[\]+-]))", re.A)
_KINDS = ("#", ":", "word", "num", None)  # None: the punctuation is its own kind
COMPARATORS = frozenset(("=", "<>", "<", "<=", ">", ">="))
CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
TYPES = ("S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M")
TYPE_WORDS = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL"}
TYPE_WORDS |= {"L": "LIST", "M": "MAP"}


@dataclass(frozen=True)
class Parsed:
    tree: object
    names: tuple  # the "#name" placeholders used, in order of first use
    values: tuple  # the ":value" placeholders used
    checks: tuple


def operand_type_error(function: str, type_: str) -> str:
    return (
        "Incorrect operand type for operator or function; "
        f"operator or function: {function}, operand type: {type_}"
    )


class _Parser:
    def __init__(self, text: str, kind: str, keywords: frozenset = frozenset()):
        self.text, self.kind, self.keywords = text, kind, keywords
        self.tokens, self.at = [], 0
        self.names, self.values, self.checks, self.groups = {}, {}, [], set()
        position = 0
        while text[position:].strip():
            match = _TOKEN.match(text, position)
            if match is None:
                start = len(text) - len(text[position:].lstrip())
                self.tokens.append(("?", text[start], start, start + 1))
                break
            group = match.lastindex
            kind_ = _KINDS[group - 1] or match.group(group)
            self.tokens.append((kind_, match.group(group), match.start(group), match.end()))
            position = match.end()
        if not self.tokens:
            raise self.error("The expression can not be empty;")

    def error(self, detail: str) -> ValidationError:
        return ValidationError(f"Invalid {self.kind}: {detail}")

    def peek(self, ahead: int = 0) -> tuple:
        at = self.at + ahead
        return self.tokens[at] if at < len(self.tokens) else ("eof", "<EOF>", None, None)

    def fail(self) -> ValidationError:
        """A syntax error at the current token, near it and its neighbours, as DynamoDB says."""
        token = self.peek()
        before = self.tokens[max(self.at - 1, 0)]
        after = self.tokens[min(self.at + 1, len(self.tokens) - 1)]
        near = self.text[before[2] : (after if token[0] != "eof" else before)[3]]
        return self.error(f'Syntax error; token: "{token[1]}", near: "{near}"')

    def take(self, kind: str) -> tuple:
        token = self.peek()
        if token[0] != kind:
            raise self.fail()
        self.at += 1
        return token

    def accept(self, kind: str) -> bool:
        if self.peek()[0] == kind:
            self.at += 1
            return True
        return False

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token[0] == "word" and token[1].upper() == word:
            self.at += 1
            return True
        return False

    def done(self) -> None:
        if self.at < len(self.tokens):
            raise self.fail()

    def parsed(self, tree) -> Parsed:
        return Parsed(tree, tuple(self.names), tuple(self.values), tuple(self.checks))

    def check(self, operand, allowed, message) -> None:
        if operand[0] == "value":
            self.checks.append(("types", operand[1], allowed, message))

    # --- paths and operands ------------------------------------------------------------------

    def name(self) -> str:
        token = self.peek()
        if token[0] == "#":
            self.names[token[1]] = True
        elif token[0] != "word" or token[1].upper() in self.keywords:
            raise self.fail()
        elif token[1].upper() in RESERVED:
            raise self.error(f"Attribute name is a reserved keyword; reserved keyword: {token[1]}")
        self.at += 1
        return token[1]

    def path(self) -> tuple:
        parts = [self.name()]
        while True:
            if self.accept("."):
                parts.append(self.name())
            elif self.accept("["):
                parts.append(int(self.take("num")[1]))
                self.take("]")
            else:
                return tuple(parts)

    def value(self) -> tuple:
        token = self.take(":")
        self.values[token[1]] = True
        return ("value", token[1])

    def operand(self, functions: dict) -> tuple:
        token = self.peek()
        if token[0] == ":":
            return self.value()
        if token[0] == "word" and self.peek(1)[0] == "(":
            return self.call(functions)
        return ("path", self.path())

    def call(self, functions: dict) -> tuple:
        name = self.take("word")[1]
        self.take("(")
        args = []
        if not self.accept(")"):
            args.append(self.argument(functions))
            while self.accept(","):
                args.append(self.argument(functions))
            self.take(")")
        if name not in functions:
            raise self.error(f"Invalid function name; function: {name}")
        if len(args) != functions[name]:
            raise self.error(
                "Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(args)}"
            )
        if functions is CONDITION_FUNCTIONS:
            return self.function_checks(("call", name, tuple(args)))
        if name == "if_not_exists" and args[0][0] != "path":
            raise self.error(
                f"Operator or function requires a document path; operator or function: {name}"
            )
        if name == "list_append":
            for arg in args:
                self.check(arg, ("L",), operand_type_error(name, "{}"))
        return ("call", name, tuple(args))

    def argument(self, functions: dict) -> tuple:
        if functions is UPDATE_FUNCTIONS:
            return self.update_operand()
        return self.misuse(self.operand(functions))

    def misuse(self, operand: tuple, allowed: str = "size") -> tuple:
        if operand[0] == "call" and operand[1] != allowed:
            raise self.error(
                "The function is not allowed to be used this way in an expression; "
                f"function: {operand[1]}"
            )
        return operand

    # --- conditions --------------------------------------------------------------------------

    def disjunction(self) -> tuple:
        node = self.conjunction()
        while self.keyword("OR"):
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> tuple:
        node = self.negation()
        while self.keyword("AND"):
            node = ("and", node, self.negation())
        return node

    def negation(self) -> tuple:
        # NOT takes a comparison, a function or a parenthesized condition: "NOT NOT" is a
        # syntax error, as dynalite has it of DynamoDB (moto fails on it).
        return ("not", self.comparison()) if self.keyword("NOT") else self.comparison()

    def comparison(self) -> tuple:
        if self.accept("("):
            inner = self.disjunction()
            self.take(")")
            if id(inner) in self.groups:  # ((condition))
                raise self.error("The expression has redundant parentheses;")
            self.groups.add(id(inner))
            return inner
        left = self.operand(CONDITION_FUNCTIONS)
        token = self.peek()
        if token[0] in COMPARATORS:
            self.at += 1
            right = self.misuse(self.operand(CONDITION_FUNCTIONS))
            return ("cmp", token[0], self.misuse(left), right)
        if self.keyword("BETWEEN"):
            low = self.misuse(self.operand(CONDITION_FUNCTIONS))
            if not self.keyword("AND"):
                raise self.fail()
            high = self.misuse(self.operand(CONDITION_FUNCTIONS))
            if low[0] == "value" and high[0] == "value":
                self.checks.append(("between", low[1], high[1]))
            return ("between", self.misuse(left), low, high)
        if self.keyword("IN"):
            self.take("(")
            options = [self.misuse(self.operand(CONDITION_FUNCTIONS))]
            while self.accept(","):
                options.append(self.misuse(self.operand(CONDITION_FUNCTIONS)))
            self.take(")")
            return ("in", self.misuse(left), tuple(options))
        if left[0] != "call":
            raise self.fail()
        if left[1] == "size":  # size(a) alone is no condition
            raise self.error(
                "The function is not allowed to be used this way in an expression; function: size"
            )
        return left

    def function_checks(self, call: tuple) -> tuple:
        _, name, args = call
        if name in ("attribute_exists", "attribute_not_exists") and args[0][0] != "path":
            raise self.error(
                f"Operator or function requires a document path; operator or function: {name}"
            )
        if name == "attribute_type":
            if args[1][0] != "value":
                raise self.error(operand_type_error(name, "{" + ",".join(TYPES) + "}"))
            self.checks.append(("types", args[1][1], ("S",), operand_type_error(name, "{}")))
            self.checks.append(("attribute_type", args[1][1]))
        elif name == "begins_with":
            for arg in args:
                self.check(arg, ("S", "B"), operand_type_error(name, "{}"))
        elif name == "size":
            sized = tuple(t for t in TYPES if t not in ("N", "BOOL", "NULL"))
            self.check(args[0], sized, operand_type_error(name, "{}"))
        return call

    # --- updates -----------------------------------------------------------------------------

    def update_operand(self) -> tuple:
        if self.accept("("):
            inner = self.set_value()
            self.take(")")
            if inner[0] in ("+", "-"):
                self.groups.add(id(inner))
            return inner
        return self.operand(UPDATE_FUNCTIONS)

    def set_value(self) -> tuple:
        left = self.update_operand()
        sign = self.peek()[0]
        if sign not in ("+", "-"):
            return left
        if id(left) in self.groups:  # (a + b) + c: one operator a value
            raise self.fail()
        self.at += 1
        right = self.update_operand()
        if id(right) in self.groups:
            raise self.fail()
        for operand in (left, right):
            self.check(operand, ("N",), operand_type_error(sign, "{}"))
        return (sign, left, right)


def parse_condition(text: str, kind: str = "ConditionExpression") -> Parsed:
    parser = _Parser(text, kind, frozenset(("AND", "OR", "NOT", "BETWEEN", "IN")))
    tree = parser.disjunction()
    parser.done()
    return parser.parsed(tree)


def parse_update(text: str, kind: str = "UpdateExpression") -> Parsed:
    clauses = ("SET", "REMOVE", "ADD", "DELETE")
    parser = _Parser(text, kind, frozenset(clauses))
    tree: dict[str, list] = {}
    while parser.at < len(parser.tokens):
        token = parser.peek()
        clause = token[1].upper() if token[0] == "word" else None
        if clause not in clauses:
            raise parser.fail()
        if clause in tree:
            raise parser.error(
                f'The "{clause}" section can only be used once in an update expression;'
            )
        parser.at += 1
        actions = tree[clause] = []
        while True:
            path = parser.path()
            if clause == "SET":
                parser.take("=")
                actions.append((path, parser.set_value()))
            elif clause == "REMOVE":
                actions.append(path)
            else:
                value = parser.value()[1]
                sets = ("SS", "NS", "BS", "N") if clause == "ADD" else ("SS", "NS", "BS")
                message = "Incorrect operand type for operator or function; "
                message += f"operator: {clause}, operand type: {{}}"
                parser.checks.append(("types", value, sets, message, TYPE_WORDS))
                actions.append((path, value))
            if not parser.accept(","):
                break
    return parser.parsed(tree)


def parse_projection(text: str, kind: str = "ProjectionExpression") -> Parsed:
    parser = _Parser(text, kind)
    paths = [parser.path()]
    while parser.accept(","):
        paths.append(parser.path())
    parser.done()
    return parser.parsed(paths)
