"""The catalogue as DCAT-AP 2 JSON-LD, for open-data portals (e.g. CKAN's DCAT harvester)."""

from django.conf import settings
from django.urls import reverse

from accounts.selectors import ANONYMOUS
from datasets.api.serializers import schema_version_url
from datasets.selectors import dataset_places, dataset_time_span

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "locn": "http://www.w3.org/ns/locn#",
    "gsp": "http://www.opengis.net/ont/geosparql#",
}
THEME = "http://publications.europa.eu/resource/authority/data-theme/"
FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path)


def _bbox_wkt(box: list[float]) -> str:
    w, s, e, n = box
    return f"POLYGON(({w} {s},{e} {s},{e} {n},{w} {n},{w} {s}))"


def dataset_node(dataset, request) -> dict:
    identifier = _absolute(request, reverse("datasets-api:public-dataset-detail", kwargs={"pk": dataset.pk}))
    node = {
        "@id": identifier,
        "@type": "dcat:Dataset",
        "dct:identifier": str(dataset.pk),
        "dct:title": dataset.title,
        "dct:description": dataset.description,
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": dataset.publisher or dataset.owner.name},
        "dcat:contactPoint": {
            "@type": "vcard:Organization",
            "vcard:fn": dataset.owner.name,
            "vcard:hasEmail": {"@id": f"mailto:{dataset.contact_point}"},
        },
        "dcat:keyword": list(dataset.keywords),
        "dcat:theme": [{"@id": THEME + theme} for theme in dataset.themes],
        "dct:accrualPeriodicity": {"@id": FREQUENCY + dataset.update_frequency},
        "dct:conformsTo": {"@id": schema_version_url(dataset.schema_version, request)},
        "dct:accessRights": dataset.get_access_display(),
        "dct:modified": {"@value": dataset.updated_at.isoformat(), "@type": "xsd:dateTime"},
        "dcat:distribution": [
            {
                "@id": identifier + "#metadata",
                "@type": "dcat:Distribution",
                "dct:title": "Dataset description (JSON)",
                "dcat:accessURL": {"@id": identifier},
                "dct:format": {"@id": FILE_TYPE + "JSON"},
                "dct:license": {"@id": dataset.licence},
            }
        ],
    }
    # Built from what is public: the catalogue is anonymous, whoever harvests it.
    box = dataset_places(dataset, caller=ANONYMOUS).bbox
    if box:
        node["dct:spatial"] = {
            "@type": "dct:Location",
            "dcat:bbox": {"@value": _bbox_wkt(box), "@type": "gsp:wktLiteral"},
        }
    span = dataset_time_span(dataset)
    if span:
        node["dct:temporal"] = {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": {"@value": span["start"].isoformat(), "@type": "xsd:dateTime"},
            "dcat:endDate": {"@value": span["end"].isoformat(), "@type": "xsd:dateTime"},
        }
    return node


def catalog_document(datasets, request) -> dict:
    return {
        "@context": CONTEXT,
        "@id": _absolute(request, reverse("datasets-api:public-catalog")),
        "@type": "dcat:Catalog",
        "dct:title": settings.CATALOG_TITLE,
        "dct:description": "Crowd datasets shared on the Crowd Data Platform, described in DCAT-AP.",
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": settings.CATALOG_PUBLISHER},
        "foaf:homepage": {"@id": _absolute(request, "/")},
        "dcat:dataset": [dataset_node(dataset, request) for dataset in datasets],
    }
