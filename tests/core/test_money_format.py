"""Euro amounts are formatted exactly as Babel's format_currency would (the fast path reads the
locale's symbols off Babel once)."""

from __future__ import annotations

from babel.numbers import format_currency
from hypothesis import given, settings
from hypothesis import strategies as st

from voucher.money import _euro_shape, cents_to_decimal, format_cents

#: The app's languages, and locales whose amounts look otherwise (Indian grouping; Swiss
#: apostrophes; a sign after the amount).
LOCALES = ["fi", "sv", "en", "hi_IN", "de_CH", "fa_IR", "ar_EG"]


@settings(max_examples=400, deadline=None)
@given(cents=st.one_of(st.integers(-10**13, 10**13), st.integers(-1000, 1000)),
       locale=st.sampled_from(LOCALES))
def test_an_amount_is_formatted_as_babel_formats_it(cents, locale):
    assert format_cents(cents, locale) == format_currency(cents_to_decimal(cents), "EUR",
                                                          locale=locale)


def test_the_apps_languages_take_the_fast_path_and_nothing_is_none():
    assert all(_euro_shape(language) is not None for language in ("fi", "sv", "en"))
    assert format_cents(None) == ""
    assert format_cents(-123456, "fi") == "-1\u00a0234,56\u00a0€"
    assert format_cents(5, "en") == "€0.05"
