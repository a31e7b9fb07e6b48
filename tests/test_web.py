"""The pages speak Bahasa Indonesia first and English as well: every string shown has an Indonesian
translation, the language follows the switch, the user and the browser, and every page is sent
with a strict Content-Security-Policy."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from hub.web import i18n
from tests.conftest import ROOT, demo_hub_yaml

TEMPLATES = Path(i18n.__file__).parent / "templates"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


#: The pages with catalogs of their own: the hub's, and the partner plugin's (``hub.PluginPages``).
PAGES = {"hub": Path(i18n.__file__).parent, "tower_partner": ROOT / "plugins" / "tower_partner"}


def shown_strings(folder: Path = TEMPLATES.parent) -> set[str]:
    """Every string the templates and the pages' Python show, as gettext sees them."""
    from babel.messages.extract import extract_python

    found = set()
    for module in folder.glob("*.py"):
        with module.open("rb") as source:
            for _line, _func, message, _comments in extract_python(source, ("_",), [], {}):
                found.add(message if isinstance(message, str) else message[0])
    for template in (folder / "templates").glob("*.html"):
        with template.open("rb") as source:
            for _line, _func, message, _comments in babel_extract(source, ("_", "gettext", "ngettext"), [],
                                                                  {"extensions": "jinja2.ext.i18n"}):
                found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("pages", sorted(PAGES))
def test_every_string_shown_has_an_indonesian_translation(pages: str) -> None:
    shown = shown_strings(PAGES[pages])
    assert len(shown) > 20
    for lang in i18n.LOCALES:
        path = i18n.catalog_path(lang) if pages == "hub" else PAGES[pages] / "locale" / lang / "LC_MESSAGES" / \
            "messages.po"
        with path.open("rb") as po:
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
        assert plain.status_code == 200 and '<html lang="id" ' in plain.text and "Kamera publik" in plain.text
        english = web.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,id;q=0.5"})
        assert '<html lang="en" ' in english.text and "Public cameras" in english.text
        switched = web.get("/", params={"lang": "en"}, headers={"Accept-Language": "id"})
        assert "Public cameras" in switched.text and switched.cookies.get("lang") == "en"
        assert "Public cameras" in web.get("/").text, "the switch is remembered"
        policy = plain.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("style-src")[0]
        assert "frame-ancestors 'none'" in policy and plain.headers["referrer-policy"] == "same-origin"
        assert plain.headers["x-content-type-options"] == "nosniff"
        assert web.get("/saya", follow_redirects=False).headers["location"] == "/masuk"
        assert web.get("/static/../hub.yaml").status_code == 404


async def test_a_parents_page_says_when_the_classroom_opens_and_who_watched(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from hub.app import Hub
    from hub.core.config import load_config
    from hub.core.models import Action, Role
    from hub.core.plugins import Plugins

    cfg = tmp_path / "hub.yaml"
    cfg.write_text(demo_hub_yaml(extra="http: {port: 0}\nhub: {name: SMPN 4, time_zone: Asia/Makassar}").replace(
        "hub: {name: Test Hub}\n", ""))
    plugins = Plugins()
    plugins.load()
    hub = Hub(load_config(cfg, plugins), plugins)
    await hub.start()
    now = [datetime(2026, 11, 30, 22, 30, tzinfo=UTC)]  # Monday 06:30 in Balikpapan
    hub.policy.clock = lambda: now[0]
    try:
        await hub.store.users.add_user("ortu.sari", Role.PARENT, "Sandi-Ibu-Sari-7A", "Ibu Sari")
        await hub.store.grants.add("user:ortu.sari", [Action.VIEW_LIVE], ["tag:classroom:7A"], created_by="test",
                                   hours="mon-fri 07:00-14:00", time_zone="Asia/Makassar")
        await hub.grants.refresh()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{hub.port}", timeout=30) as web:
            signed = await web.post("/api/v1/session", json={"username": "ortu.sari", "password": "Sandi-Ibu-Sari-7A"})
            assert signed.status_code == 200
            early = (await web.get("/saya")).text
            assert "Kelas 7A" in early and "Sedang tutup. Buka pukul 07.00." in early and "Tonton langsung" not in early
            assert "Gate A" not in early, "no other camera"
            now[0] = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 07:30
            seven_a = next(c for c in hub.inventory.cameras.values() if "classroom:7A" in c.tags)
            joined = await web.post(f"/api/v1/cameras/{seven_a.id}/live",
                                    headers={"X-CSRF-Token": signed.json()["csrf_token"]})
            assert joined.status_code == 201
            await hub.store.users.add_user("ortu.budi", Role.PARENT, "Sandi-Pak-Budi-7A", "Pak Budi")
            await hub.store.grants.add("user:ortu.budi", [Action.VIEW_LIVE], ["tag:classroom:7A"],
                                       created_by="test", hours="mon-fri 07:00-14:00", time_zone="Asia/Makassar")
            await hub.grants.refresh()
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{hub.port}", timeout=30) as other:
                budi = await other.post("/api/v1/session", json={"username": "ortu.budi",
                                                                 "password": "Sandi-Pak-Budi-7A"})
                assert (await other.post(f"/api/v1/cameras/{seven_a.id}/live", headers={
                    "X-CSRF-Token": budi.json()["csrf_token"]})).status_code == 201
            open_page = (await web.get("/saya")).text
            assert "Tonton langsung" in open_page and "Sedang tutup" not in open_page
            watched = open_page.split("Yang menonton belakangan ini", 1)[1]
            assert "<li>Ibu Sari, " in watched and "<li>Orang tua murid, " in watched, "another parent unnamed"
            assert "Pak Budi" not in open_page
            english = (await web.get("/saya", params={"lang": "en"})).text
            assert "Watch live" in english and "Who watched lately" in english
    finally:
        await hub.stop()
