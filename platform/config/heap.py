"""The start-up heap, frozen: config.wsgi and config.asgi call `freeze_start_up_heap()` once the
application is loaded.

A server process holds about 110,000 objects from start-up (modules, URL patterns, serializers,
schemas) that live as long as it does. Python's full garbage collection walks every one of them, and a
10,000-record ingest batch creates enough objects to set one off per batch: 60 to 75 ms of the batch on
the development machine (bench/run ingest_phases, issue 10). Frozen (`gc.freeze`), they are left out of
every collection; what requests create is collected as before.
"""

import gc


def freeze_start_up_heap() -> None:
    gc.collect()  # so that no garbage is frozen with the rest
    gc.freeze()
