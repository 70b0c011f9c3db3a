"""Clean text at every input boundary: the forms (``forms.BaseForm``), the CSV import and the
API's JSON bodies all pass what people send through ``clean_text``.

What comes in is normalised to Unicode NFC (so "ä" typed as "a" and a combining diaeresis is
stored, compared and written into bank files as the one character "ä"). Harmless whitespace is
made plain: tabs, no-break and other spaces become an ordinary space, line breaks become "\\n"
in multi-line text and a space in a single line; invisible zero-width characters and soft
hyphens are dropped. Any other control character (a bell, an escape, a NUL, a DEL, C1 codes,
bidirectional overrides that make text read differently from what it is, unpaired surrogates,
non-characters) is refused with a message naming it, never silently removed: the person sees
what was wrong with what they pasted.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l

#: Dropped, harmless but invisible: zero-width space, word joiner, byte-order mark (zero-width
#: no-break space), soft hyphen. (Zero-width joiners stay: emoji and some scripts need them.)
_DROPPED = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))
#: Line breaks in any of their spellings.
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\u0085\u000b\u000c]")
#: Bidirectional embeddings, overrides and isolates, and the directional marks.
_BIDI = frozenset(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                          "\u200e\u200f\u061c"))

REFUSED_MESSAGE = _l("The text contains a control character (%(character)s) that cannot be "
                     "saved. Remove it: it may have come along with copied text.")


class RefusedCharacter(ValueError):
    """The text holds a character that is refused; ``character`` names it (e.g. U+0007)."""

    def __init__(self, character: str):
        self.character = character
        super().__init__(str(REFUSED_MESSAGE % {"character": character}))


def _is_space(char: str) -> bool:
    return char == "\t" or unicodedata.category(char) == "Zs"


def _is_refused(char: str) -> bool:
    code = ord(char)
    category = unicodedata.category(char)
    return (category in ("Cc", "Cs") or code in _BIDI
            or (code & 0xFFFE) == 0xFFFE or 0xFDD0 <= code <= 0xFDEF)


def character_name(char: str) -> str:
    return f"U+{ord(char):04X}"


def refused_character(text: str) -> str | None:
    """The first refused character of ``text`` as U+XXXX, after the harmless ones have been
    normalised; None when the text is clean (what ``clean_text`` would accept)."""
    try:
        clean_text(text, multiline=True)
    except RefusedCharacter as exc:
        return exc.character
    return None


def clean_text(text: str, *, multiline: bool = False) -> str:
    """NFC-normalised text with harmless whitespace made plain; RefusedCharacter for any
    other control character. Leading and trailing whitespace is kept (fields strip it
    themselves where it does not matter)."""
    if not isinstance(text, str):
        return text
    if text.isascii() and text.isprintable():
        return text  # the usual case, at no cost
    text = text.translate(_DROPPED)
    text = _LINE_BREAKS.sub("\n" if multiline else " ", text)
    cleaned = []
    for char in text:
        if char == "\n":
            cleaned.append(char)
        elif _is_space(char):
            cleaned.append(" ")
        elif _is_refused(char):
            raise RefusedCharacter(character_name(char))
        else:
            cleaned.append(char)
    return unicodedata.normalize("NFC", "".join(cleaned))


def repair_text(text: str | None, *, multiline: bool = False) -> str | None:
    """For text stored before the cleaning existed: what ``clean_text`` accepts, with every
    refused character removed (only the repair command does this; inputs are refused)."""
    if text is None:
        return None
    kept = "".join(char for char in text.translate(_DROPPED)
                   if char in "\n\r\t\u2028\u2029\u0085\u000b\u000c" or _is_space(char)
                   or not _is_refused(char))
    return clean_text(kept, multiline=multiline)


def clean_json(value, path: str = ""):
    """Every string in a JSON document cleaned (line breaks kept as "\\n"); RefusedCharacter
    carries the field's path in ``field``."""
    if isinstance(value, str):
        try:
            return clean_text(value, multiline=True)
        except RefusedCharacter as exc:
            exc.field = path or "body"
            raise
    if isinstance(value, dict):
        return {key: clean_json(item, f"{path}.{key}" if path else str(key))
                for key, item in value.items()}
    if isinstance(value, list):
        return [clean_json(item, f"{path}[{n}]") for n, item in enumerate(value)]
    return value
