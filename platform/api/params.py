"""Query parameters read through a serializer, as plain values: the one way views read their own parameters.

DRF reads a QueryDict as an HTML form, which is lenient where the OpenAPI document is not: an empty
`?partial=` or `?page_size=` is taken for "not given" (the default). Read as plain values, an empty
boolean or number is refused like any other bad value: a 422 whose pointer names the parameter.
"""

from rest_framework import serializers

from api.json_types import query_boolean


def query_parameters(request, serializer_class: type[serializers.Serializer]) -> dict:
    """The validated parameters, or a ValidationError (422): repeated ones for list fields, else the last."""
    params = request.query_params
    data = {}
    for name, field in serializer_class().fields.items():
        if name not in params:
            continue
        if isinstance(field, serializers.ListField):
            data[name] = params.getlist(name)
        elif isinstance(field, serializers.BooleanField):
            data[name] = query_boolean(params[name])
        else:
            data[name] = params[name]
    query = serializer_class(data=data)
    query.is_valid(raise_exception=True)
    return query.validated_data
