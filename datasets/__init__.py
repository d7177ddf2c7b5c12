"""Standard schemas, datasets, records, ingest, retention, rollups and crowd indicators."""
