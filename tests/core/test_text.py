"""The one text cleaning of every input boundary (voucher.text)."""

import pytest

from voucher.text import RefusedCharacter, clean_json, clean_text, refused_character


@pytest.mark.parametrize(("typed", "stored"), [
    ("Hoiva Oy", "Hoiva Oy"),
    ("A\u0308ija\u0308", "Äijä"),  # decomposed → NFC
    ("Hoiva\tOy", "Hoiva Oy"),
    ("Hoiva\u00a0Oy\u202f", "Hoiva Oy "),
    ("Hoi\u200bva\ufeff Oy", "Hoiva Oy"),
    ("rivi 1\r\nrivi 2", "rivi 1 rivi 2"),
])
def test_harmless_characters_are_normalised(typed, stored):
    assert clean_text(typed) == stored


def test_line_breaks_stay_in_multiline_text():
    assert clean_text("a\r\nb\rc\u2028d", multiline=True) == "a\nb\nc\nd"


@pytest.mark.parametrize(("typed", "character"), [
    ("Hoiva\x07 Oy", "U+0007"), ("\x00", "U+0000"), ("a\x1bb", "U+001B"),
    ("a\x7f", "U+007F"), ("a\x85b\x9b", "U+009B"), ("abc\u202eOy", "U+202E"),
    ("\ud800", "U+D800"), ("\uffff", "U+FFFF"),
])
def test_other_control_characters_are_refused_with_their_name(typed, character):
    with pytest.raises(RefusedCharacter) as refused:
        clean_text(typed)
    assert refused.value.character == character
    assert character in str(refused.value)
    assert refused_character(typed) == character


def test_json_strings_are_cleaned_and_a_refusal_names_the_field():
    assert clean_json({"note": "A\u0308", "units": 2, "list": ["x\ty"]}) == {
        "note": "Ä", "units": 2, "list": ["x y"]}
    with pytest.raises(RefusedCharacter) as refused:
        clean_json({"items": [{"note": "bad\x08"}]})
    assert refused.value.field == "items[0].note"


def test_repairing_stored_text_removes_what_inputs_refuse():
    from voucher.text import repair_text

    assert repair_text("Hoiva\x07 Oy\u202e") == "Hoiva Oy"
    assert repair_text("a\x85b\tc", multiline=True) == "a\nb c"
    assert repair_text(None) is None
