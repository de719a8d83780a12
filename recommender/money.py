"""Prices for people: "$24.95" in the active locale's number format (Django's l10n), not "24.95 USD".

The widget formats the same way in the browser with `Intl.NumberFormat`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.formats import number_format

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "INR": "₹"}


def format_price(amount: Any, currency: str = "USD") -> str:
    """`amount` with its currency symbol and the locale's separators; "" when there is no amount."""
    if amount in (None, ""):
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return ""
    code = (currency or "USD").upper()
    number = number_format(value, decimal_pos=0 if code == "JPY" else 2, use_l10n=True, force_grouping=True)
    symbol = SYMBOLS.get(code)
    return f"{symbol}{number}" if symbol else f"{code}\u00a0{number}"
