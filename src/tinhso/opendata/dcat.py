"""The DCAT-AP catalogue of the public datasets, as RDF (Turtle, RDF/XML, JSON-LD) built
with rdflib, paged with Hydra the way ckanext-dcat pages it, so DCAT harvesters (the
European Data Portal's, data.gouv.fr's, any rdflib script) read it unchanged.

Validated in the tests against the DCAT-AP 3.0.0 SHACL shapes published by SEMIC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Max
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from tinhso.opendata.ckan import resource_url
from tinhso.opendata.formats import EU_FILE_TYPE, FORMATS
from tinhso.opendata.licences import LICENCES
from tinhso.opendata.models import Dataset, Resource

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
EU = "http://publications.europa.eu/resource/authority/"
EU_THEME = EU + "data-theme/"
EU_FREQUENCY = EU + "frequency/"
EU_FILE = EU + "file-type/"
EU_LANGUAGE = EU + "language/"
EU_COUNTRY = EU + "country/VNM"
IANA = "https://www.iana.org/assignments/media-types/"

EU_THEME_LABELS = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}
PUBLISHER_TYPE = "http://purl.org/adms/publishertype/RegionalAuthority"

PAGE_SIZE = 100
SERIALIZATIONS = {
    "ttl": ("turtle", "text/turtle; charset=utf-8"),
    "rdf": ("xml", "application/rdf+xml; charset=utf-8"),
    "jsonld": ("json-ld", "application/ld+json; charset=utf-8"),
}
_CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "hydra": str(HYDRA),
    "vcard": str(VCARD),
    "skos": str(SKOS),
    "spdx": str(SPDX),
    "xsd": str(XSD),
}


def new_graph() -> Graph:
    graph = Graph()
    for prefix, namespace in _CONTEXT.items():
        graph.bind(prefix, namespace)
    graph.bind("adms", ADMS)
    return graph


def serialize(graph: Graph, kind: str) -> bytes:
    rdf_format, _content_type = SERIALIZATIONS[kind]
    if rdf_format == "json-ld":
        return graph.serialize(format="json-ld", context=_CONTEXT, auto_compact=True).encode()
    return graph.serialize(format=rdf_format, encoding="utf-8")


def _datetime(value: datetime) -> Literal:
    return Literal(value.isoformat(timespec="seconds"), datatype=XSD.dateTime)


def _publisher(graph: Graph, dataset: Dataset, site: str) -> URIRef:
    publisher = dataset.publisher
    node = URIRef(f"{site}/organization/{publisher.name}")
    graph.add((node, RDF.type, FOAF.Agent))
    graph.add((node, FOAF.name, Literal(publisher.agency.name, lang="vi")))
    if publisher.agency.name_en:
        graph.add((node, FOAF.name, Literal(publisher.agency.name_en, lang="en")))
    graph.add((node, DCTERMS.identifier, Literal(publisher.agency.code)))
    graph.add((node, DCTERMS.type, _concept(graph, PUBLISHER_TYPE, "Regional authority")))
    return node


def _concept(graph: Graph, uri: str, label: str) -> URIRef:
    node = URIRef(uri)
    graph.add((node, RDF.type, SKOS.Concept))
    graph.add((node, SKOS.prefLabel, Literal(label, lang="en")))
    return node


def _language(graph: Graph) -> URIRef:
    node = URIRef(EU_LANGUAGE + "VIE")
    graph.add((node, RDF.type, DCTERMS.LinguisticSystem))
    return node


def _resource(graph: Graph, url: str) -> URIRef:
    node = URIRef(url)
    graph.add((node, RDF.type, RDFS.Resource))
    return node


def dataset_uri(site: str, dataset: Dataset) -> URIRef:
    return URIRef(f"{site}/dataset/{dataset.pk}")


def add_dataset(graph: Graph, dataset: Dataset, site: str) -> URIRef:
    """Describe one dataset and its distributions (resources are prefetched)."""
    node = dataset_uri(site, dataset)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(str(dataset.pk))))
    graph.add((node, DCTERMS.title, Literal(dataset.title, lang="vi")))
    if dataset.title_en:
        graph.add((node, DCTERMS.title, Literal(dataset.title_en, lang="en")))
    graph.add((node, DCTERMS.description, Literal(dataset.notes or dataset.title, lang="vi")))
    if dataset.notes_en:
        graph.add((node, DCTERMS.description, Literal(dataset.notes_en, lang="en")))
    graph.add((node, DCTERMS.issued, _datetime(dataset.published_at or dataset.metadata_created)))
    graph.add((node, DCTERMS.modified, _datetime(dataset.metadata_modified)))
    graph.add((node, DCTERMS.language, _language(graph)))
    graph.add((node, DCTERMS.publisher, _publisher(graph, dataset, site)))
    graph.add((node, DCAT.landingPage, _document(graph, f"{site}/du-lieu-mo/{dataset.name}/")))
    for tag in dataset.tags.all():
        graph.add((node, DCAT.keyword, Literal(tag.name, lang="vi")))
    for theme in dataset.themes.all():
        label = EU_THEME_LABELS.get(theme.eu_theme, theme.title_en or theme.title)
        graph.add((node, DCAT.theme, _concept(graph, EU_THEME + theme.eu_theme, label)))
    if dataset.frequency:
        graph.add(
            (node, DCTERMS.accrualPeriodicity, _frequency(graph, EU_FREQUENCY + dataset.frequency))
        )
    if dataset.temporal_start or dataset.temporal_end:
        period = BNode()
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        if dataset.temporal_start:
            graph.add((period, DCAT.startDate, Literal(dataset.temporal_start, datatype=XSD.date)))
        if dataset.temporal_end:
            graph.add((period, DCAT.endDate, Literal(dataset.temporal_end, datatype=XSD.date)))
        graph.add((node, DCTERMS.temporal, period))
    if dataset.spatial:
        place = BNode()
        graph.add((place, RDF.type, DCTERMS.Location))
        graph.add((place, SKOS.prefLabel, Literal(dataset.spatial, lang="vi")))
        if dataset.spatial_code:
            graph.add((place, DCTERMS.identifier, Literal(str(dataset.spatial_code))))
        graph.add((node, DCTERMS.spatial, place))
    if dataset.contact_name or dataset.contact_email:
        contact = BNode()
        graph.add((contact, RDF.type, VCARD.Kind))
        graph.add(
            (contact, VCARD.fn, Literal(dataset.contact_name or dataset.publisher.agency.name))
        )
        if dataset.contact_email:
            graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{dataset.contact_email}")))
        graph.add((node, DCAT.contactPoint, contact))
    licence = LICENCES.get(dataset.license_id)
    for resource in sorted(dataset.resources.all(), key=lambda r: r.position):
        graph.add((node, DCAT.distribution, _distribution(graph, resource, site, licence)))
    return node


def _document(graph: Graph, url: str) -> URIRef:
    node = URIRef(url)
    graph.add((node, RDF.type, FOAF.Document))
    return node


def _frequency(graph: Graph, uri: str) -> URIRef:
    node = URIRef(uri)
    graph.add((node, RDF.type, DCTERMS.Frequency))
    return node


def _distribution(graph: Graph, resource: Resource, site: str, licence: Any) -> URIRef:
    node = URIRef(f"{site}/dataset/{resource.dataset_id}/resource/{resource.pk}")
    url = _resource(graph, resource_url(resource, site))
    graph.add((node, RDF.type, DCAT.Distribution))
    graph.add((node, DCTERMS.title, Literal(resource.name, lang="vi")))
    if resource.description:
        graph.add((node, DCTERMS.description, Literal(resource.description, lang="vi")))
    graph.add((node, DCAT.accessURL, url))
    if resource.is_upload:
        graph.add((node, DCAT.downloadURL, url))
    if resource.format in EU_FILE_TYPE:
        file_type = URIRef(EU_FILE + EU_FILE_TYPE[resource.format])
        graph.add((file_type, RDF.type, DCTERMS.MediaTypeOrExtent))
        graph.add((node, DCTERMS["format"], file_type))
        media = URIRef(IANA + FORMATS[resource.format][0])
        graph.add((media, RDF.type, DCTERMS.MediaType))
        graph.add((node, DCAT.mediaType, media))
    if resource.size is not None:
        graph.add((node, DCAT.byteSize, Literal(resource.size, datatype=XSD.nonNegativeInteger)))
    if resource.sha256:
        checksum = BNode()
        graph.add((checksum, RDF.type, SPDX.Checksum))
        graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        graph.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))
        graph.add((checksum, SPDX.checksumValue, Literal(resource.sha256, datatype=XSD.hexBinary)))
        graph.add((node, SPDX.checksum, checksum))
    if resource.last_modified:
        graph.add((node, DCTERMS.modified, _datetime(resource.last_modified)))
    if licence is not None:
        licence_node = URIRef(licence.uri)
        graph.add((licence_node, RDF.type, DCTERMS.LicenseDocument))
        graph.add((node, DCTERMS.license, licence_node))
    return node


def _loaded(qs: Any) -> list[Dataset]:
    return list(
        qs.select_related("publisher__agency").prefetch_related("tags", "themes", "resources")
    )


def catalog_graph(site: str, page: int, kind: str) -> Graph | None:
    """One page of the catalogue (None when the page does not exist): the catalogue
    itself, PAGE_SIZE public datasets in a stable order, and the Hydra paging."""
    public = Dataset.objects.filter(private=False)
    total = public.count()
    last = max(1, -(-total // PAGE_SIZE))
    if page < 1 or page > last:
        return None
    graph = new_graph()
    catalog = URIRef(f"{site}/catalog")
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Literal("Cổng dữ liệu mở Tỉnh Số", lang="vi")))
    graph.add((catalog, DCTERMS.title, Literal("Tỉnh Số open-data portal", lang="en")))
    graph.add(
        (
            catalog,
            DCTERMS.description,
            Literal("Dữ liệu mở của các cơ quan nhà nước trong tỉnh.", lang="vi"),
        )
    )
    graph.add(
        (catalog, DCTERMS.description, Literal("Open data of the province's agencies.", lang="en"))
    )
    graph.add((catalog, FOAF.homepage, _document(graph, f"{site}/du-lieu-mo/")))
    graph.add((catalog, DCTERMS.language, _language(graph)))
    graph.add((catalog, DCTERMS.spatial, URIRef(EU_COUNTRY)))
    graph.add((URIRef(EU_COUNTRY), RDF.type, DCTERMS.Location))
    graph.add((catalog, DCAT.themeTaxonomy, URIRef(EU + "data-theme")))
    graph.add((URIRef(EU + "data-theme"), RDF.type, SKOS.ConceptScheme))
    graph.add((URIRef(EU + "data-theme"), DCTERMS.title, Literal("Data theme", lang="en")))
    licence = LICENCES["CC-BY-4.0"]
    graph.add((catalog, DCTERMS.license, URIRef(licence.uri)))
    graph.add((URIRef(licence.uri), RDF.type, DCTERMS.LicenseDocument))
    modified = public.aggregate(m=Max("metadata_modified"))["m"]
    if modified:
        graph.add((catalog, DCTERMS.modified, _datetime(modified)))
    page_datasets = _loaded(
        public.order_by("metadata_created", "id")[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    )
    catalog_publisher: URIRef | None = None
    for dataset in page_datasets:
        node = add_dataset(graph, dataset, site)
        graph.add((catalog, DCAT.dataset, node))
        if dataset.publisher.agency.parent_id is None:
            catalog_publisher = URIRef(f"{site}/organization/{dataset.publisher.name}")
    if catalog_publisher is None:
        catalog_publisher = URIRef(f"{site}/")
        graph.add((catalog_publisher, RDF.type, FOAF.Agent))
        graph.add((catalog_publisher, FOAF.name, Literal("Tỉnh Số", lang="vi")))
    graph.add((catalog, DCTERMS.publisher, catalog_publisher))

    def page_uri(n: int) -> URIRef:
        return URIRef(f"{site}/catalog.{kind}?page={n}")

    paging = page_uri(page)
    graph.add((paging, RDF.type, HYDRA.PagedCollection))
    graph.add((paging, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
    graph.add((paging, HYDRA.itemsPerPage, Literal(PAGE_SIZE, datatype=XSD.integer)))
    graph.add((paging, HYDRA.firstPage, Literal(str(page_uri(1)))))
    graph.add((paging, HYDRA.lastPage, Literal(str(page_uri(last)))))
    if page < last:
        graph.add((paging, HYDRA.nextPage, Literal(str(page_uri(page + 1)))))
    if page > 1:
        graph.add((paging, HYDRA.previousPage, Literal(str(page_uri(page - 1)))))
    return graph


def dataset_graph(site: str, dataset: Dataset) -> Graph:
    graph = new_graph()
    loaded = _loaded(Dataset.objects.filter(pk=dataset.pk))[0]
    add_dataset(graph, loaded, site)
    return graph
