"""A document upload (multipart/form-data) read into memory, never onto the web's disk.

Starlette's form parser spools files past 1 MiB to a temporary file; a document of a person's file
has no business in the web's storage, so the upload form is read here instead: the small fields
as text, the file's bytes in memory up to `limit` + 1 (one byte more than the case service accepts,
so that the service, not the web, says the file is too large). The rest of a larger file is read
and dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header

FIELD_LIMIT = 64 * 1024  # bytes of one ordinary field: a CSRF token, a kind, a reference


class NotAnUpload(ValueError):
    """The request is not multipart/form-data with a boundary."""


@dataclass
class UploadForm:
    """What the upload form sent: its fields, and the file (name, declared type, bytes)."""

    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    content_type: str = "application/octet-stream"
    data: bytes = b""
    size: int = 0  # bytes that arrived, also past what was kept


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    buffer: bytearray = field(default_factory=bytearray)


class _Collector:
    """The parser's callbacks: headers of each part, then its data, bounded."""

    def __init__(self, file_field: str, limit: int) -> None:
        self.form = UploadForm()
        self.file_field, self.limit = file_field, limit
        self.part = _Part()
        self.header = [bytearray(), bytearray()]
        self.file = bytearray()

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.begin,
            "on_header_field": lambda d, s, e: self.header[0].extend(d[s:e]),
            "on_header_value": lambda d, s, e: self.header[1].extend(d[s:e]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.data,
            "on_part_end": self.end,
        }

    def begin(self) -> None:
        self.part = _Part()

    def header_end(self) -> None:
        self.part.headers[bytes(self.header[0]).lower()] = bytes(self.header[1])
        self.header = [bytearray(), bytearray()]

    def headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self.part.filename = filename.decode("utf-8", "replace") if filename is not None else None

    def is_file(self) -> bool:
        return self.part.filename is not None and self.part.name == self.file_field

    def data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.is_file():
            self.form.size += len(chunk)
            room = self.limit + 1 - len(self.file)
            self.file.extend(chunk[: max(room, 0)])
        elif len(self.part.buffer) < FIELD_LIMIT:
            self.part.buffer.extend(chunk[: FIELD_LIMIT - len(self.part.buffer)])

    def end(self) -> None:
        if self.is_file():
            declared = self.part.headers.get(b"content-type", b"application/octet-stream")
            self.form.filename = self.part.filename
            self.form.content_type = declared.decode("latin-1")
        elif self.part.name and self.part.filename is None:
            self.form.fields[self.part.name] = self.part.buffer.decode("utf-8", "replace")


async def read_upload(
    content_type: str, body: AsyncIterator[bytes], *, limit: int, file_field: str = "file"
) -> UploadForm:
    """The form of one upload, the file held in memory up to `limit` + 1 bytes."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise NotAnUpload("the upload form is sent as multipart/form-data")
    collector = _Collector(file_field, limit)
    parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    async for chunk in body:
        parser.write(chunk)
    parser.finalize()
    collector.form.data = bytes(collector.file)
    return collector.form
