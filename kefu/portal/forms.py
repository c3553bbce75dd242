"""Forms of the customer portal: a new ticket and a reply, both with attachments."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kefu.tickets.actions import UploadedFile


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one ``<input type=file multiple>``; none is fine."""

    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


def to_uploads(files) -> list[UploadedFile]:
    """Turn Django's uploaded files into the action's ``UploadedFile``s.

    Reading stops one byte past the size limit: that is enough for the action to reject the file
    with its own message, without holding an oversized upload in memory.
    """
    return [
        UploadedFile(
            filename=file.name,
            content=file.read(settings.MAX_UPLOAD_BYTES + 1),
            content_type=file.content_type or "application/octet-stream",
        )
        for file in files
    ]


class NewTicketForm(forms.Form):
    subject = forms.CharField(
        label=_("Subject"), max_length=255, widget=forms.TextInput(attrs={"autofocus": True})
    )
    body = forms.CharField(
        label=_("Description"),
        help_text=_("What happened, and what did you expect?"),
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    attachments = MultipleFileField(label=_("Attachments"))


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label=_("Attachments"))


# --- self sign-up ---------------------------------------------------------------------------


class SignupForm(forms.Form):
    name = forms.CharField(
        label=_("Your name"), max_length=200, widget=forms.TextInput(attrs={"autofocus": True})
    )
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class ResendForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)
    email = forms.EmailField(widget=forms.HiddenInput)


class ChoosePasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return cleaned
