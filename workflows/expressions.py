"""Conditions and scores in the Common Expression Language (CEL).

CEL is a small, side-effect-free language with no loops, no I/O and no access
to Python objects, so definition authors cannot run code on the server.
``cel-python`` (a pure-Python implementation) compiles and evaluates it;
Python ``eval`` is never used. Programs are compiled once per text and kept.
"""

import re
from functools import lru_cache
from typing import Any

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

from workflows.errors import ExpressionFailed

_ENVIRONMENT = celpy.Environment()

MAX_EXPRESSION_DEPTH = 200
"""The maximum depth of an expression's parse tree, in levels. cel-python 0.5
evaluates by recursion, and a tree of about 600 levels (60 nested
parentheses) exhausted Python's default stack when measured. The deepest
bundled expression has 31 levels, and each pair of parentheses adds 10."""
# cel-python's messages repeat the whole activation; keep the first clause.
_ACTIVATION_DUMP = re.compile(r" \(in activation .*", re.DOTALL)


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> Any:
    """Compile ``text`` into a reusable CEL program.

    :raises ExpressionFailed: when ``text`` is not valid CEL or its parse tree
        is deeper than :data:`MAX_EXPRESSION_DEPTH`.
    """
    return _ENVIRONMENT.program(_parse(text))


def _parse(text: str) -> Any:
    """Parse ``text`` into a lark tree, raising as :func:`compile_expression`."""
    try:
        tree = _ENVIRONMENT.compile(text)
    except CELParseError as error:
        lines = str(error).splitlines()
        # cel-python marks the failing column with a caret under the text.
        column = lines[1].index("^") + 1 if len(lines) > 1 and "^" in lines[1] else None
        where = f" at column {column}" if column else ""
        raise ExpressionFailed(f"{text!r} is not valid CEL{where}") from None
    if _tree_depth(tree) > MAX_EXPRESSION_DEPTH:
        raise ExpressionFailed(
            f"{_abbreviate(text)} nests deeper than {MAX_EXPRESSION_DEPTH} parse "
            "levels; split it into scores or simpler conditions"
        )
    return tree


def _tree_depth(tree: Any) -> int:
    """Count the levels of a lark parse tree without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        # Inner nodes are lark Trees with children; leaves are lark Tokens.
        for child in getattr(node, "children", ()):
            pending.append((child, depth + 1))
    return deepest


def _abbreviate(text: str) -> str:
    return repr(text) if len(text) <= 80 else repr(text[:77] + "...")


def evaluate(text: str, variables: dict[str, Any]) -> Any:
    """Evaluate the CEL expression ``text`` over ``variables`` (JSON values).

    :returns: the result as a plain Python value.
    :raises ExpressionFailed: when the expression does not compile, names an
        unknown variable or applies an operator to the wrong types.
    """
    program = compile_expression(text)
    try:
        activation = {name: json_to_cel(value) for name, value in variables.items()}
        result = program.evaluate(activation)
    except CELEvalError as error:
        raise ExpressionFailed(f"{text!r} failed: {_short_message(error)}") from None
    except RecursionError:
        # Compiled trees are bounded, so this comes from variables nested
        # too deeply for the conversion to CEL values.
        raise ExpressionFailed(
            f"{text!r} failed: the variables nest too deeply to evaluate"
        ) from None
    if isinstance(result, CELEvalError):
        raise ExpressionFailed(f"{text!r} failed: {_short_message(result)}")
    return to_python(result)


def evaluate_condition(text: str, variables: dict[str, Any]) -> bool:
    """Evaluate a condition, which must produce a boolean.

    :raises ExpressionFailed: on any evaluation error or a non-boolean result.
    """
    result = evaluate(text, variables)
    if not isinstance(result, bool):
        raise ExpressionFailed(
            f"condition {text!r} must produce true or false, got {result!r}"
        )
    return result


def to_python(value: Any) -> Any:
    """Convert a CEL value into the JSON-compatible Python value it carries."""
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.IntType | celtypes.UintType):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.ListType):
        return [to_python(item) for item in value]
    if isinstance(value, celtypes.MapType):
        return {str(key): to_python(item) for key, item in value.items()}
    return value


def _short_message(error: Exception) -> str:
    message = str(error.args[0]) if error.args else str(error)
    return _ACTIVATION_DUMP.sub("", message).splitlines()[0][:300]


# Names CEL itself gives a meaning: its type names, which an expression may
# compare against, e.g. ``type(x) == int``.
CEL_TYPE_NAMES = frozenset(
    {"bool", "bytes", "double", "int", "list", "map", "null_type", "string"}
    | {"type", "uint"}
)
# Macros whose first argument names a variable bound over the other ones,
# e.g. ``items.all(x, x > 0)``.
_BINDING_MACROS = frozenset({"all", "exists", "exists_one", "filter", "map"})


def references(text: str) -> list[tuple[str, str | None]]:
    """List the variables ``text`` reads, read from its parse tree only.

    Each reference is ``(name, member)``: ``("checklist", "syncope")`` for
    ``checklist.syncope`` and ``("signals", None)`` for a bare ``signals``.
    Function names, CEL type names and the variables a macro binds (the ``x``
    of ``list.all(x, x > 0)``) are left out. Nothing is evaluated.

    :raises ExpressionFailed: when ``text`` is not valid CEL.
    """
    tree = _parse(text)
    found: list[tuple[str, str | None]] = []
    bound: set[str] = set()
    dotted: set[int] = set()
    pending: list[Any] = [tree]
    while pending:
        node = pending.pop()
        children = getattr(node, "children", None)
        if children is None:
            continue
        kind = node.data
        if kind == "member_dot_arg" and str(children[1]) in _BINDING_MACROS:
            first = _first_argument(children[2]) if len(children) > 2 else None
            if first is not None:
                bound.add(first)
        if kind == "member_dot":
            base = _plain_identifier(children[0])
            if base is not None:
                found.append((base, str(children[1])))
                dotted.add(id(children[0]))
        if kind == "member" and id(node) not in dotted:
            base = _plain_identifier(node)
            if base is not None:
                found.append((base, None))
        pending.extend(reversed(children))
    unique: list[tuple[str, str | None]] = []
    for name, member in found:
        if name in bound or name in CEL_TYPE_NAMES:
            continue
        if (name, member) not in unique:
            unique.append((name, member))
    return unique


def _plain_identifier(member: Any) -> str | None:
    """Return ``a`` when ``member`` is the bare identifier ``a``, else None."""
    children = getattr(member, "children", None)
    if getattr(member, "data", None) != "member" or not children:
        return None
    primary = children[0]
    if getattr(primary, "data", None) != "primary" or not primary.children:
        return None
    inner = primary.children[0]
    if getattr(inner, "data", None) in ("ident", "dot_ident"):
        return str(inner.children[0])
    return None


def _first_argument(exprlist: Any) -> str | None:
    """Return the identifier a macro's first argument names, if it is one."""
    node = exprlist.children[0] if getattr(exprlist, "children", None) else None
    # A bare identifier is a chain of single-child trees down to ``member``.
    while node is not None and getattr(node, "data", None) != "member":
        children = getattr(node, "children", None)
        node = children[0] if children and len(children) == 1 else None
    return _plain_identifier(node) if node is not None else None
