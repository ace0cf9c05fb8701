from django.urls import path, re_path

from tinhso.opendata import ckan, manage_views, views

app_name = "opendata"

# The portal's own pages under /du-lieu-mo/; CKAN's and DCAT's well-known addresses at the
# root, as CKAN clients and harvesters expect them.
urlpatterns = [
    path("du-lieu-mo/", views.home, name="home"),
    path("du-lieu-mo/tim-kiem/", views.search_page, name="search"),
    path("du-lieu-mo/quan-ly/", manage_views.manage_list, name="manage"),
    path("du-lieu-mo/quan-ly/tao-moi/", manage_views.manage_create, name="manage_create"),
    path("du-lieu-mo/quan-ly/<slug:slug>/", manage_views.manage_dataset, name="manage_dataset"),
    path(
        "du-lieu-mo/quan-ly/<slug:slug>/cong-bo/",
        manage_views.manage_publish,
        name="manage_publish",
    ),
    path("du-lieu-mo/<slug:slug>/", views.dataset_page, name="dataset"),
    path(
        "du-lieu-mo/<slug:slug>/tai-nguyen/<uuid:resource_id>/",
        views.resource_page,
        name="resource",
    ),
    path("api/3/action/<str:name>", ckan.action, name="ckan_action"),
    path("api/action/<str:name>", ckan.action, name="ckan_action_unversioned"),
    re_path(r"^catalog\.(?P<kind>ttl|rdf|jsonld)$", views.catalog, name="catalog"),
    re_path(
        r"^dataset/(?P<slug>[-\w]+)\.(?P<kind>ttl|rdf|jsonld)$",
        views.dataset_rdf,
        name="dataset_rdf",
    ),
    path("dataset/<str:slug>", views.dataset_redirect, name="dataset_redirect"),
    path("dataset/<str:slug>/", views.dataset_redirect),
    path(
        "dataset/<str:slug>/resource/<uuid:resource_id>",
        views.resource_redirect,
        name="resource_redirect",
    ),
    path(
        "dataset/<slug:slug>/resource/<uuid:resource_id>/download/<str:filename>",
        views.download,
        name="download",
    ),
    path("organization/<slug:name>", views.organization_redirect, name="organization"),
]
