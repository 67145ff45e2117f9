"""French organisation identifiers: SIREN (9 digits), SIRET (14 digits), both checked by the Luhn rule,
and RNA (W + 9 digits) for associations."""
from __future__ import annotations

import re

LA_POSTE_SIREN = "356000000"
_RNA = re.compile(r"W\d{9}")


def clean(value: str) -> str:
    return re.sub(r"[\s.\u00a0\u202f-]", "", value or "")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def siren_ok(value: str) -> bool:
    value = clean(value)
    # All zeros passes Luhn but is nobody's number.
    return len(value) == 9 and value.isascii() and value.isdigit() and luhn_ok(value) and value.strip("0") != ""


def siret_ok(value: str) -> bool:
    value = clean(value)
    if len(value) != 14 or not value.isascii() or not value.isdigit() or not siren_ok(value[:9]):
        return False
    if luhn_ok(value):
        return True
    # La Poste's establishments (other than its head office) break Luhn; their digits sum to a multiple of 5.
    return value.startswith(LA_POSTE_SIREN) and sum(int(c) for c in value) % 5 == 0


def rna_ok(value: str) -> bool:
    return bool(_RNA.fullmatch(clean(value).upper()))
