"""SMS texts in the GSM 03.38 alphabet, so that a message fits one segment of 160 characters.

A text with one character outside that alphabet (a Greek lower-case letter, an accent, a
typographic quote) is sent as UCS-2, 70 characters a segment, and a PIN message then costs
two or three segments. The GSM alphabet holds the Greek capitals that differ from Latin ones
(Γ Δ Θ Λ Ξ Π Σ Φ Ψ Ω); Greek phones write the others with their Latin twins. So Greek is sent
in capitals without accents, as Greek SMS services do, and anything else outside the
alphabet is replaced by its nearest look-alike.
"""

from __future__ import annotations

import unicodedata

#: One segment of a GSM 7-bit SMS, in septets.
SEGMENT = 160
BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
         "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
#: Characters sent with an escape: two septets each.
EXTENDED = "^{}\\[~]|€\f"
#: Greek capitals that the alphabet writes with Latin letters.
LATIN_TWINS = str.maketrans("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX")
LOOK_ALIKES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "«": '"', "»": '"',
                             "–": "-", "—": "-", "…": "...", "·": ".", "\u00a0": " ", "`": "'"})


def encodable(text: str) -> bool:
    return all(c in BASIC or c in EXTENDED for c in text)


def septets(text: str) -> int:
    """The length of ``text`` in a GSM 7-bit SMS."""
    return sum(2 if c in EXTENDED else 1 for c in text)


def to_gsm(text: str) -> str:
    """``text`` in the GSM alphabet: Greek in unaccented capitals, look-alikes for the rest,
    "?" for what has none."""
    if encodable(text):
        return text
    return "".join(_character(c) for c in text.translate(LOOK_ALIKES))


def _character(char: str) -> str:
    if char in BASIC or char in EXTENDED:
        return char
    bare = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    if "GREEK" in unicodedata.name(bare[:1] or "?", ""):
        return bare.upper().replace("ς", "Σ").translate(LATIN_TWINS)
    return bare if bare and encodable(bare) else "?"
