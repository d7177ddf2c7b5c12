"""`manage.py push_melbourne_counts FILE`: read the City of Melbourne's hourly counts (wide or long CSV)
as a stream and push them through the platform's HTTP API in batches, with keys derived from content."""

import csv
import hashlib
import json
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from datasets import melbourne

POINTER_INDEX = re.compile(r"^/records/(\d+)")
SHOWN_PER_REASON = 20  # rejected cells listed per reason at the default verbosity (all kept ones with -v 2)


class Refused(Exception):
    """The API refused a whole batch, or could not be reached."""


class Tally:
    """What the API answered, batch by batch."""

    def __init__(self):
        self.batches = self.sent = self.created = self.updated = self.unchanged = 0
        self.replayed = self.replayed_batches = self.rejected = 0
        self.reasons: Counter = Counter()  # the API's error code -> records
        self.examples: dict[str, str] = {}  # code -> one error, with its line in the file
        self.last_line = 1

    def add(self, answer: dict, replayed: bool, lines: list[int]) -> None:
        rejected = int(answer.get("rejected", 0))
        by_index: dict[int, dict] = {}
        for error in answer.get("errors") or []:
            match = POINTER_INDEX.match(str(error.get("pointer", "")))
            if match:
                by_index.setdefault(int(match.group(1)), error)
        for index, error in by_index.items():
            code = str(error.get("code") or "invalid")
            self.reasons[code] += 1
            if code not in self.examples and index < len(lines):
                self.examples[code] = f"line {lines[index]}: {error.get('detail', '')}"
        if rejected > len(by_index):  # the answer lists at most 1,000 errors
            self.reasons["not_listed"] += rejected - len(by_index)
        self.rejected += rejected
        if replayed:
            self.replayed += int(answer.get("received", len(lines))) - rejected
            self.replayed_batches += 1
        else:
            self.created += int(answer.get("created", 0))
            self.updated += int(answer.get("updated", 0))
            self.unchanged += int(answer.get("unchanged", 0))


