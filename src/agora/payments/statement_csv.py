"""A vendor statement as a CSV download, shared by the API and the vendor portal."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse

from agora.payments.selectors import Statement

CSV_COLUMNS = ("date", "kind", "reference", "memo", "amount", "balance", "currency")
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@")


def statement_csv_response(statement: Statement) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for line in statement.lines:
        memo = f"'{line.memo}" if line.memo[:1] in FORMULA_PREFIXES else line.memo
        writer.writerow(
            [
                line.at.isoformat(),
                line.kind,
                line.reference,
                memo,
                line.amount,
                line.balance,
                statement.currency,
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"statement-{statement.vendor_id}-{statement.purpose}-{statement.currency}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
