"""Forms of the webhook pages: they shape the input; the rules (known event names, public
https URLs) stay in the webhooks services, whose refusals are shown on the form."""

from __future__ import annotations

from django import forms

from agora.notifications.webhooks.events import ALL_EVENTS, subscribable_names


def event_choices() -> list[tuple[str, str]]:
    return [
        (name, "Every event (*)" if name == ALL_EVENTS else name) for name in subscribable_names()
    ]


class OnceForm(forms.Form):
    """Carries a once-only token, so a double click creates or rotates once."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)


class WebhookForm(OnceForm):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/agora/webhooks"}),
        help_text="An https address on the public internet that answers 2xx to a POST.",
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=event_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="“Every event” includes events added later.",
    )
