"""Plate numbers in several national formats, and the OCR misreads real recognisers make."""

from __future__ import annotations

import random
import string

# L = letter, D = digit, other characters are literal.
FORMATS = (
    "LLDD LLL",  # United Kingdom
    "LLL DDDD",  # many US states
    "LL-DDD-LL",  # France
    "L LL DDDD",  # Germany
    "DLLL DDD",  # California
    "LLL-DDDD",  # Brazil (old)
)

# Characters recognisers confuse for one another, both ways.
LOOKALIKE_GROUPS = ("0ODQ", "1IL", "8B", "5S", "2Z", "6G")
LOOKALIKES: dict[str, str] = {
    char: group.replace(char, "") for group in LOOKALIKE_GROUPS for char in group
}


def random_plate(rng: random.Random) -> str:
    plate_format = rng.choice(FORMATS)
    return "".join(_fill(symbol, rng) for symbol in plate_format)


def _fill(symbol: str, rng: random.Random) -> str:
    if symbol == "L":
        return rng.choice(string.ascii_uppercase)
    if symbol == "D":
        return rng.choice(string.digits)
    return symbol


def misread(plate: str, rng: random.Random, per_char_rate: float = 0.08) -> str:
    """The plate as an OCR might read it: look-alike swaps, now and then a dropped character."""
    chars = []
    for char in plate:
        roll = rng.random()
        if char in LOOKALIKES and roll < per_char_rate:
            chars.append(rng.choice(LOOKALIKES[char]))
        elif char.isalnum() and roll > 1 - per_char_rate / 8:
            continue
        else:
            chars.append(char)
    return "".join(chars) or plate
