"""Logs are structured and never carry a secret."""

from __future__ import annotations

import json
import logging

from hub.logs import JsonFormatter, Redactor, redactor


def test_credentials_in_urls_tokens_and_known_secrets_are_removed() -> None:
    r = Redactor()
    r.add("hunter2-secret")
    text = r("open rtsp://admin:Pa55@10.1.2.3:554/Streaming/101 with hunter2-secret and "
             "Authorization: Bearer pt_0123456789abcdef_SECRETSECRET token pt_0123456789abcdef_abcXYZ")
    assert "Pa55" not in text and "admin:" not in text and "hunter2" not in text and "SECRETSECRET" not in text
    assert "rtsp://***@10.1.2.3:554/Streaming/101" in text
    assert "pt_0123456789abcdef_***" in text


def test_json_lines_carry_extra_fields_redacted() -> None:
    redactor.add("tower-pw-77")
    record = logging.LogRecord("pantau.x", logging.WARNING, __file__, 1, "stream failed for %s", ("cam1",), None)
    record.url = "rtsp://u:tower-pw-77@host/1"
    line = JsonFormatter().format(record)
    data = json.loads(line)
    assert data["level"] == "warning" and data["message"] == "stream failed for cam1"
    assert data["url"] == "rtsp://***@host/1"
    assert "tower-pw-77" not in line
