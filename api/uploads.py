"""Receiving a `POST /validate` upload: streamed to a temporary folder within the upload limits.

FastAPI's `UploadFile` parameters read the whole multipart body before the route runs, with no
bound on its size or on the number of files. An upload is public input, so this module parses
the body itself as it arrives (python-multipart's streaming parser) and writes each file
straight to disk, counting as it goes: the request's declared length, the bytes actually
received, the number of files and the bytes of each file are all checked before the next chunk
is accepted (UploadLimits in api/config.py). Nothing of an upload is ever held whole in memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import anyio
from fastapi import Request
from khadamat.api.config import UploadLimits
from khadamat.api.respond import ApiError
from python_multipart.multipart import MultipartParser, parse_options_header

FIELD = "files"
SUFFIXES = frozenset(
    {".xlsx", ".csv", ".ttl", ".nt", ".nq", ".trig", ".rdf", ".owl", ".jsonld", ".xml", ".n3"}
)
_MAX_NAME_CHARS = 200
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f]")

# The OpenAPI description of the body, which the route declares by hand since it parses it itself.
REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [FIELD],
                "properties": {
                    FIELD: {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": "an .xlsx workbook, .csv sheets (agencies.csv, services.csv …) "
                        "or RDF files",
                    }
                },
            }
        }
    },
}


def _mib(size: int) -> str:
    return f"{size / 2**20:g} MiB"


@dataclass
class SavedUpload:
    """An upload on disk as the loader reads it: the .csv sheets together in one folder, others as files."""

    folder: Path
    names: list[str] = field(default_factory=list)  # the files' names as sent, in order

    @property
    def paths(self) -> list[Path]:
        """What build_submission reads: the folder of .csv sheets first, then every other file."""
        csv_folder = self.folder / "csv"
        others = [self.folder / n for n in self.names if not n.lower().endswith(".csv")]
        return ([csv_folder] if csv_folder.is_dir() else []) + others


def file_name(raw: bytes | None) -> str:
    """The base name of an uploaded file, or an input error saying why it cannot be used."""
    try:
        text = (raw or b"").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(422, "a file name is not UTF-8", "نام یک پرونده UTF-8 نیست") from exc
    name = text.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name in {".", ".."} or _BAD_NAME.search(name) or len(name) > _MAX_NAME_CHARS:
        raise ApiError(
            422,
            f"each file needs a name of 1 to {_MAX_NAME_CHARS} printable characters",
            "هر پرونده نامی چاپ‌پذیر می‌خواهد",
        )
    if Path(name).suffix.lower() not in SUFFIXES:
        raise ApiError(
            415,
            f"'{name}' is not a workbook (.xlsx), a .csv sheet or an RDF file",
            f"«{name}» کاربرگ xlsx، برگهٔ csv یا پروندهٔ RDF نیست",
        )
    return name


class _Receiver:
    """python-multipart callbacks that write each file part to the folder, within the limits."""

    def __init__(self, saved: SavedUpload, limits: UploadLimits) -> None:
        self.saved = saved
        self.limits = limits
        self._header_field = b""
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._size = 0
        self._out: IO[bytes] | None = None
        self.ended = False  # the closing boundary was seen

    def on_end(self) -> None:
        self.ended = True

    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        key = self._header_field.lower()
        self._headers[key] = self._headers.get(key, b"") + data[start:end]

    def on_header_end(self) -> None:
        self._header_field = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name") != FIELD.encode() or b"filename" not in options:
            raise ApiError(
                422,
                f"the upload holds a part that is not a file of the field '{FIELD}'",
                f"بارگذاری بخشی دارد که پرونده‌ای از فیلد «{FIELD}» نیست",
            )
        if len(self.saved.names) >= self.limits.max_files:
            raise ApiError(
                413,
                f"the upload holds more than {self.limits.max_files} files",
                f"بارگذاری بیش از {self.limits.max_files} پرونده دارد",
            )
        name = file_name(options[b"filename"])
        if name in self.saved.names:
            raise ApiError(422, f"two files are named '{name}'", f"دو پرونده «{name}» نام دارند")
        target = (
            self.saved.folder / "csv" / name if name.lower().endswith(".csv") else self.saved.folder / name
        )
        target.parent.mkdir(exist_ok=True)
        self.saved.names.append(name)
        self._name, self._size = name, 0
        self._out = target.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if self._size > self.limits.max_file_bytes:
            raise ApiError(
                413,
                f"'{self._name}' is larger than {_mib(self.limits.max_file_bytes)}",
                f"«{self._name}» بزرگ‌تر از {_mib(self.limits.max_file_bytes)} است",
            )
        assert self._out is not None
        self._out.write(data[start:end])

    def on_part_end(self) -> None:
        self.close()

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


def _boundary(request: Request) -> bytes:
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise ApiError(
            415,
            f"send the files as multipart/form-data in the field '{FIELD}'",
            f"پرونده‌ها را با multipart/form-data در فیلد «{FIELD}» بفرستید",
        )
    return boundary


def _malformed() -> ApiError:
    return ApiError(
        422, "the body is not well-formed multipart/form-data", "بدنهٔ درخواست multipart سالم نیست"
    )


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"the upload is larger than {_mib(limit)}", f"بارگذاری بزرگ‌تر از {_mib(limit)} است")


def check_declared_length(request: Request, limits: UploadLimits) -> None:
    """Refuse at once a request whose Content-Length already says it is too large."""
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise ApiError(400, "the Content-Length header is not a number", "سرایند Content-Length عدد نیست")
    if int(declared) > limits.max_request_bytes:
        raise _too_large(limits.max_request_bytes)


async def receive_upload(request: Request, folder: Path, limits: UploadLimits) -> SavedUpload:
    """Stream the multipart body into `folder`, refusing it (413, 415, 422, 408) past any limit."""
    check_declared_length(request, limits)
    boundary = _boundary(request)
    saved = SavedUpload(folder)
    receiver = _Receiver(saved, limits)
    parser = MultipartParser(boundary, _callbacks(receiver))
    received = 0
    try:
        with anyio.fail_after(limits.read_timeout):
            async for chunk in request.stream():
                received += len(chunk)
                if received > limits.max_request_bytes:
                    raise _too_large(limits.max_request_bytes)
                parser.write(chunk)
        parser.finalize()
    except TimeoutError as exc:
        raise ApiError(
            408,
            f"the upload did not arrive within {limits.read_timeout:g} s",
            f"بارگذاری در {limits.read_timeout:g} ثانیه نرسید",
        ) from exc
    except ApiError:
        raise
    except Exception as exc:  # python-multipart's own errors: a malformed body
        raise _malformed() from exc
    finally:
        receiver.close()
    if not receiver.ended:
        raise _malformed()
    if not saved.names:
        raise ApiError(
            422, f"the upload holds no file in the field '{FIELD}'", f"بارگذاری پرونده‌ای در «{FIELD}» ندارد"
        )
    return saved


def _callbacks(receiver: _Receiver) -> dict:
    return {name: getattr(receiver, name) for name in dir(receiver) if name.startswith("on_")}


class UploadGate:
    """At most `size` uploads received and validated at once per worker; the next is refused at once.

    Why refuse rather than queue: each upload holds a child process of up to the memory budget and
    a temporary folder; a queue would let a burst of uploads pile up memory, disk and open
    connections. A 503 with Retry-After tells a client to come back, and browse routes never wait.
    """

    RETRY_AFTER_SECONDS = 10

    def __init__(self, size: int) -> None:
        self.size = size
        self.busy = 0

    def enter(self) -> None:
        if self.busy >= self.size:
            raise ApiError(
                503,
                f"{self.size} uploads are being validated already; try again in a few seconds",
                "چند بارگذاری دیگر در حال اعتبارسنجی است؛ چند ثانیهٔ دیگر دوباره بفرستید",
                headers={"Retry-After": str(self.RETRY_AFTER_SECONDS)},
            )
        self.busy += 1

    def leave(self) -> None:
        self.busy -= 1


def gate_of(request: Request, limits: UploadLimits) -> UploadGate:
    """The worker's one gate (made on first use: the event loop is single-threaded, so no race)."""
    state = request.app.state
    gate = getattr(state, "upload_gate", None)
    if gate is None:
        gate = state.upload_gate = UploadGate(limits.concurrent)
    return gate
