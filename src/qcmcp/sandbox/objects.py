"""Sandbox endpoints for the Object Store: real bytes under keys, per organization."""

from __future__ import annotations

import hashlib
import io
import mimetypes
import uuid
import zipfile
from typing import Any

from qcmcp.sandbox.api import Context, check_organization, route
from qcmcp.sandbox.errors import SandboxError
from qcmcp.sandbox.limits import (MAX_DOWNLOAD_BYTES, MAX_OBJECT_BYTES, MAX_OBJECT_STORE_BYTES, check_name_length,
                                  shorten)
from qcmcp.sandbox.store import SandboxStore, now

PREVIEW_CHARS = 100


def _key(key: str) -> str:
    key = key.strip().strip("/")
    check_name_length("The Object Store key", key)
    if not key or any(part in ("", ".", "..") for part in key.split("/")):
        raise SandboxError(f"Invalid Object Store key {key!r}: use a path such as 'models/weights.json'.")
    return key


def _object(ctx: Context, key: str) -> Any:
    row = ctx.store.one("SELECT * FROM objects WHERE org_id = ? AND key = ?", ctx.org_id, key)
    if row is None:
        if _under(ctx, key):
            raise SandboxError(f"'{key}' is a folder in the Object Store; pass the key of a file inside it.")
        raise SandboxError(f"No Object Store file has the key '{key}'. Use list_object_store_files to see the keys.")
    return row


def _under(ctx: Context, folder: str) -> list[str]:
    """The keys inside a folder (compared as text: a LIKE pattern would treat _ and % in keys as wildcards)."""
    prefix = f"{folder}/"
    return [row["key"] for row in ctx.store.query(
        "SELECT key FROM objects WHERE org_id = ? AND substr(key, 1, ?) = ?", ctx.org_id, len(prefix), prefix)]


# Leading bytes of common binary formats; anything else that is valid UTF-8 without control bytes is text.
MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"),
         (b"%PDF-", "application/pdf"), (b"PK\x03\x04", "application/zip"), (b"\x1f\x8b", "application/gzip"))
TEXT_CONTROLS = set(range(32)) - {9, 10, 12, 13}


def content_type(key: str, data: bytes) -> str:
    """The type the cloud reports: from the key's extension, else from the content (text/plain for text)."""
    guessed = mimetypes.guess_type(key)[0]
    if guessed:
        return guessed
    for magic, mime in MAGIC:
        if data.startswith(magic):
            return mime
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "application/octet-stream" if TEXT_CONTROLS.intersection(data[:4096]) else "text/plain"


