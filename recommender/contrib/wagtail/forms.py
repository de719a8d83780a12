"""The editor's pin form: a product of the host's catalog and a position on the list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from recommender.adapters import get_adapter
from recommender.conf import recommender_settings


class ProductChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        adapter = get_adapter()
        return f"{adapter.name(obj)} ({adapter.sku(obj)})"


class PinForm(forms.Form):
    product = ProductChoiceField(queryset=None, label=_("Product"))
    position = forms.IntegerField(min_value=1, initial=1, label=_("Position"), help_text=_("1 is the top of the list."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = get_adapter().queryset()  # type: ignore[attr-defined]

    def clean_position(self) -> int:
        position = int(self.cleaned_data["position"])
        most = recommender_settings.MAX_LIMIT
        if position > most:
            raise forms.ValidationError(_("A list shows at most %(n)d products.") % {"n": most})
        return position
