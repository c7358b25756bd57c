"""read_object: an Object Store file's content in one call, through the download job and its link."""

from __future__ import annotations

import base64
import io
import sqlite3
import zipfile

import pytest
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.qc.errors import InvalidResponseError
from qcmcp.server import build_server
from qcmcp.workflows.objects import _member
from tests.test_sandbox import Session

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")


@pytest.fixture
async def sandbox(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "state.sqlite3"))
    async with Client(build_server(settings)) as client:
        yield Session(client), tmp_path / "state.sqlite3"


async def read(session: Session, **arguments) -> dict:
    result = await session.client.call_tool("read_object", arguments, raise_on_error=False)
    assert not result.is_error and result.content[0].text.startswith("[sandbox]"), result.content[0].text
    return result.structured_content


async def test_text_comes_back_as_text_and_png_as_an_image(sandbox):
    session, db = sandbox
    await session.ok("upload_object", key="params/sma.json", objectData='{"fast": 10, "slow": 30}')
    read_back = await read(session, key="params/sma.json")
    assert read_back["content"] == '{"fast": 10, "slow": 30}' and read_back["encoding"] == "text"
    assert read_back["size"] == 24 and read_back["mime"] == "application/json"
    long_text = "line of text\n" * 100
    await session.ok("upload_object", key="notes/long.txt", objectData=long_text)
    properties = (await session.ok("read_object_properties", key="notes/long.txt"))["metadata"]
    assert long_text.startswith(properties["preview"]) and len(properties["preview"]) < len(long_text)
    assert f"of {len(long_text)} bytes" in properties["previewNote"]
    assert "previewNote" not in (await session.ok("read_object_properties", key="params/sma.json"))["metadata"]
    assert (await read(session, key="notes/long.txt"))["content"] == long_text
    # Binary content (as a backtest would store it): PNG as image content, other bytes as base64.
    org = (await session.ok("read_account"))["organizationId"]
    with sqlite3.connect(db) as raw:
        raw.execute("INSERT INTO objects VALUES (?, 'plots/equity.png', ?, 'image/png', 'c', 'm')", (org, PNG))
        raw.execute("INSERT INTO objects VALUES (?, 'model.bin', ?, 'application/octet-stream', 'c', 'm')",
                    (org, bytes(range(256))))
    picture = await session.client.call_tool("read_object", {"key": "plots/equity.png"})
    assert picture.content[1].type == "image" and base64.b64decode(picture.content[1].data) == PNG
    assert picture.structured_content["encoding"] == "image" and "content" not in picture.structured_content
    blob = await read(session, key="model.bin")
    assert blob["encoding"] == "base64" and base64.b64decode(blob["content"]) == bytes(range(256))
    assert "256 bytes of binary content" in blob["note"]
    await session.fails("read_object", "No Object Store file has the key 'missing'", key="missing")
    await session.fails("read_object", "Unknown parameter", key="x", extra=1)


def test_the_zip_is_read_within_its_bound():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.txt", b"0" * 5_000_000)  # a few KB compressed, 5 MB unpacked
    with pytest.raises(InvalidResponseError, match="unpacks to more than 1000 bytes"):
        _member(buffer.getvalue(), "big.txt", 1000)
    two = io.BytesIO()
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.txt", b"a")
        archive.writestr("b.txt", b"b")
    with pytest.raises(InvalidResponseError, match="does not contain 'other'"):
        _member(two.getvalue(), "other", 100)
    assert _member(two.getvalue(), "/b.txt", 100) == b"b"
    assert _member(b"raw bytes", "k", 100) == b"raw bytes"  # a download that is the file itself
    with pytest.raises(InvalidResponseError, match="not a readable zip"):
        _member(b"PK\x03\x04 but nothing else", "k", 100)


async def test_download_links_get_no_credentials_and_only_https_elsewhere():
    import httpx

    from qcmcp.qc.client import Credentials, QuantConnectClient

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"x" * 50)

    client = QuantConnectClient(Credentials("1", "secret-token"), base_url="https://www.quantconnect.com/api/v2",
                                transport=httpx.MockTransport(answer))
    assert await client.download("https://storage.example/job.zip?sig=1", max_bytes=100) == b"x" * 50
    assert "authorization" not in seen[0].headers and "timestamp" not in seen[0].headers
    assert "secret-token" not in str(seen[0].headers)
    with pytest.raises(InvalidResponseError, match="not https"):
        await client.download("http://storage.example/job.zip", max_bytes=100)
    with pytest.raises(InvalidResponseError, match="larger than 10 bytes"):
        await client.download("https://storage.example/job.zip", max_bytes=10)
    await client.aclose()
