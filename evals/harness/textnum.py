"""Does an answer's text state the expected figures? Numbers with units, percents and dates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

_NUMBER = re.compile(
    r"(?<![\w.])([-−]?\$?\d[\d,]*(?:\.\d+)?)\s*(%|percent|bp|billion|bn|million|mn|m\b|thousand|k\b)?",
    re.IGNORECASE,
)
# Scientific notation ("1.2e-05", "1.2 x 10^-5", "1.2×10⁻⁵" is left to the plain reading).
_SCIENTIFIC = re.compile(
    r"(?<![\w.])([-−]?\d+(?:\.\d+)?)\s*(?:[eE]|[x×]\s*10\^)\s*([-+−]?\d+)(?![\w.])"
)
_SCALE = {"billion": 1e9, "bn": 1e9, "million": 1e6, "mn": 1e6, "m": 1e6, "thousand": 1e3, "k": 1e3}


def numbers_in(text: str) -> list[tuple[float, float]]:
    """Every number in ``text`` as (value, half of its last printed digit), in every reading.

    "1.2 billion" yields 1.2e9 and also 1,200 (USD millions) and 1.2; "12.5%" yields 12.5 and
    0.125 — tables hold millions and fractions while prose says billions and percents.
    """
    found: list[tuple[float, float]] = []
    for mantissa, exponent in _SCIENTIFIC.findall(text):
        digits = mantissa.replace("−", "-")
        power = 10.0 ** int(exponent.replace("−", "-"))
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        found.append((float(digits) * power, 0.5 * 10 ** (-decimals) * power))
    text = _SCIENTIFIC.sub(" ", text)
    for raw, unit in _NUMBER.findall(text):
        digits = raw.replace(",", "").replace("$", "").replace("−", "-")
        try:
            value = float(digits)
        except ValueError:
            continue
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        half = 0.5 * 10 ** (-decimals)
        readings = [(value, half)]
        unit = (unit or "").lower()
        if unit in ("%", "percent"):
            readings.append((value / 100, half / 100))
        elif unit == "bp":
            readings.append((value / 10000, half / 10000))
        elif unit in _SCALE:
            scale = _SCALE[unit]
            readings += [(value * scale, half * scale), (value * scale / 1e6, half * scale / 1e6)]
        found.extend(readings)
    return found


def number_stated(expected: float, text_numbers: Sequence[tuple[float, float]]) -> bool:
    """True when some number in the text equals ``expected`` up to its printed precision."""
    for value, half in text_numbers:
        tolerance = max(half * 1.01, abs(expected) * 1e-9)
        if abs(value - expected) <= tolerance:
            return True
        # Rounded for prose ("USD 1.85 billion" for 1,849.7): 0.5% relative still matches.
        if expected and abs(value - expected) <= 0.005 * abs(expected) and half >= 0.005:
            return True
    return False


def _date_forms(value: date) -> list[str]:
    return [
        value.isoformat(),
        f"{value.day} {value:%B %Y}",
        f"{value:%B} {value.day}, {value.year}",
        f"{value:%b} {value.day}, {value.year}",
        f"{value.day} {value:%b %Y}",
    ]


def cell_stated(cell: Any, text: str, text_numbers: Sequence[tuple[float, float]]) -> bool:
    """One expected cell (number, date string or text) appears in the answer."""
    if cell is None:
        return True
    if isinstance(cell, bool):
        return True
    if isinstance(cell, int | float):
        return number_stated(float(cell), text_numbers)
    value = str(cell)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        day = date.fromisoformat(value)
        return any(form.lower() in text.lower() for form in _date_forms(day))
    return value.lower() in text.lower()


def stated(rows: Sequence[Sequence[Any]], text: str, *, max_rows: int = 5) -> bool:
    """Every cell of the first ``max_rows`` expected rows is stated in ``text`` (False if none)."""
    if not rows or not text:
        return False
    numbers = numbers_in(text)
    return all(cell_stated(cell, text, numbers) for row in rows[:max_rows] for cell in row)
