"""`$filter` expressions: tokenizer, parser, static type check and evaluator.

The check runs before any data is touched, like the platform that translates the filter into a
query first: an ordering comparison on a reference or a comparison on an unlimited-length string
fails even when no row would match.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sandbox.onec.errors import ODataError, function_call_error, invalid_comparison, query_option_parse_error
from sandbox.onec.model import EMPTY_GUID, EntitySet, Prop, ServiceModel, TabularSection

_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATETIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$")
_TOKEN_RE = re.compile(
    r"""\s*(?:
      (?P<typed>(?:guid|datetime|datetimeoffset|time|binary|X)'(?:[^']|'')*')
    | (?P<string>'(?:[^']|'')*')
    | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[LlMmDdFf]?)
    | (?P<ident>[^\W\d][\w]*)
    | (?P<symbol>[()/,:+\-*])
    )""",
    re.VERBOSE,
)

COMPARISON_OPS = ("eq", "ne", "gt", "ge", "lt", "le")
ORDERING_OPS = ("gt", "ge", "lt", "le")
# How deep an expression may nest (parentheses, `not`, unary minus, calls, lambdas, operator
# chains other than and/or): a filter past it is refused as a parse error (code 14) rather than
# walked by recursion past Python's stack (docs/sandbox-onec.md, needs a live check).
MAX_NESTING = 50


class _ParseError(Exception):
    pass


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


@dataclass(frozen=True)
class Literal:
    kind: str  # guid | datetime | string | number | bool | null | cast
    value: Any


@dataclass(frozen=True)
class Path:
    segments: tuple[str, ...]


@dataclass(frozen=True)
class Lambda:
    collection: Path
    kind: str  # any | all
    variable: str
    body: Node | None


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = Literal | Path | Lambda | BinOp | Not | Negate | Call


@dataclass(frozen=True)
class Composite:
    value: str
    type_name: str


def normalize_datetime(text: str) -> str:
    match = _DATETIME_RE.match(text)
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(g or 0) for g in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"


def is_guid(text: str) -> bool:
    return bool(_GUID_RE.match(text))


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN_RE.match(text, position)
        if not match or match.end() == position:
            raise _ParseError(text[position:])
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.position = 0
        self.nesting = 0

    def enter(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise _ParseError("nested too deep")

    def peek(self, offset: int = 0) -> Token | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise _ParseError("unexpected end")
        self.position += 1
        return token

    def expect_symbol(self, symbol: str) -> None:
        token = self.take()
        if token.kind != "symbol" or token.text != symbol:
            raise _ParseError(f"expected {symbol}")

    def at_word(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token.kind == "ident" and token.text in words:
            return token.text
        return None

    def parse(self) -> Node:
        node = self.parse_or()
        if self.peek() is not None:
            raise _ParseError("trailing tokens")
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.at_word("or"):
            self.take()
            operands.append(self.parse_and())
        return _balanced("or", operands)

    def parse_and(self) -> Node:
        operands = [self.parse_comparison()]
        while self.at_word("and"):
            self.take()
            operands.append(self.parse_comparison())
        return _balanced("and", operands)

    def parse_comparison(self) -> Node:
        node = self.parse_additive()
        op = self.at_word(*COMPARISON_OPS)
        if op:
            self.take()
            node = BinOp(op, node, self.parse_additive())
        return node

    def parse_additive(self) -> Node:
        node = self.parse_multiplicative()
        while True:
            token = self.peek()
            if token is not None and token.kind == "symbol" and token.text in "+-":
                self.take()
                node = BinOp("add" if token.text == "+" else "sub", node, self.parse_multiplicative())
            elif op := self.at_word("add", "sub"):
                self.take()
                node = BinOp(op, node, self.parse_multiplicative())
            else:
                return node

    def parse_multiplicative(self) -> Node:
        node = self.parse_unary()
        while True:
            token = self.peek()
            if token is not None and token.kind == "symbol" and token.text == "*":
                self.take()
                node = BinOp("mul", node, self.parse_unary())
            elif op := self.at_word("mul", "div", "mod"):
                self.take()
                node = BinOp(op, node, self.parse_unary())
            else:
                return node

    def parse_unary(self) -> Node:
        if self.at_word("not"):
            self.take()
            self.enter()
            node: Node = Not(self.parse_unary())
            self.nesting -= 1
            return node
        token = self.peek()
        if token is not None and token.kind == "symbol" and token.text == "-":
            self.take()
            self.enter()
            node = Negate(self.parse_unary())
            self.nesting -= 1
            return node
        return self.parse_primary()

    def parse_primary(self) -> Node:
        token = self.take()
        if token.kind == "symbol" and token.text == "(":
            self.enter()
            node = self.parse_or()
            self.expect_symbol(")")
            self.nesting -= 1
            return node
        if token.kind == "string":
            return Literal("string", token.text[1:-1].replace("''", "'"))
        if token.kind == "number":
            return _number_literal(token.text)
        if token.kind == "typed":
            return _typed_literal(token.text)
        if token.kind != "ident":
            raise _ParseError(token.text)
        if token.text in ("true", "false"):
            return Literal("bool", token.text == "true")
        if token.text == "null":
            return Literal("null", None)
        if token.text in (*COMPARISON_OPS, "and", "or", "add", "sub", "mul", "div", "mod"):
            raise _ParseError(f"operator {token.text} where an operand is expected")
        following = self.peek()
        if following is not None and following.kind == "symbol" and following.text == "(":
            return self.parse_call(token.text)
        return self.parse_path(token.text)

    def parse_call(self, name: str) -> Node:
        self.expect_symbol("(")
        self.enter()
        args: list[Node] = []
        token = self.peek()
        if token is not None and not (token.kind == "symbol" and token.text == ")"):
            args.append(self.parse_or())
            while (token := self.peek()) is not None and token.kind == "symbol" and token.text == ",":
                self.take()
                args.append(self.parse_or())
        self.expect_symbol(")")
        self.nesting -= 1
        if name == "cast":
            return _cast_literal(args)
        return Call(name, tuple(args))

    def parse_path(self, first: str) -> Node:
        segments = [first]
        while (token := self.peek()) is not None and token.kind == "symbol" and token.text == "/":
            self.take()
            name = self.take()
            if name.kind != "ident":
                raise _ParseError("path segment")
            if name.text in ("any", "all") and (nxt := self.peek()) is not None and nxt.text == "(":
                return self.parse_lambda(Path(tuple(segments)), name.text)
            segments.append(name.text)
        return Path(tuple(segments))

    def parse_lambda(self, collection: Path, kind: str) -> Node:
        self.expect_symbol("(")
        token = self.peek()
        if token is not None and token.kind == "symbol" and token.text == ")":
            self.take()
            return Lambda(collection, kind, "", None)
        variable = self.take()
        if variable.kind != "ident":
            raise _ParseError("lambda variable")
        self.expect_symbol(":")
        self.enter()
        body = self.parse_or()
        self.nesting -= 1
        self.expect_symbol(")")
        return Lambda(collection, kind, variable.text, body)


def _balanced(op: str, operands: list[Node]) -> Node:
    """`a op b op c …` as a balanced tree: and/or are associative (true only when all/any operand
    is), so a chain of hundreds of conditions nests log₂ deep instead of one level per operand."""
    while len(operands) > 1:
        paired: list[Node] = [BinOp(op, a, b) for a, b in zip(operands[::2], operands[1::2], strict=False)]
        operands = paired + operands[len(paired) * 2 :]
    return operands[0]


def _depth(node: Node) -> int:
    """Levels of the tree under `node`, walked without recursion."""
    deepest, pending = 0, [(node, 1)]
    while pending:
        current, depth = pending.pop()
        deepest = max(deepest, depth)
        children: tuple[Node | None, ...] = ()
        if isinstance(current, BinOp):
            children = (current.left, current.right)
        elif isinstance(current, Not | Negate):
            children = (current.operand,)
        elif isinstance(current, Call):
            children = current.args
        elif isinstance(current, Lambda):
            children = (current.body,)
        pending.extend((child, depth + 1) for child in children if child is not None)
    return deepest


def _number_literal(text: str) -> Literal:
    body = text.rstrip("LlMmDdFf")
    try:
        value: float | int = float(body) if any(c in body for c in ".eE") else int(body)
    except ValueError as exc:  # more digits than int() reads (4 300): no number of the platform's
        raise _ParseError(text) from exc
    return Literal("number", value)


def _typed_literal(text: str) -> Literal:
    prefix, _, rest = text.partition("'")
    value = rest[:-1].replace("''", "'")
    if prefix == "guid":
        if not is_guid(value):
            raise _ParseError(value)
        return Literal("guid", value.lower())
    if prefix in ("datetime", "datetimeoffset"):
        try:
            return Literal("datetime", normalize_datetime(value))
        except ValueError as exc:
            raise _ParseError(value) from exc
    raise _ParseError(prefix)


def _cast_literal(args: list[Node]) -> Literal:
    if len(args) != 2 or not isinstance(args[0], Literal) or not isinstance(args[1], Literal):
        raise _ParseError("cast")
    if args[0].kind != "guid" or args[1].kind != "string":
        raise _ParseError("cast")
    set_name = str(args[1].value).removeprefix("StandardODATA.")
    return Literal("cast", Composite(str(args[0].value), f"StandardODATA.{set_name}"))


def parse_filter(text: str, option: str = "$filter") -> Node:
    try:
        node = _Parser(tokenize(text)).parse()
        # Chains of add/sub/mul/… nest one level per operator; the check and the evaluator recurse.
        if _depth(node) > MAX_NESTING * 2:
            raise _ParseError("nested too deep")
    except _ParseError as exc:
        raise query_option_parse_error(option) from exc
    return node


# ---------------------------------------------------------------- static check


Scope = dict[str, TabularSection]


def _prop_kind(prop: Prop) -> str:
    if prop.composite:
        return "composite"
    if prop.edm == "Edm.Guid":
        return "guid"
    if prop.edm == "Edm.String":
        return (
            "string"
            if prop.max_length or prop.enum or prop.name.endswith("_Type") or prop.name in _FIXED_STRINGS
            else "text"
        )
    if prop.edm == "Edm.DateTime":
        return "datetime"
    if prop.edm == "Edm.Boolean":
        return "bool"
    if prop.edm in ("Edm.Double", "Edm.Int16", "Edm.Int32", "Edm.Int64"):
        return "number"
    if prop.is_collection:
        return "collection"
    return "other"


# Standard string properties without a length note in the model (enums are fixed-length too).
_FIXED_STRINGS = frozenset({"PredefinedDataName", "DataVersion", "Number", "Code", "Recorder", "RecordType"})


class Checker:
    def __init__(self, model: ServiceModel, entity_set: EntitySet | TabularSection, option: str) -> None:
        self.model = model
        self.root = entity_set
        self.option = option

    def fail(self) -> ODataError:
        return query_option_parse_error(self.option)

    def check_bool(self, node: Node) -> None:
        if self.kind(node, {}) not in ("bool", "null"):
            raise self.fail()

    def resolve(self, segments: tuple[str, ...], scope: Scope) -> tuple[str, Prop | None]:
        owner: EntitySet | TabularSection = self.root
        rest = list(segments)
        if rest[0] in scope:
            owner = scope[rest.pop(0)]
            if not rest:
                raise self.fail()
        while rest:
            name = rest.pop(0)
            prop = _find_prop(owner, name)
            if prop is not None and (prop.edm != "Edm.Guid" or not rest or not prop.ref_target):
                if rest:
                    raise self.fail()
                kind = _prop_kind(prop)
                if prop.name.endswith("_Type") and _find_prop(owner, prop.name[:-5]) is not None:
                    kind = "string"
                return kind, prop
            key_prop = prop if prop is not None else _find_prop(owner, f"{name}_Key")
            if key_prop is None or not key_prop.is_key_ref:
                raise self.fail()
            if not rest:
                return "guid", key_prop
            target = self.model.entity_set(key_prop.ref_target or "")
            if target is None:
                raise self.fail()
            owner = target
        raise self.fail()

    def kind(self, node: Node, scope: Scope) -> str:
        if isinstance(node, Literal):
            return node.kind
        if isinstance(node, Path):
            return self.resolve(node.segments, scope)[0]
        if isinstance(node, Lambda):
            section = self._section(node.collection, scope)
            if node.body is not None:
                inner = dict(scope)
                inner[node.variable] = section
                if self.kind(node.body, inner) not in ("bool", "null"):
                    raise self.fail()
            return "bool"
        if isinstance(node, Not):
            if self.kind(node.operand, scope) != "bool":
                raise self.fail()
            return "bool"
        if isinstance(node, Negate):
            if self.kind(node.operand, scope) != "number":
                raise self.fail()
            return "number"
        if isinstance(node, BinOp):
            left, right = self.kind(node.left, scope), self.kind(node.right, scope)
            if node.op in ("and", "or"):
                if left != "bool" or right != "bool":
                    raise self.fail()
                return "bool"
            if node.op in COMPARISON_OPS:
                _check_comparison(node.op, left, right)
                return "bool"
            if left != "number" or right != "number":
                raise self.fail()
            return "number"
        if isinstance(node, Call):
            return self._call_kind(node, scope)
        raise self.fail()

    def _section(self, collection: Path, scope: Scope) -> TabularSection:
        if len(collection.segments) != 1 or not isinstance(self.root, EntitySet):
            raise self.fail()
        section = self.root.tabular.get(collection.segments[0])
        if section is None:
            raise self.fail()
        return section

    def _call_kind(self, node: Call, scope: Scope) -> str:
        kinds = [self.kind(a, scope) for a in node.args]
        strings = ("string", "text", "composite")
        signature: dict[str, tuple[int, tuple[str, ...], str]] = {
            "substringof": (2, strings, "bool"),
            "startswith": (2, strings, "bool"),
            "endswith": (2, strings, "bool"),
            "tolower": (1, strings, "string"),
            "toupper": (1, strings, "string"),
            "trim": (1, strings, "string"),
            "length": (1, strings, "number"),
            "indexof": (2, strings, "number"),
            "year": (1, ("datetime",), "number"),
            "month": (1, ("datetime",), "number"),
            "day": (1, ("datetime",), "number"),
            "hour": (1, ("datetime",), "number"),
            "minute": (1, ("datetime",), "number"),
            "second": (1, ("datetime",), "number"),
        }
        if node.name not in signature:
            raise self.fail()
        arity, accepted, result = signature[node.name]
        if len(kinds) != arity:
            raise self.fail()
        if any(k not in accepted for k in kinds):
            raise function_call_error(node.name)
        return result


def _find_prop(owner: EntitySet | TabularSection, name: str) -> Prop | None:
    return owner.prop(name)


def _check_comparison(op: str, left: str, right: str) -> None:
    pair = {left, right}
    if "text" in pair or "collection" in pair or "other" in pair:
        raise invalid_comparison()
    if op in ORDERING_OPS and pair & {"guid", "cast", "composite"}:
        raise invalid_comparison()
    if left == right or "null" in pair or "composite" in pair:
        return
    if pair in ({"guid", "cast"}, {"datetime", "string"}):
        return
    raise invalid_comparison()


# ---------------------------------------------------------------- evaluation


Resolver = Callable[[str, str], dict[str, Any] | None]
Rows = dict[str, tuple[TabularSection, dict[str, Any]]]


@dataclass
class Evaluator:
    """Evaluates a checked tree against stored objects (values in their stored Python form)."""

    root: EntitySet | TabularSection
    model: ServiceModel
    lookup: Resolver

    def matches(self, node: Node, obj: dict[str, Any]) -> bool:
        return self.value(node, obj, {}) is True

    def predicate(self, node: Node) -> Callable[[dict[str, Any]], bool]:
        """`matches` for one node, worked out once for a whole collection. The shapes sync reads
        send (`Prop op literal`, joined by and/or) skip the tree walk per row; anything else is
        evaluated by `matches`, so both give the same answer."""
        if isinstance(node, BinOp) and node.op in ("and", "or"):
            left, right = self.predicate(node.left), self.predicate(node.right)
            if node.op == "and":
                return lambda obj: left(obj) and right(obj)
            return lambda obj: left(obj) or right(obj)
        if isinstance(node, BinOp) and node.op in COMPARISON_OPS and isinstance(node.right, Literal):
            name = self._plain_property(node.left)
            if name is not None:
                op, literal = node.op, node.right.value
                return lambda obj: compare(op, obj.get(name), literal) is True
        return lambda obj: self.matches(node, obj)

    def _plain_property(self, node: Node) -> str | None:
        """The name a one-segment path reads straight off the object, as `path_value` does."""
        if not isinstance(node, Path) or len(node.segments) != 1:
            return None
        prop = self.root.prop(node.segments[0])
        return prop.name if prop is not None and not prop.composite else None

    def value(self, node: Node, obj: dict[str, Any], rows: Rows) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Path):
            return self.path_value(node.segments, obj, rows)
        if isinstance(node, Lambda):
            assert isinstance(self.root, EntitySet)
            section_rows = obj.get(node.collection.segments[0]) or []
            if node.body is None:
                return bool(section_rows) if node.kind == "any" else True
            body = node.body
            section = self.root.tabular[node.collection.segments[0]]
            results = (
                self.value(body, obj, {**rows, node.variable: (section, row)}) is True for row in section_rows
            )
            return any(results) if node.kind == "any" else all(results)
        if isinstance(node, Not):
            operand = self.value(node.operand, obj, rows)
            return None if operand is None else not operand
        if isinstance(node, Negate):
            # An empty operand (a division by zero, a reference to nothing) stays empty, as in `add`.
            operand = self.value(node.operand, obj, rows)
            return None if operand is None else -operand
        if isinstance(node, BinOp):
            return self.binary(node, obj, rows)
        if isinstance(node, Call):
            return _call(node.name, [self.value(a, obj, rows) for a in node.args])
        raise TypeError(node)

    def binary(self, node: BinOp, obj: dict[str, Any], rows: Rows) -> Any:
        left = self.value(node.left, obj, rows)
        if node.op == "and":
            return left is True and self.value(node.right, obj, rows) is True
        if node.op == "or":
            return left is True or self.value(node.right, obj, rows) is True
        right = self.value(node.right, obj, rows)
        if node.op in COMPARISON_OPS:
            return compare(node.op, left, right)
        if left is None or right is None:
            return None
        operations: dict[str, Callable[[Any, Any], Any]] = {
            "add": lambda a, b: a + b,
            "sub": lambda a, b: a - b,
            "mul": lambda a, b: a * b,
            "div": lambda a, b: a / b if b else None,
            "mod": lambda a, b: a % b if b else None,
        }
        return operations[node.op](left, right)

    def path_value(self, segments: tuple[str, ...], obj: dict[str, Any], rows: Rows) -> Any:
        owner: EntitySet | TabularSection = self.root
        current: dict[str, Any] | None = obj
        rest = list(segments)
        if rest[0] in rows:
            owner, current = rows[rest.pop(0)]
        while rest and current is not None:
            name = rest.pop(0)
            prop = owner.prop(name)
            if prop is not None and (prop.edm != "Edm.Guid" or not rest or not prop.ref_target):
                if prop.composite:
                    return Composite(_text(current.get(name, "")), str(current.get(f"{name}_Type", "")))
                return current.get(name)
            key_prop = prop if prop is not None else owner.prop(f"{name}_Key")
            assert key_prop is not None
            ref = current.get(key_prop.name, EMPTY_GUID)
            if not rest:
                return ref
            target_name = key_prop.ref_target or ""
            target = self.model.entity_set(target_name)
            assert target is not None
            owner = target
            current = self.lookup(target_name, ref)
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return value.rstrip().casefold()
    return value


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(left, Composite) or isinstance(right, Composite):
        return _compare_composite(op, left, right)
    if left is None or right is None:
        equal = left is right
        return equal if op == "eq" else (not equal if op == "ne" else False)
    a, b = _fold(left), _fold(right)
    if isinstance(a, str) != isinstance(b, str):
        a, b = _fold(_text(left)), _fold(_text(right))
    result: bool = _COMPARE[op](a, b)
    return result


def _compare_composite(op: str, left: Any, right: Any) -> bool:
    if not isinstance(left, Composite):
        left, right = right, left
    assert isinstance(left, Composite)
    if isinstance(right, Composite):
        equal = left.value.lower() == right.value.lower() and left.type_name == right.type_name
    elif right is None:
        equal = left.value == ""
    else:
        equal = _fold(left.value) == _fold(_text(right))
    return equal if op == "eq" else not equal


def _call(name: str, args: list[Any]) -> Any:
    texts = [_text(a.value if isinstance(a, Composite) else a) for a in args]
    if name == "substringof":
        return texts[0].casefold() in texts[1].casefold()
    if name == "startswith":
        return texts[0].casefold().startswith(texts[1].casefold())
    if name == "endswith":
        return texts[0].casefold().endswith(texts[1].casefold())
    if name == "tolower":
        return texts[0].lower()
    if name == "toupper":
        return texts[0].upper()
    if name == "trim":
        return texts[0].strip()
    if name == "length":
        return len(texts[0])
    if name == "indexof":
        return texts[0].casefold().find(texts[1].casefold())
    parts = {
        "year": (0, 4),
        "month": (5, 7),
        "day": (8, 10),
        "hour": (11, 13),
        "minute": (14, 16),
        "second": (17, 19),
    }
    start, end = parts[name]
    return int(texts[0][start:end])


def iter_paths(node: Node | None) -> Iterator[Path]:
    if node is None:
        return
    if isinstance(node, Path):
        yield node
    elif isinstance(node, Lambda):
        yield from iter_paths(node.body)
    elif isinstance(node, BinOp):
        yield from iter_paths(node.left)
        yield from iter_paths(node.right)
    elif isinstance(node, Not | Negate):
        yield from iter_paths(node.operand)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from iter_paths(arg)


def compile_filter(
    text: str, model: ServiceModel, entity_set: EntitySet | TabularSection, option: str = "$filter"
) -> Node:
    node = parse_filter(text, option)
    Checker(model, entity_set, option).check_bool(node)
    return node
