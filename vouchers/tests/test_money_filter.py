"""The `money` and `percent` filters follow the active language (domain.md: Codes and numbers)."""

import pytest
from django.template import Context, Template
from django.utils import translation

from treasury_portal.money import format_money, format_percent, usage_percent


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [
        (1234567, "1.234.567 ₫", "1,234,567 VND"),
        (0, "0 ₫", "0 VND"),
        (999, "999 ₫", "999 VND"),
        (1000, "1.000 ₫", "1,000 VND"),
        (50_000_000, "50.000.000 ₫", "50,000,000 VND"),
        (1_005_000_000_000, "1.005.000.000.000 ₫", "1,005,000,000,000 VND"),
        (-2500, "-2.500 ₫", "-2,500 VND"),
        ("1500000", "1.500.000 ₫", "1,500,000 VND"),
    ],
)
def test_money_in_both_languages(value, vi, en):
    with translation.override("vi"):
        assert format_money(value) == vi
    with translation.override("en"):
        assert format_money(value) == en


def test_money_empty_and_garbage():
    assert format_money(None) == ""
    assert format_money("") == ""
    assert format_money("abc") == "abc"


def test_money_filter_in_a_template():
    template = Template("{% load money %}{{ amount|money }} / {{ used|percent:total }}")
    context = Context({"amount": 1234567, "used": 805, "total": 1000})
    with translation.override("vi"):
        assert template.render(context) == "1.234.567 ₫ / 80,5%"
    with translation.override("en"):
        assert template.render(context) == "1,234,567 VND / 80.5%"


@pytest.mark.parametrize(
    ("value", "total", "vi", "en"),
    [
        (80, None, "80%", "80%"),
        (80.5, None, "80,5%", "80.5%"),
        (1, 3, "33,3%", "33.3%"),
        (0, 0, "0%", "0%"),
        (1000, 1000, "100%", "100%"),
        (12345, None, "12.345%", "12,345%"),
    ],
)
def test_percent_in_both_languages(value, total, vi, en):
    with translation.override("vi"):
        assert format_percent(value, total) == vi
    with translation.override("en"):
        assert format_percent(value, total) == en


def test_usage_percent_is_clamped_whole_number():
    assert usage_percent(50, 200) == 25
    assert usage_percent(300, 200) == 100
    assert usage_percent(0, 0) == 0
    assert usage_percent(5, 0) == 100
    assert usage_percent("x", 10) == 0
