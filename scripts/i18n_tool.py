"""Helpers for scripts/i18n: ``check`` the catalogues, ``fill`` them from a JSON file.

fill: ``{"English msgid": {"fi": "…", "sv": "…"}, …}`` sets those translations (and clears
their fuzzy flags); handy when many strings are translated at once.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

DIR = Path(__file__).resolve().parent.parent / "voucher" / "translations"
LANGS = ("fi", "sv")


def _po_path(lang: str) -> Path:
    return DIR / lang / "LC_MESSAGES" / "messages.po"


def _load(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def _save(catalog, path: Path) -> None:
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, sort_output=True, include_previous=False)


def _key(message):
    return message.id[0] if isinstance(message.id, tuple) else message.id


def check() -> int:
    """Every string in the template is in each catalogue, translated and not fuzzy."""
    template = _load(DIR / "messages.pot")
    wanted = {_key(m) for m in template if m.id}
    problems = []
    for lang in LANGS:
        catalog = _load(_po_path(lang))
        present = {_key(m): m for m in catalog if m.id}
        for msgid in sorted(wanted):
            message = present.get(msgid)
            if message is None:
                problems.append(f"{lang}: missing (run scripts/i18n extract): {msgid!r}")
            elif message.fuzzy:
                problems.append(f"{lang}: fuzzy: {msgid!r}")
            elif not (all(message.string) if isinstance(message.string, tuple)
                      else message.string):
                problems.append(f"{lang}: untranslated: {msgid!r}")
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} translation problem(s)")
        return 1
    print(f"All {len(wanted)} strings are translated in {', '.join(LANGS)}.")
    return 0


def fill(source: str) -> int:
    translations = json.loads(Path(source).read_text(encoding="utf-8"))
    for lang in LANGS:
        path = _po_path(lang)
        catalog = _load(path)
        for msgid, by_lang in translations.items():
            text = by_lang.get(lang)
            if text is None:
                continue
            message = catalog.get(msgid)
            if message is None:
                print(f"{lang}: not in the catalogue (run scripts/i18n extract?): {msgid!r}")
                continue
            if isinstance(message.id, tuple):
                message.string = tuple(text) if isinstance(text, list) else (text, text)
            else:
                message.string = text
            message.flags.discard("fuzzy")
        _save(catalog, path)
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "check":
        sys.exit(check())
    if command == "fill" and len(sys.argv) == 3:
        sys.exit(fill(sys.argv[2]))
    print("usage: i18n_tool.py check | fill FILE.json", file=sys.stderr)
    sys.exit(2)