class Command(BaseCommand):
    help = (
        "Read the City of Melbourne's hourly pedestrian counts (the wide file, one column per sensor, with dates "
        "1-Jan-10 or 01/01/2019; or the open data portal's long file, one row per sensor and hour) and send them to "
        "a dataset through the platform's HTTP API, in batches. Re-running is safe: a batch already sent replays."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the platform's base URL")
        parser.add_argument("--key", required=True, help="API key of the dataset's owner")
        parser.add_argument("--dataset", type=int, required=True)
        parser.add_argument("--controller", default="city-of-melbourne", help="whose sensors the file names")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="records per request (1 to 10,000; the default keeps every rejection listed in the answer)",
        )
        parser.add_argument(
            "--progress", type=float, default=10.0, help="seconds between progress lines on stderr (0: every batch)"
        )

    # HTTP ---------------------------------------------------------------------------------------------

    def _call(self, method, url, key, body=None, headers=None):
        request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 (the operator's own URL)
        request.add_header("Authorization", f"Api-Key {key}")
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
                return response.status, response.headers, _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, error.headers, _json(error.read())
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise Refused(f"The platform at {url.split('/api/')[0]} cannot be reached ({reason}).") from None

    def _register(self, base, key, controller) -> melbourne.Register:
        sensors, next_url = [], f"{base}/api/v1/sensors/?controller={controller}&page_size=500"
        while next_url:
            status, _, page = self._call("GET", next_url, key)
            if status != 200 or not isinstance(page, dict):
                raise Refused(f"Listing the sensors of {controller} failed: {_problem(status, page)}")
            sensors += [(sensor["reference"], sensor["name"]) for sensor in page["results"]]
            next_url = page.get("next")
        if not sensors:
            raise CommandError(f"{controller} has no sensors that this key can see; import the register first.")
        return melbourne.Register(sensors)

    # The run ------------------------------------------------------------------------------------------

    def handle(self, *args, file, url, key, dataset, controller, batch_size, progress, verbosity, **options):
        if not 1 <= batch_size <= 10_000:
            raise CommandError("--batch-size must be from 1 to 10,000 (the API takes at most 10,000 per request).")
        base = url.rstrip("/")
        target = f"{base}/api/v1/datasets/{dataset}/records/?partial=true"
        report, tally = melbourne.Report(), Tally()
        started = last_shown = time.monotonic()
        try:
            with open(file, encoding="utf-8-sig", newline="") as stream:
                header = next(csv.reader(stream), None)
            if header is None:
                raise melbourne.FormatError("The file is empty: no header row.")
            melbourne.detect(header)  # before anything is asked of the platform
            register = self._register(base, key, controller)
            with open(file, encoding="utf-8-sig", newline="") as stream:
                # strict: a file that ends inside a quoted field is an error (CutOff), not a last row
                items = melbourne.records(csv.reader(stream, strict=True), register, report)
                batch: list[dict] = []
                lines: list[int] = []
                for line, record in items:
                    batch.append(record)
                    lines.append(line)
                    if len(batch) == batch_size:
                        self._send(target, key, dataset, batch, lines, tally)
                        batch, lines = [], []
                        if verbosity and time.monotonic() - last_shown >= progress:
                            last_shown = time.monotonic()
                            self._progress(report, tally, started)
                if batch:
                    self._send(target, key, dataset, batch, lines, tally)
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file.") from None
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror or error}.") from None
        except UnicodeDecodeError as error:
            self._summary(report, tally, verbosity)
            raise CommandError(
                f"{file} is not UTF-8 text (after line {report.lines}: {error.reason}). {self._how_far(tally)}"
            ) from None
        except melbourne.CutOff as error:
            self._summary(report, tally, verbosity)
            raise CommandError(
                f"{file}: {error}; nothing from line {error.line} on was read. {self._how_far(tally)}"
            ) from None
        except csv.Error as error:
            self._summary(report, tally, verbosity)
            raise CommandError(f"{file}, line {report.lines + 1}: not CSV ({error}). {self._how_far(tally)}") from None
        except melbourne.FormatError as error:
            raise CommandError(f"{file}: {error}") from None
        except Refused as error:
            self._summary(report, tally, verbosity)
            raise CommandError(f"{error} {self._how_far(tally)}") from None
        if verbosity and tally.batches:
            self._progress(report, tally, started)
        self._summary(report, tally, verbosity)

    def _send(self, target, key, dataset, batch, lines, tally):
        body = json.dumps({"records": batch}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        digest = hashlib.sha256(f"{dataset}\n".encode() + body).hexdigest()
        status, headers, answer = self._call("POST", target, key, body, headers={"Idempotency-Key": f"melb-{digest}"})
        if status not in (200, 201) or not isinstance(answer, dict):
            raise Refused(
                f"The API refused batch {tally.batches + 1} (lines {lines[0]} to {lines[-1]}, {len(batch)} records): "
                f"{_problem(status, answer)}"
            )
        tally.add(answer, replayed=(headers.get("Idempotent-Replayed", "").lower() == "true"), lines=lines)
        tally.batches += 1
        tally.sent += len(batch)
        tally.last_line = lines[-1]

    @staticmethod
    def _how_far(tally: Tally) -> str:
        if not tally.batches:
            return "Nothing was sent."
        return (
            f"{tally.batches} batches ({tally.sent} records, up to line {tally.last_line}) were sent before; "
            "running the command again is safe: those batches replay."
        )

    def _progress(self, report, tally, started):
        seconds = max(time.monotonic() - started, 1e-9)
        self.stderr.write(
            f"line {report.lines}: {tally.sent} records sent in {tally.batches} batches "
            f"({tally.sent / seconds:.0f} records/s)"
        )

    def _summary(self, report: melbourne.Report, tally: Tally, verbosity: int) -> None:
        out = self.stdout.write
        local = sum(report.rejected.values())
        out(
            f"{report.format or 'unread'} format, {report.lines} lines read: {tally.sent} records sent in "
            f"{tally.batches} batches: {tally.created} created, {tally.updated} updated, {tally.unchanged} unchanged, "
            f"{tally.replayed} replayed ({tally.replayed_batches} batches), {tally.rejected + local} rejected."
        )
        if tally.replayed_batches:
            out(f"{tally.replayed_batches} batches were sent before with the same content: replayed, not stored again.")
        for code, count in sorted(tally.reasons.items()):
            example = f"; e.g. {tally.examples[code]}" if code in tally.examples else ""
            out(f"rejected by the API: {code}: {count}{example}")
        if tally.reasons:
            out("(see the dataset's batches for every refusal)")
        for reason, count in sorted(report.rejected.items()):
            kept = report.details.get(reason, [])
            first = f"; e.g. line {kept[0][0]}" if kept else ""
            out(f"rejected in the file: {reason}: {count}{first}")
            shown = kept if verbosity > 1 else kept[:SHOWN_PER_REASON]
            for line, column, value, why in shown:
                where = f"line {line}, column {column!r}: {value!r}" if column else f"line {line}"  # or the whole row
                self.stderr.write(f"  {where}: {why}")
            if report.occurrences[reason] > len(shown) and kept:
                more = report.occurrences[reason] - len(shown)
                self.stderr.write(f"  ... {more} more {reason} (-v 2 lists up to {melbourne.DETAILS_KEPT})")
        markers = ", ".join(f"{marker} {report.missing[marker]}" for marker in melbourne.MISSING.values())
        out(f"missing cells (no record): {sum(report.missing.values())} ({markers})")
        if verbosity > 1:
            for sensor, counts in sorted(report.missing_by_sensor.items()):
                detail = ", ".join(f"{marker} {n}" for marker in melbourne.MISSING.values() if (n := counts[marker]))
                out(f"  {sensor}: {sum(counts.values())} ({detail})")
        for line, matches in report.totals_rows:
            sums = "equals" if matches else "differs from"
            out(f"totals row skipped: line {line} ({sums} the sums of the rows above)")
        if report.blank_rows:
            out(f"empty rows skipped: {report.blank_rows}")
        for name, cells in sorted(report.unknown.items()):
            out(f"unknown sensor: {name!r} names no sensor of this controller; {cells} counts not sent")
        for name in report.ignored_columns:
            out(f"column ignored: {name!r}")


def _json(raw: bytes):
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw[:300].decode("utf-8", "replace")


def _problem(status, body) -> str:
    if isinstance(body, dict):
        parts = [str(body[name]) for name in ("title", "detail") if body.get(name)]
        errors = body.get("errors") or []
        parts += [f"{error.get('pointer', '')} {error.get('detail', '')}".strip() for error in errors[:3]]
        return f"{status} " + ": ".join(parts)
    return f"{status} {body}"
