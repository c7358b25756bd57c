"""An Object Store file's content in one call: properties, download job, link, and the bytes out of the zip.

The API hands out content only through a download job: ``/object/get`` with the keys starts it, the same endpoint
with the job id gives a link once the zip is ready, and the link serves the zip. This follows those steps, bounded
in size and time, and answers the content itself: text as text, other bytes as base64 (the tool layer turns
images into image content).
"""

from __future__ import annotations

import asyncio
import base64
import io
import zipfile
from typing import Any, Protocol

from qcmcp.qc.errors import APIError, InvalidResponseError

MAX_OBJECT_BYTES = 2 * 1024 * 1024  # what one read_object returns; larger files: use the download URL tools
LINK_ATTEMPTS, LINK_WAIT_SECONDS = 30, 1.0


class ObjectApi(Protocol):
    async def post(self, endpoint: str, payload: dict[str, Any] | None = None, *, idempotent: bool) -> dict[str, Any]: ...

    async def download(self, url: str, *, max_bytes: int) -> bytes: ...


async def read_object(api: ObjectApi, organization_id: str, key: str, *, max_bytes: int = MAX_OBJECT_BYTES,
                      wait_seconds: float = LINK_WAIT_SECONDS) -> dict[str, Any]:
    advice = (f"read_object returns at most {max_bytes}. Download it with read_object_store_file_job_id and "
              "read_object_store_file_download_url instead.")
    data, meta = await object_bytes(api, organization_id, key, max_bytes=max_bytes, wait_seconds=wait_seconds,
                                    too_large=advice)
    answer: dict[str, Any] = {"key": key, "size": len(data), "mime": meta.get("mime"), "modified": meta.get("modified")}
    try:
        answer.update(encoding="text", content=data.decode("utf-8"))
    except UnicodeDecodeError:
        answer.update(encoding="base64", content=base64.b64encode(data).decode("ascii"),
                      note=f"{len(data)} bytes of binary content, base64-encoded.")
    return answer


async def object_bytes(api: ObjectApi, organization_id: str, key: str, *, max_bytes: int,
                       wait_seconds: float = LINK_WAIT_SECONDS, too_large: str = "",
                       metadata: dict[str, Any] | None = None) -> tuple[bytes, dict[str, Any]]:
    """The object's bytes and properties (``metadata``: the properties, when the caller has just read them); an
    APIError (``too_large`` appended) before downloading more than ``max_bytes``."""
    where = {"organizationId": organization_id}
    meta = metadata if metadata is not None else (
        await api.post("/object/properties", {**where, "key": key}, idempotent=True)).get("metadata") or {}
    try:
        size = int(meta.get("size") or 0)
    except (TypeError, ValueError):
        raise InvalidResponseError("/object/properties", "the object's size is not a number") from None
    if size > max_bytes:
        raise APIError("/object/properties", [f"'{key}' holds {size} bytes; {too_large}".strip()])
    job = (await api.post("/object/get", {**where, "keys": [key]}, idempotent=True)).get("jobId")
    if not job:
        raise InvalidResponseError("/object/get", "no download job id in the answer")
    url = None
    for attempt in range(LINK_ATTEMPTS):
        url = (await api.post("/object/get", {**where, "jobId": job}, idempotent=True)).get("url")
        if url:
            break
        if attempt + 1 < LINK_ATTEMPTS:
            await asyncio.sleep(wait_seconds)
    if not url:
        raise InvalidResponseError("/object/get", f"the download of '{key}' was not ready after "
                                   f"{LINK_ATTEMPTS * wait_seconds:g} s; try again, or use the download URL tools")
    return _member(await api.download(url, max_bytes=max_bytes * 2 + 65536), key, max_bytes), meta


def _member(blob: bytes, key: str, max_bytes: int) -> bytes:
    """The key's bytes from the downloaded zip (or the download itself, if it is not a zip)."""
    if not blob.startswith(b"PK"):
        return blob
    try:
        return _unzipped(blob, key, max_bytes)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError) as error:  # damaged, encrypted, …
        raise InvalidResponseError("/object/download", f"the download is not a readable zip ({error})") from None


def _unzipped(blob: bytes, key: str, max_bytes: int) -> bytes:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        names = archive.namelist()
        wanted = next((n for n in names if n.strip("/") == key.strip("/")), names[0] if len(names) == 1 else None)
        if wanted is None:
            raise InvalidResponseError("/object/download", f"the download does not contain '{key}'")
        with archive.open(wanted) as member:  # read at most one byte past the cap: no zip bomb gets through
            data = member.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InvalidResponseError("/object/download", f"'{key}' unpacks to more than {max_bytes} bytes")
        return data
