"""Static files storage for production: WhiteNoise's compressed, hashed-name (manifest) storage.

Django's manifest storage also rewrites `sourceMappingURL` comments to the hashed name of the map, and refuses
to collect when the map is missing. Vendored libraries are kept as shipped, without their maps (Leaflet's
leaflet.js names a leaflet.js.map that is not vendored), so source-map comments are left as they are: a
browser's developer tools ask for the map by its plain name, and get it when it is there. url() and @import
in style sheets are still rewritten to hashed names.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns):
    return tuple(
        (
            extension,
            tuple(rule for rule in rules if "sourceMappingURL" not in (rule[0] if isinstance(rule, tuple) else rule)),
        )
        for extension, rules in patterns
    )


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    patterns = _without_source_maps(CompressedManifestStaticFilesStorage.patterns)
