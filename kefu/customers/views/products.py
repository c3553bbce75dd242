"""Products and their documents; assets (installed units), whose service history is the section
tickets registers in ``kefu.lib.panels`` for the page "asset"."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.customers import actions
from kefu.customers.access import (
    assets_visible_to,
    get_asset_for_user,
    get_document_for_user,
    get_product_for_user,
)
from kefu.customers.forms import (
    AssetFilterForm,
    AssetForm,
    DocumentForm,
    ProductFilterForm,
    ProductForm,
)
from kefu.customers.models import Asset, Product, WarrantyStatus
from kefu.customers.views.common import paginate, querystring_without_page
from kefu.lib import panels
from kefu.lib.console import (
    ACTION_ERRORS,
    add_action_error,
    is_htmx,
    render_console,
    staff_console_view,
)


def _flash_errors(request, error: Exception) -> None:
    messages.error(request, " ".join(getattr(error, "messages", None) or [str(error)]))


# --- products --------------------------------------------------------------------------------


@staff_console_view
def product_list(request):
    form = ProductFilterForm(request.GET or None)
    products = Product.objects.annotate(asset_count=Count("assets"))
    active: bool | None = True
    if form.is_valid():
        query = " ".join(form.cleaned_data["q"].split())
        if query:
            products = products.filter(
                Q(model_number__icontains=query)
                | Q(name__icontains=query)
                | Q(category__icontains=query)
            )
        if form.cleaned_data.get("category"):
            products = products.filter(category__iexact=form.cleaned_data["category"])
        active = form.active_filter()
    if active is not None:
        products = products.filter(is_active=active)
    page = paginate(request, products.order_by("model_number", "pk"))
    context = {"form": form, "page": page, "qs": querystring_without_page(request)}
    if is_htmx(request):
        return render(request, "customers/_product_table.html", context)
    return render_console(request, "customers/product_list.html", context)


def product_page(request, product: Product, *, document_form=None, status=200):
    context = {
        "product": product,
        "documents": list(product.documents.filter(is_active=True)),
        "document_form": document_form or DocumentForm(),
        "asset_count": product.assets.count(),
        "assets": list(
            product.assets.select_related("organization", "contact").order_by(
                "-installed_at", "serial_number"
            )[:50]
        ),
    }
    return render_console(request, "customers/product_detail.html", context, status=status)


@staff_console_view
def product_detail(request, pk: int):
    return product_page(request, get_product_for_user(request.user, pk))


@staff_console_view
def product_new(request):
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = actions.create_product(request.user, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Product %(name)s created.") % {"name": product})
            return redirect("customers:product", pk=product.pk)
    return render_console(request, "customers/form.html", {"form": form, "title": _("New product")})


@staff_console_view
def product_edit(request, pk: int):
    product = get_product_for_user(request.user, pk)
    form = ProductForm.for_product(product, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_product(request.user, product, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Product saved."))
            return redirect("customers:product", pk=product.pk)
    context = {"form": form, "title": _("Edit %(name)s") % {"name": product}}
    return render_console(request, "customers/form.html", context)


@staff_console_view
@require_POST
def product_activate(request, pk: int):
    product = get_product_for_user(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        actions.set_product_active(request.user, product, active)
    except ACTION_ERRORS as error:
        _flash_errors(request, error)
    else:
        messages.success(
            request, _("Product reactivated.") if active else _("Product deactivated.")
        )
    return redirect("customers:product", pk=product.pk)


@staff_console_view
@require_POST
def document_upload(request, pk: int):
    product = get_product_for_user(request.user, pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            actions.add_product_document(
                request.user,
                product,
                title=form.cleaned_data["title"],
                filename=upload.name,
                content=upload.read(),
                content_type=upload.content_type or "application/octet-stream",
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error, {"attachments": "file"})
        else:
            messages.success(request, _("Document added."))
            return redirect("customers:product", pk=product.pk)
    return product_page(request, product, document_form=form, status=422)


@staff_console_view
def document_download(request, pk: int):
    document = get_document_for_user(request.user, pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage") from None
    inline = document.content_type in ("application/pdf", "image/png", "image/jpeg")
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=document.filename,
        content_type=document.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@staff_console_view
@require_POST
def document_remove(request, pk: int):
    document = get_document_for_user(request.user, pk)
    try:
        actions.remove_product_document(request.user, document)
    except ACTION_ERRORS as error:
        _flash_errors(request, error)
    else:
        messages.success(request, _("Document removed."))
    return redirect("customers:product", pk=document.product_id)


# --- assets ----------------------------------------------------------------------------------


def filter_assets(assets, form: AssetFilterForm):
    """The asset list's filters (shared with the export)."""
    active: bool | None = True
    if form.is_valid():
        data = form.cleaned_data
        query = " ".join(data["q"].split())
        if query:
            assets = assets.filter(
                Q(serial_number__icontains=query)
                | Q(product__model_number__icontains=query)
                | Q(product__name__icontains=query)
                | Q(organization__name__icontains=query)
                | Q(contact__name__icontains=query)
                | Q(installation_address__icontains=query)
            )
        for name in ("product", "organization"):
            if data.get(name):
                assets = assets.filter(**{name: data[name]})
        today = timezone.localdate()
        if data.get("warranty") == WarrantyStatus.IN_WARRANTY:
            assets = assets.filter(warranty_ends_at__gte=today)
        elif data.get("warranty") == WarrantyStatus.EXPIRED:
            assets = assets.filter(warranty_ends_at__lt=today)
        elif data.get("warranty") == WarrantyStatus.UNKNOWN:
            assets = assets.filter(warranty_ends_at__isnull=True)
        active = form.active_filter()
    if active is not None:
        assets = assets.filter(is_active=active)
    return assets


