from django.urls import path

from kefu.customers import views
from kefu.customers.views import contacts, organizations, products, transfer

app_name = "customers"

urlpatterns = [
    path("search/", views.contact_search, name="search"),
    path("<int:pk>/invite/", views.contact_invite, name="invite"),
    # contacts
    path("", contacts.contact_list, name="contacts"),
    path("new/", contacts.contact_new, name="contact_new"),
    path("<int:pk>/", contacts.contact_detail, name="contact"),
    path("<int:pk>/edit/", contacts.contact_edit, name="contact_edit"),
    path("<int:pk>/notes/", contacts.contact_notes, name="contact_notes"),
    path("<int:pk>/active/", contacts.contact_activate, name="contact_activate"),
    path("<int:pk>/merge/", contacts.contact_merge, name="contact_merge"),
    path("<int:pk>/bounce/reset/", contacts.contact_reset_bounce, name="contact_reset_bounce"),
    # organisations
    path("organizations/", organizations.organization_list, name="organizations"),
    path("organizations/new/", organizations.organization_new, name="organization_new"),
    path("organizations/<int:pk>/", organizations.organization_detail, name="organization"),
    path("organizations/<int:pk>/edit/", organizations.organization_edit, name="organization_edit"),
    path(
        "organizations/<int:pk>/notes/",
        organizations.organization_notes,
        name="organization_notes",
    ),
    path(
        "organizations/<int:pk>/active/",
        organizations.organization_activate,
        name="organization_activate",
    ),
    # products and documents
    path("products/", products.product_list, name="products"),
    path("products/new/", products.product_new, name="product_new"),
    path("products/<int:pk>/", products.product_detail, name="product"),
    path("products/<int:pk>/edit/", products.product_edit, name="product_edit"),
    path("products/<int:pk>/active/", products.product_activate, name="product_activate"),
    path("products/<int:pk>/documents/", products.document_upload, name="document_upload"),
    path("documents/<int:pk>/", products.document_download, name="document"),
    path("documents/<int:pk>/remove/", products.document_remove, name="document_remove"),
    # assets
    path("assets/", products.asset_list, name="assets"),
    path("assets/new/", products.asset_new, name="asset_new"),
    path("assets/<int:pk>/", products.asset_detail, name="asset"),
    path("assets/<int:pk>/edit/", products.asset_edit, name="asset_edit"),
    path("assets/<int:pk>/active/", products.asset_activate, name="asset_activate"),
    # import and export
    path("import/", transfer.import_start, name="import_start"),
    path("import/<int:pk>/", transfer.import_detail, name="import"),
    path("import/<int:pk>/progress/", transfer.import_progress, name="import_progress"),
    path("import/<int:pk>/confirm/", transfer.import_confirm, name="import_confirm"),
    path("export/<str:kind>/", transfer.export_customers, name="export"),
]