@route("/object/set", "ObjectStoreBinaryFile", multipart=True)
def set_object(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    check_organization(ctx, body["organizationId"])
    key, data = _key(body["key"]), body["objectData"]
    if len(data) > MAX_OBJECT_BYTES:
        raise SandboxError(f"The object is {len(data)} bytes; the sandbox stores at most {MAX_OBJECT_BYTES} per key.")
    others = ctx.store.one("SELECT COALESCE(SUM(length(data)), 0) AS used FROM objects WHERE org_id = ? AND key != ?",
                           ctx.org_id, key)["used"]
    if others + len(data) > MAX_OBJECT_STORE_BYTES:
        raise SandboxError(f"The Object Store would hold {others + len(data)} bytes; a sandbox organization holds at "
                           f"most {MAX_OBJECT_STORE_BYTES}. Delete files you no longer need.")
    mime = content_type(key, data)
    stamp = now()
    with ctx.store.transaction() as db:
        db.execute("INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, key) DO UPDATE SET "
                   "data = excluded.data, mime = excluded.mime, modified = excluded.modified",
                   (ctx.org_id, key, data, mime, stamp, stamp))
    return {}


@route("/object/properties", "GetObjectStorePropertiesRequest")
def object_properties(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    check_organization(ctx, body["organizationId"])
    row = _object(ctx, _key(body["key"]))
    data: bytes = row["data"]
    return {"metadata": {"key": row["key"], "modified": row["modified"], "created": row["created"], "size": len(data),
                         "md5": hashlib.md5(data).hexdigest(), "mime": row["mime"],  # noqa: S324 (content hash, as the cloud)
                         "preview": data[:PREVIEW_CHARS].decode("utf-8", errors="replace")}}


@route("/object/get")
def get_object(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    from qcmcp.sandbox.api import validate

    if "jobId" in body:
        validate("GetObjectStoreURLRequest", body)
        check_organization(ctx, body["organizationId"])
        if not ctx.store.one("SELECT 1 FROM object_jobs WHERE job_id = ? AND org_id = ?", body["jobId"], ctx.org_id):
            raise SandboxError(f"Download job {shorten(body['jobId'])} not found. Start one with "
                               "read_object_store_file_job_id.")
        return {"jobId": body["jobId"], "url": f"{ctx.base_url}/object/download/{body['jobId']}"}
    validate("GetObjectStoreJobIdRequest", body)
    check_organization(ctx, body["organizationId"])
    keys, size = [], 0
    for key in dict.fromkeys(_key(key) for key in body["keys"]):
        row = ctx.store.one("SELECT length(data) AS size FROM objects WHERE org_id = ? AND key = ?", ctx.org_id, key)
        if row is None:
            _object(ctx, key)  # explains why: a folder, or no such key
        keys.append(key)
        size += row["size"]
    if not keys:
        raise SandboxError("Pass at least one key to download.")
    if size > MAX_DOWNLOAD_BYTES:
        raise SandboxError(f"Those files hold {size} bytes; one download takes at most {MAX_DOWNLOAD_BYTES}. "
                           "Download them in smaller groups.")
    job_id = uuid.uuid4().hex
    with ctx.store.transaction() as db:
        db.execute("INSERT INTO object_jobs VALUES (?, ?, ?, ?)", (job_id, ctx.org_id, ctx.store.dumps(keys), now()))
    return {"jobId": job_id}


@route("/object/list", "ListObjectStoreRequest")
def list_objects(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    check_organization(ctx, body["organizationId"])
    folder = (body.get("path") or "/").strip().strip("/")
    prefix = f"{folder}/" if folder else ""
    rows = ctx.store.query("SELECT key, length(data) AS size, mime, modified FROM objects WHERE org_id = ? ORDER BY key",
                           ctx.org_id)
    children: dict[str, dict[str, Any]] = {}
    for row in rows:
        if not row["key"].startswith(prefix):
            continue
        head, _, rest = row["key"][len(prefix):].partition("/")
        if rest:
            entry = children.setdefault(head, {"key": prefix + head, "name": head, "mime": "directory", "folder": True,
                                               "size": 0, "modified": row["modified"]})
            entry["size"] += row["size"]
            entry["modified"] = max(entry["modified"], row["modified"])
        else:
            children[head] = {"key": row["key"], "name": head, "mime": row["mime"], "folder": False,
                              "size": row["size"], "modified": row["modified"]}
    if folder and not children:
        raise SandboxError(f"The Object Store has nothing under '{folder}'.")
    used = sum(row["size"] for row in rows)
    return {"path": folder or "/", "objects": list(children.values()), "page": 1, "totalPages": 1,
            "objectStorageUsed": used, "objectStorageUsedHuman": f"{used / 1024:.2f} KB"}


@route("/object/delete", "DeleteObjectStoreRequest")
def delete_object(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    check_organization(ctx, body["organizationId"])
    key = _key(body["key"])
    inside = _under(ctx, key)
    if not inside:
        key = _object(ctx, key)["key"]  # explains a missing key
    with ctx.store.transaction() as db:  # a folder goes with everything in it, as in the cloud
        db.executemany("DELETE FROM objects WHERE org_id = ? AND key = ?", [(ctx.org_id, k) for k in [key, *inside]])
    return {}


def download_zip(store: SandboxStore, job_id: str) -> bytes | None:
    """The zip a download URL serves (the job id is the unguessable capability)."""
    job = store.one("SELECT * FROM object_jobs WHERE job_id = ?", job_id)
    if job is None:
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for key in store.loads(job["keys"]):
            row = store.one("SELECT data FROM objects WHERE org_id = ? AND key = ?", job["org_id"], key)
            if row is not None:
                archive.writestr(key, row["data"])
    return buffer.getvalue()
