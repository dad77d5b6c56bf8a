"""The dashboard's aggregates as CSV (one long table) and XLSX (one sheet per table) for programme
and EU co-funder reporting. Counts only: nothing here can name a person."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from openpyxl import Workbook

from icam_web.figures import Table


def to_csv(tables: Mapping[str, Table]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["table", "dimension", "key", "measure", "value"])
    for table in tables.values():
        for key, values in table.rows:
            for measure in table.measures:
                writer.writerow([table.name, table.dimension, key, measure, _number(values.get(measure, 0))])
    return out.getvalue()


def to_xlsx(tables: Mapping[str, Table]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for table in tables.values():
        sheet = book.create_sheet(table.name[:31])
        sheet.append([table.dimension, *table.measures])
        for key, values in table.rows:
            sheet.append([key, *(_number(values.get(m, 0)) for m in table.measures)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
