"""`manage.py push_melbourne_counts FILE`: convert Melbourne's wide hourly counts and push them through the API."""

import json
import urllib.error
import urllib.request
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from datasets import melbourne


class Command(BaseCommand):
    help = (
        "Convert the City of Melbourne's hourly counts (one column per sensor) into hourly-pedestrian-count "
        "records and send them to a dataset through the platform's HTTP API, in batches."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the platform's base URL")
        parser.add_argument("--key", required=True, help="API key of the dataset's owner")
        parser.add_argument("--dataset", type=int, required=True)
        parser.add_argument("--controller", default="city-of-melbourne", help="whose sensors the columns name")
        parser.add_argument("--batch-size", type=int, default=5000)

    def _call(self, method, url, key, body=None, content_type="application/json", headers=None):
        request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 (the operator's own URL)
        request.add_header("Authorization", f"Api-Key {key}")
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def handle(self, *args, file, url, key, dataset, controller, batch_size, **options):
        base = url.rstrip("/")
        reference_by_name, next_url = {}, f"{base}/api/v1/sensors/?controller={controller}&page_size=1000"
        while next_url:
            status, page = self._call("GET", next_url, key)
            if status != 200:
                raise CommandError(f"Listing sensors failed ({status}): {page}")
            reference_by_name.update({sensor["name"]: sensor["reference"] for sensor in page["results"]})
            next_url = page.get("next")
        records, unknown = melbourne.wide_to_records(file.read_text(encoding="utf-8-sig"), reference_by_name)
        for name in unknown:
            self.stderr.write(f"column {name!r}: no sensor of {controller} has this name; skipped")
        totals = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
        reasons: dict[str, int] = {}
        for start in range(0, len(records), batch_size):
            chunk = records[start : start + batch_size]
            body = json.dumps({"records": chunk}).encode()
            status, answer = self._call(
                "POST",
                f"{base}/api/v1/datasets/{dataset}/records/?partial=true",
                key,
                body,
                headers={"Idempotency-Key": f"melbourne-{file.name}-{start}-{len(chunk)}"},
            )
            if status not in (200, 201):
                raise CommandError(f"Batch at record {start} failed ({status}): {answer}")
            for name in totals:
                totals[name] += answer[name]
            for error in answer.get("errors", []):
                reason = error["detail"].split(" was not active")[0]
                reasons[reason] = reasons.get(reason, 0) + 1
        for reason, count in sorted(reasons.items()):
            self.stderr.write(f"refused: {reason} ({count} records; see the dataset's batches)")
        self.stdout.write(
            f"{len(records)} records sent: {totals['created']} created, {totals['updated']} updated, "
            f"{totals['unchanged']} unchanged, {totals['rejected']} rejected."
        )
