"""Forms of the customer pages: filters, contact/organisation/product/asset editing, merge,
document upload and spreadsheet import."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kefu.customers.models import (
    AssetStatus,
    Contact,
    ImportKind,
    Organization,
    Product,
    Tier,
    WarrantyStatus,
)

ACTIVE_CHOICES = [("active", _("Active")), ("inactive", _("Deactivated")), ("all", _("All"))]


class ListFilterForm(forms.Form):
    """Search box and active/deactivated switch shared by the four lists."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Show"), choices=ACTIVE_CHOICES, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["type"] = "search"

    def active_filter(self) -> bool | None:
        status = self.cleaned_data.get("status") or "active"
        return None if status == "all" else status == "active"


class ContactFilterForm(ListFilterForm):
    organization = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organization.objects.all(), required=False
    )


class OrganizationFilterForm(ListFilterForm):
    tier = forms.ChoiceField(
        label=_("Tier"), choices=[("", _("Any"))] + list(Tier.choices), required=False
    )


class ProductFilterForm(ListFilterForm):
    category = forms.CharField(label=_("Category"), required=False, max_length=100)


class AssetFilterForm(ListFilterForm):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.all(), required=False
    )
    organization = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organization.objects.all(), required=False
    )
    warranty = forms.ChoiceField(
        label=_("Warranty"),
        choices=[("", _("Any"))] + list(WarrantyStatus.choices),
        required=False,
    )


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    wechat_id = forms.CharField(label=_("WeChat id"), max_length=100, required=False)
    organization = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organization.objects.filter(is_active=True),
        required=False,
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=[("", "—")] + list(settings.LANGUAGES), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    @classmethod
    def for_contact(cls, contact: Contact, data: Any = None) -> ContactForm:
        initial = {name: getattr(contact, name) or "" for name in ("name", "email", "phone")}
        initial.update(
            wechat_id=contact.wechat_id or "",
            organization=contact.organization,
            language=contact.language,
            notes=contact.notes,
        )
        return cls(data, initial=initial)


class NotesForm(forms.Form):
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


class OrganizationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    tier = forms.ChoiceField(label=_("Tier"), choices=Tier.choices)
    domain = forms.CharField(
        label=_("E-mail domain"),
        max_length=200,
        required=False,
        help_text=_("Contacts with an address at this domain join the organisation."),
    )
    members_share_tickets = forms.BooleanField(
        label=_("Members see each other's tickets"), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    @classmethod
    def for_organization(cls, organization: Organization, data: Any = None) -> OrganizationForm:
        fields = ("name", "tier", "domain", "members_share_tickets", "notes")
        return cls(data, initial={name: getattr(organization, name) for name in fields})


class MergeForm(forms.Form):
    into = forms.IntegerField(
        label=_("Keep this customer (number from the customer list or page address)"),
        min_value=1,
    )


class ProductForm(forms.Form):
    model_number = forms.CharField(label=_("Model"), max_length=100)
    name = forms.CharField(label=_("Name"), max_length=200)
    category = forms.CharField(label=_("Category"), max_length=100, required=False)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    warranty_months = forms.IntegerField(
        label=_("Warranty (months)"), min_value=0, max_value=600, required=False
    )

    @classmethod
    def for_product(cls, product: Product, data: Any = None) -> ProductForm:
        fields = ("model_number", "name", "category", "description", "warranty_months")
        return cls(data, initial={name: getattr(product, name) for name in fields})


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    file = forms.FileField(label=_("File"))


class AssetForm(forms.Form):
    serial_number = forms.CharField(label=_("Serial number"), max_length=100)
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True)
    )
    organization = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organization.objects.filter(is_active=True),
        required=False,
    )
    contact = forms.IntegerField(
        label=_("Contact (customer number)"),
        required=False,
        min_value=1,
        help_text=_("The number shown on the customer's page."),
    )
    installed_at = forms.DateField(
        label=_("Installed on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    warranty_ends_at = forms.DateField(
        label=_("Warranty ends"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty to use the installation date plus the product's warranty."),
    )
    installation_address = forms.CharField(
        label=_("Installation address"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    status = forms.ChoiceField(label=_("Status"), choices=AssetStatus.choices)
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, product: Product | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if product is not None:
            # An existing unit may keep a product that was deactivated since.
            self.fields["product"].queryset = Product.objects.filter(  # type: ignore[attr-defined]
                is_active=True
            ) | Product.objects.filter(pk=product.pk)

    def clean_contact(self) -> Contact | None:
        pk = self.cleaned_data.get("contact")
        if not pk:
            return None
        contact = Contact.objects.filter(pk=pk, is_active=True).first()
        if contact is None:
            raise forms.ValidationError(_("There is no active customer with this number."))
        return contact


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to import"), choices=ImportKind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("A .csv (UTF-8 or GB18030) or .xlsx file; row 1 names the columns."),
    )


class ConfirmImportForm(forms.Form):
    only_valid_rows = forms.BooleanField(
        label=_("Import only the valid rows and skip the rows with errors"), required=False
    )


EXPORT_FORMATS = [("csv", "CSV"), ("xlsx", "Excel (.xlsx)")]
