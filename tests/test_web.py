"""The pages speak Bahasa Indonesia first and English as well: every string shown has an Indonesian
translation, the language follows the switch, the user and the browser, and every page is sent
with a strict Content-Security-Policy."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from hub.web import i18n
from tests.conftest import demo_hub_yaml

TEMPLATES = Path(i18n.__file__).parent / "templates"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def shown_strings() -> set[str]:
    """Every string the templates show, as gettext sees them."""
    found = set()
    for template in TEMPLATES.glob("*.html"):
        with template.open("rb") as source:
            for _line, _func, message, _comments in babel_extract(source, ("_", "gettext", "ngettext"), [],
                                                                  {"extensions": "jinja2.ext.i18n"}):
                found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_string_shown_has_an_indonesian_translation() -> None:
    shown = shown_strings()
    assert len(shown) > 20
    for lang in i18n.LOCALES:
        with i18n.catalog_path(lang).open("rb") as po:
            catalog = read_po(po)
        missing = sorted(m for m in shown if m not in catalog)
        assert not missing, f"{lang}: not in the catalog: {missing}"
        if lang == "id":
            untranslated = sorted(m for m in shown if not catalog[m].string)
            assert not untranslated, f"no Indonesian for: {untranslated}"
            for message in shown:
                assert set(PLACEHOLDER.findall(message)) == set(PLACEHOLDER.findall(catalog[message].string)), \
                    f"the translation of {message!r} names other placeholders"


def test_the_language_follows_the_switch_the_browser_and_the_default(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    with httpx.Client(base_url=hub.url, timeout=30) as web:
        plain = web.get("/")
        assert plain.status_code == 200 and '<html lang="id">' in plain.text and "Kamera publik" in plain.text
        english = web.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,id;q=0.5"})
        assert '<html lang="en">' in english.text and "Public cameras" in english.text
        switched = web.get("/", params={"lang": "en"}, headers={"Accept-Language": "id"})
        assert "Public cameras" in switched.text and switched.cookies.get("lang") == "en"
        assert "Public cameras" in web.get("/").text, "the switch is remembered"
        policy = plain.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("style-src")[0]
        assert "frame-ancestors 'none'" in policy and plain.headers["referrer-policy"] == "same-origin"
        assert plain.headers["x-content-type-options"] == "nosniff"
        assert web.get("/saya", follow_redirects=False).headers["location"] == "/masuk"
        assert web.get("/static/../hub.yaml").status_code == 404
