"""The catalogue for researchers: the published datasets, searchable, and a page per dataset that says what it
holds, where and when, under which purposes it may be read, and how to ask for it."""

import shlex
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from datasets.filtersets import CatalogueFilterSet
from datasets.models import Theme, UpdateFrequency
from web import selectors

PAGE_SIZE = 20
# The largest id a dataset may have (a bigint): a longer number in the URL is no dataset, not a database error.
MAX_ID = 2**63 - 1
KEY_PLACEHOLDER = "<your API key>"


def theme_labels(codes: list[str]) -> list[str]:
    return [Theme(code).label if code in Theme.values else code for code in codes]


def catalogue(request):
    """The published datasets, filtered by free text, theme, organisation, schema and area (a GET form)."""
    params = {name: request.GET[name] for name in CatalogueFilterSet.Meta.fields if request.GET.get(name)}
    filterset = CatalogueFilterSet(params, queryset=selectors.catalogue_datasets())
    valid = filterset.is_valid()
    datasets = filterset.qs if valid else selectors.catalogue_datasets().none()
    page = Paginator(datasets, PAGE_SIZE).get_page(request.GET.get("page"))
    for dataset in page.object_list:
        dataset.theme_labels = theme_labels(dataset.themes)
    context = {
        "page": page,
        "form": filterset.form,
        "selected": {name: filterset.form.cleaned_data.get(name) for name in params} if valid else params,
        "facets": selectors.catalogue_facets(),
        "searched": bool(params),
    }
    return render(request, "web/catalogue/list.html", context)


def curl_command(request, example: selectors.ExampleRequest) -> str:
    """The request as a `curl` line that runs as is against this server (with a key filled in where it needs
    one): --fail-with-body makes curl fail on a refusal and still print the reason."""
    url = request.build_absolute_uri(reverse(example.url_name, kwargs=example.url_kwargs))
    words = ["curl", "-s", "--fail-with-body", f"{url}?{urlencode(example.params, safe=':')}"]
    words += ["-H", f"X-Purpose: {example.purpose_code}"]
    if example.needs_key:
        words += ["-H", f"Authorization: Api-Key {KEY_PLACEHOLDER}"]
    return shlex.join(words)


def catalogue_dataset(request, pk: int):
    """One catalogue dataset, for a researcher: schema, coverage, terms, uses, and a request to copy."""
    if pk > MAX_ID:
        raise Http404
    dataset = get_object_or_404(selectors.catalogue_datasets(), pk=pk)
    coverage = selectors.dataset_coverage(dataset)
    places = len(coverage.sensors) or len(coverage.areas)
    uses = []
    for use in selectors.dataset_uses(dataset):
        example = selectors.example_request(
            dataset, use, places=len(coverage.areas) if use.conditions.area_only else places
        )
        uses.append(
            {
                "use": use,
                "command": curl_command(request, example) if example else None,
                "forecast_of": example.forecast_of if example else None,
            }
        )
    context = {
        "dataset": dataset,
        "schema": dataset.schema_version,
        "period_minutes": round(period.total_seconds() / 60) if (period := dataset.schema_version.period) else None,
        "coverage": coverage,
        "map_areas": [{"id": a.pk, "name": a.name, "geometry": a.geometry} for a in coverage.areas],
        "map_sensors": [
            {"id": s.pk, "name": s.name, "lat": s.latitude, "lon": s.longitude}
            for s in coverage.sensors
            if s.latitude is not None
        ],
        "uses": uses,
        "has_open": any(entry["use"].is_open for entry in uses),
        "indicators": selectors.dataset_indicators(dataset, per_area=bool(coverage.areas)),
        "access_stats": selectors.dataset_access_stats(dataset),
        "themes": theme_labels(dataset.themes),
        "frequency": UpdateFrequency(dataset.update_frequency).label
        if dataset.update_frequency in UpdateFrequency.values
        else dataset.update_frequency,
        "api_url": reverse("datasets-api:public-dataset-detail", kwargs={"pk": dataset.pk}),
        "catalog_url": reverse("datasets-api:public-catalog"),
        "schema_url": reverse(
            "datasets-api:schema-version",
            kwargs={"code": dataset.schema_version.schema.code, "version": dataset.schema_version.version},
        ),
    }
    return render(request, "web/catalogue/dataset.html", context)