@staff_console_view
def asset_list(request):
    form = AssetFilterForm(request.GET or None)
    assets = filter_assets(
        assets_visible_to(request.user).select_related("product", "organization", "contact"),
        form,
    )
    page = paginate(request, assets.order_by("serial_number", "pk"))
    context = {"form": form, "page": page, "qs": querystring_without_page(request)}
    if is_htmx(request):
        return render(request, "customers/_asset_table.html", context)
    return render_console(request, "customers/asset_list.html", context)


@staff_console_view
def asset_detail(request, pk: int):
    asset = get_asset_for_user(request.user, pk)
    context = {
        "asset": asset,
        "sections": panels.render_sections(request, "asset", asset),
        "warranty": asset.warranty_status(),
    }
    return render_console(request, "customers/asset_detail.html", context)


def _asset_initial(asset: Asset) -> dict:
    fields = (
        "serial_number",
        "product",
        "organization",
        "installed_at",
        "warranty_ends_at",
        "installation_address",
        "status",
        "notes",
    )
    initial = {name: getattr(asset, name) for name in fields}
    initial["contact"] = asset.contact_id
    return initial


@staff_console_view
def asset_new(request):
    initial = {}
    if request.GET.get("contact", "").isdigit():
        initial["contact"] = int(request.GET["contact"])
    if request.GET.get("organization", "").isdigit():
        initial["organization"] = int(request.GET["organization"])
    form = AssetForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            asset = actions.create_asset(request.user, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(
                request, _("Asset %(serial)s created.") % {"serial": asset.serial_number}
            )
            return redirect("customers:asset", pk=asset.pk)
    return render_console(request, "customers/form.html", {"form": form, "title": _("New asset")})


@staff_console_view
def asset_edit(request, pk: int):
    asset = get_asset_for_user(request.user, pk)
    form = AssetForm(request.POST or None, initial=_asset_initial(asset), product=asset.product)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_asset(request.user, asset, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Asset saved."))
            return redirect("customers:asset", pk=asset.pk)
    context = {"form": form, "title": _("Edit %(serial)s") % {"serial": asset.serial_number}}
    return render_console(request, "customers/form.html", context)


@staff_console_view
@require_POST
def asset_activate(request, pk: int):
    asset = get_asset_for_user(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        actions.set_asset_active(request.user, asset, active)
    except ACTION_ERRORS as error:
        _flash_errors(request, error)
    else:
        messages.success(request, _("Asset reactivated.") if active else _("Asset deactivated."))
    return redirect("customers:asset", pk=asset.pk)
