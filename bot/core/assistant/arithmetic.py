"""Simple arithmetic, evaluated safely: the expression is parsed with `ast` and only numbers
and the four operations, powers, modulo and a few functions are walked. Never `eval`.

Words are read as operators first ("12 times 7", "2 to the power of 10", "square root of 81"),
and results are bounded so "9**9**9" is refused instead of freezing the bot.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from fractions import Fraction

MAX_EXPONENT = 1000
MAX_DIGITS = 60
#: Operators and brackets in one expression: the walk below recurses once per operation, so a
#: long chain ("1+1+…" 2,000 times) is refused before parsing instead of exhausting the stack.
MAX_OPERATIONS = 100

_UNITS = {w: n for n, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                                      "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"])}
_TENS = {w: 10 * n for n, w in enumerate(["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]) if n >= 2}
_NUMBER_WORD = re.compile(r"\b(?:(?:" + "|".join(list(_TENS) + list(_UNITS)) + r"|hundred|thousand|million|and)(?:[\s-]+|\b))+", re.I)


def numbers_to_digits(text: str) -> str:
    """Spelt-out numbers as digits: "seven times twenty-one" → "7 times 21"."""
    def convert(match: re.Match) -> str:
        spoken = match.group(0)
        tokens = [t for t in re.split(r"[\s-]+", spoken.lower()) if t]
        if not any(t in _UNITS or t in _TENS for t in tokens):
            return spoken
        total = current = 0
        for t in tokens:
            if t in _UNITS:
                current += _UNITS[t]
            elif t in _TENS:
                current += _TENS[t]
            elif t == "hundred":
                current = max(current, 1) * 100
            elif t in ("thousand", "million"):
                total += max(current, 1) * (1000 if t == "thousand" else 1_000_000)
                current = 0
        trailing = " " if spoken[-1].isspace() else ""
        leading = "and " if tokens[0] == "and" else ""
        return f"{leading}{total + current}{trailing}"
    return _NUMBER_WORD.sub(convert, text)


OPERATOR_WORDS = [
    (r"\bdivide\s+(-?[\d.]+)\s+by\s+(-?[\d.]+)", r"\1 / \2"), (r"\bmultiply\s+(-?[\d.]+)\s+(?:by|and|with)\s+(-?[\d.]+)", r"\1 * \2"),
    (r"\badd\s+(-?[\d.]+)\s+(?:and|to)\s+(-?[\d.]+)", r"\1 + \2"), (r"\bsubtract\s+(-?[\d.]+)\s+from\s+(-?[\d.]+)", r"\2 - \1"),
    (r"\b(?:the\s+)?sum of\s+(-?[\d.]+)\s+and\s+(-?[\d.]+)", r"\1 + \2"), (r"\b(?:the\s+)?product of\s+(-?[\d.]+)\s+and\s+(-?[\d.]+)", r"\1 * \2"),
    (r"\b(?:the\s+)?difference between\s+(-?[\d.]+)\s+and\s+(-?[\d.]+)", r"\1 - \2"),
    (r"\bsquare root of\s+", "sqrt "), (r"\bsqrt of\s+", "sqrt "), (r"\bcube root of\s+", "cbrt "),
    (r"\bto the power of\b", "**"), (r"\braised to(?: the power of)?\b", "**"), (r"\bsquared\b", "**2"), (r"\bcubed\b", "**3"),
    (r"\bmultiplied by\b", "*"), (r"\btimes\b", "*"), (r"\bdivided by\b", "/"), (r"\bover\b", "/"),
    (r"\bplus\b", "+"), (r"\badd\b", "+"), (r"\bminus\b", "-"), (r"\bsubtract\b", "-"),
    (r"\bmod(?:ulo)?\b", "%"), (r"\bpercent of\b", "% of"), (r"×|✕|⋅|·", "*"), (r"÷", "/"), (r"−|–", "-"), (r"\^", "**"),
    (r"(?<=\d),(?=\d{3}\b)", ""),
]
_PERCENT_OF = re.compile(r"(\d+(?:\.\d+)?)\s*% of\s*(\d+(?:\.\d+)?)")
_FUNCS: dict[str, Callable[[float], float]] = {"sqrt": math.sqrt, "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x), "abs": abs}
_EXPR = re.compile(r"(?:sqrt|cbrt|abs|[\d.()+\-*/%\s])+")
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}


class ArithmeticError_(ValueError):
    """An expression that is arithmetic but has no answer (division by zero, too large)."""


def find_expression(text: str) -> str | None:
    """The arithmetic expression in a message, if the message is a calculation."""
    lowered = numbers_to_digits(text.lower())
    for pattern, repl in OPERATOR_WORDS:
        lowered = re.sub(pattern, repl, lowered)
    lowered = _PERCENT_OF.sub(r"(\1/100*\2)", lowered)
    best = max((m.group(0).strip() for m in _EXPR.finditer(lowered)), key=len, default="")
    best = best.strip(" .")
    if not re.search(r"\d", best) or not re.search(r"[+\-*/%]|sqrt|cbrt", best):
        return None
    if re.fullmatch(r"\d+\s*-\s*\d+\s*-\s*\d+", best) or re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}", best):
        return None  # a date, not a sum
    if re.fullmatch(r"-?\d+(\.\d+)?", best):
        return None
    return best


def evaluate(expression: str) -> Fraction | float:
    """The value of a bounded arithmetic expression; ArithmeticError_ explains what went wrong."""
    source = re.sub(r"\b(sqrt|cbrt|abs)\s+(\d+(?:\.\d+)?)", r"\1(\2)", expression)
    if len(re.findall(r"\*\*|[-+*/%(]", source)) > MAX_OPERATIONS:
        raise ArithmeticError_(f"that expression is too long for me (over {MAX_OPERATIONS} operations)")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise ArithmeticError_("that expression is not complete") from None
    return _walk(tree.body)


def _walk(node: ast.AST) -> Fraction | float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return Fraction(node.value) if isinstance(node.value, int) else Fraction(str(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _walk(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _walk(node.left), _walk(node.right)
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise ArithmeticError_("division by zero has no answer: no number times 0 gives a non-zero number")
        if isinstance(node.op, ast.Pow):
            if abs(right) > MAX_EXPONENT or (abs(left) > 10 and abs(right) > 300):  # type: ignore[operator]  # mypy joins abs(Fraction | float) to object
                raise ArithmeticError_("that power is too large for me to compute")
            if isinstance(right, Fraction) and right.denominator == 1 and isinstance(left, Fraction):
                if left == 0 and right < 0:
                    raise ArithmeticError_("zero to a negative power is division by zero")
                return left ** int(right)
            if left < 0:
                raise ArithmeticError_("a negative number to a fractional power is not a real number")
            return float(left) ** float(right)
        result = _OPS[type(node.op)](left, right)
        if isinstance(result, Fraction) and len(str(abs(result.numerator))) > MAX_DIGITS:
            raise ArithmeticError_("the result is too large to show")
        return result
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS and len(node.args) == 1:
        value = _walk(node.args[0])
        if node.func.id == "sqrt" and value < 0:
            raise ArithmeticError_("a negative number has no real square root")
        result = _FUNCS[node.func.id](float(value))
        return Fraction(round(result)) if abs(result - round(result)) < 1e-12 else result
    raise ArithmeticError_("I can only do arithmetic with numbers: + − × ÷, powers, %, square roots")


def format_number(value: Fraction | float) -> str:
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return f"{value.numerator:,}" if abs(value.numerator) >= 10000 else str(value.numerator)
        decimal = float(value)
        text = f"{decimal:.6f}".rstrip("0").rstrip(".")
        exact = f"{value.numerator}/{value.denominator}"
        return text if float(text) == decimal else f"{text}… (exactly {exact})"
    if value != value or value in (float("inf"), float("-inf")):
        raise ArithmeticError_("the result is not a finite number")
    text = f"{value:.10g}"
    return text
