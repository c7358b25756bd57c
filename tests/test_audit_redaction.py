"""Brokerage credentials are masked by structure: whatever their shape, only the brokerage's id reaches the log."""

from __future__ import annotations

import json

import pytest

from qcmcp.security.audit import AuditLog, redact

IB = "InteractiveBrokersBrokerage"


def test_a_nested_brokerage_block_keeps_only_its_id():
    brokerage = {"id": IB, "environment": "live", "ib-account": "U123",
                 "extra": {"id": "inner-id-SECRET", "login": "nested-login-SECRET", "port": 4002,
                           "deeper": {"pin": 1234, "flags": [True, None, "flag-SECRET"]}}}
    assert redact({"brokerage": brokerage}, []) == {"brokerage": {
        "id": IB, "environment": "***", "ib-account": "***",
        "extra": {"id": "***", "login": "***", "port": "***", "deeper": {"pin": "***", "flags": ["***"] * 3}}}}


@pytest.mark.parametrize(("brokerage", "masked"), [
    (json.dumps({"id": "X", "password": "string-SECRET"}), "***"),  # a block given as JSON text
    ("plain-string-SECRET", "***"),
    (123456, "***"),
    (True, "***"),
    (None, "***"),
    ([{"id": "X", "login": "list-SECRET"}, "s", 7], [{"id": "***", "login": "***"}, "***", "***"]),
])
def test_a_brokerage_of_any_type_is_masked(brokerage, masked):
    assert redact({"brokerage": brokerage, "projectId": 1}, []) == {"brokerage": masked, "projectId": 1}


def test_data_providers_keep_each_providers_name_and_id():
    providers = {"QuantConnectBrokerage": {"id": "QuantConnectBrokerage"},
                 "TradierBrokerage": {"id": "TradierBrokerage", "tradier-account-id": "acct-SECRET",
                                      "nested": {"login": "dp-SECRET"}},
                 "PolygonBrokerage": "polygon-string-SECRET"}
    assert redact({"dataProviders": providers}, []) == {"dataProviders": {
        "QuantConnectBrokerage": {"id": "QuantConnectBrokerage"},
        "TradierBrokerage": {"id": "TradierBrokerage", "tradier-account-id": "***", "nested": {"login": "***"}},
        "PolygonBrokerage": "***"}}
    as_list = redact({"dataProviders": [{"id": "TradierBrokerage", "key": "k-SECRET"}, "x"]}, [])
    assert as_list == {"dataProviders": [{"id": "TradierBrokerage", "key": "***"}, "***"]}
    assert redact({"dataProviders": "{\"id\": \"X\", \"login\": \"s\"}"}, []) == {"dataProviders": "***"}


def test_any_key_ending_in_brokerage_is_a_credential_block_and_other_rules_still_hold():
    masked = redact({"TradierBrokerage": {"id": "TradierBrokerage", "account": {"number": 42}},
                     "settings": {"api-key": {"nested": "k"}, "name": "ok with known-SECRET inside"},
                     "objectData": "x" * 9}, ["known-SECRET"])
    assert masked == {"TradierBrokerage": {"id": "TradierBrokerage", "account": {"number": "***"}},
                      "settings": {"api-key": "***", "name": "ok with *** inside"}, "objectData": "<9 characters>"}
    # the brokerage id is kept, but a configured secret inside it is still replaced
    assert redact({"brokerage": {"id": "id-with-known-SECRET"}}, ["known-SECRET"]) == {"brokerage": {"id": "id-with-***"}}


def test_no_brokerage_secret_reaches_the_database_files(tmp_path):
    path = tmp_path / "audit.sqlite3"
    calls = [
        {"brokerage": {"id": IB, "ib-account": "U-ACCOUNT-SECRET-1",
                       "extra": {"login": "NESTED-LOGIN-SECRET-2", "pin": 987654321}}},
        {"brokerage": json.dumps({"id": "X", "password": "JSON-PASSWORD-SECRET-3"})},
        {"brokerage": "PLAIN-STRING-SECRET-4"},
        {"brokerage": [{"login": "LIST-LOGIN-SECRET-5"}, 123454321]},
        {"dataProviders": {"TradierBrokerage": {"id": "TradierBrokerage", "account": "PROVIDER-SECRET-6"}}},
    ]
    audit = AuditLog(path)
    for i, arguments in enumerate(calls):
        audit.append(request_id=str(i), subject="s", tenant="t", tool="create_live_algorithm",
                     arguments={"projectId": 1, **arguments}, outcome="ok", error="", latency_ms=1.0, secrets=[])
    files = [path, path.with_name(path.name + "-wal")]
    assert files[1].exists() and files[1].stat().st_size > 0  # WAL mode: the rows are (also) in the -wal file
    on_disk = b"".join(f.read_bytes() for f in files if f.exists())
    for secret in (b"U-ACCOUNT-SECRET-1", b"NESTED-LOGIN-SECRET-2", b"987654321", b"JSON-PASSWORD-SECRET-3",
                   b"PLAIN-STRING-SECRET-4", b"LIST-LOGIN-SECRET-5", b"123454321", b"PROVIDER-SECRET-6"):
        assert secret not in on_disk, secret
    assert IB.encode() in on_disk and b"TradierBrokerage" in on_disk
    assert audit.verify().ok
    audit.close()
    assert AuditLog(path).verify().ok
