"""Keys for matching names, and ids made from names."""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii


def match_key(text: str) -> str:
    """Fold a vendor or model name for matching: case, accents, spaces and punctuation
    do not count, so ``Nvidia``, ``NVIDIA`` and ``nvidia`` match, as do ``gb 200`` and ``GB200``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum())


ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", re.ASCII)


MAX_ID_LENGTH = 80
# Latin letters that Unicode does not decompose into a letter and an accent.
_LATIN_LETTERS = str.maketrans(
    {"æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)


def slugify(text: str) -> str:
    """An id made from a name: ``Nebius UK`` becomes ``nebius-uk``, ``Яндекс ЦОД``
    ``yandeks-tsod`` and ``字节跳动 乌兰察布`` ``zijietiaodong-wulanchabu``.

    Latin letters lose their accents; letters and digits of other scripts are transliterated
    (anyascii, a well-kept table for every script); symbols and punctuation separate words.
    Long names are cut at a hyphen to at most 80 characters; a name of symbols alone gives an
    empty id.
    """
    folded = text.casefold().translate(_LATIN_LETTERS)  # casefold writes ß as ss
    ascii_text = "".join(_ascii(character) for character in unicodedata.normalize("NFKD", folded))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > MAX_ID_LENGTH:
        cut = slug[: MAX_ID_LENGTH + 1]
        slug = cut[: cut.rfind("-")] if "-" in cut else cut[:MAX_ID_LENGTH]
    return slug


def _ascii(character: str) -> str:
    """A character of a name (decomposed) in ASCII: itself, its transliteration if it is a
    letter or a digit, nothing for an accent, a space for a symbol (words stay apart)."""
    if character.isascii():
        return character
    kind = unicodedata.category(character)[0]
    if kind == "M":  # an accent, or another mark on the letter before it
        return ""
    if kind in ("L", "N"):
        return anyascii(character)
    return " "
