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
    return _ENVIRONMENT.program(tree)


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
