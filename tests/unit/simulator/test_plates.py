from __future__ import annotations

import random
import re

from alpr_core.simulator.plates import LOOKALIKES, misread, random_plate


def test_lookalikes_are_symmetric() -> None:
    for char, others in LOOKALIKES.items():
        for other in others:
            assert char in LOOKALIKES[other]


def test_plates_have_letters_and_digits() -> None:
    rng = random.Random(1)
    for _ in range(200):
        plate = random_plate(rng)
        assert re.search(r"[A-Z]", plate)
        assert re.search(r"[0-9]", plate)


def test_misreads_only_swap_lookalikes_or_drop_characters() -> None:
    rng = random.Random(7)
    changed = 0
    for _ in range(500):
        plate = random_plate(rng)
        read = misread(plate, rng, per_char_rate=0.2)
        if read != plate:
            changed += 1
        if len(read) == len(plate):
            for truth, seen in zip(plate, read, strict=True):
                assert seen == truth or seen in LOOKALIKES[truth]
    assert changed > 100  # at this rate most plates get at least one confusion
