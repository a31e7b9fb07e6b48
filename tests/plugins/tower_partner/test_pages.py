"""The partner's own page in a real browser, as the shop owner uses it on a phone: in Indonesian, the
agreement and its history, its cameras with their latest picture, who watched them, a device
refused with the reason in the reader's language, and "stop sharing now" pressed, in the audit log
with who pressed it; the same page in English; no serious accessibility problem."""

from __future__ import annotations

from typing import Any

from tests.conftest import demo_hub_yaml
from tests.test_browser import AXE, add_user, browser, narrow_page, shot, sign_in

__all__ = ["browser"]  # the fixture, used by name


def test_a_shop_owner_reads_their_partnership_and_stops_sharing_a_camera(hub_factory, browser: Any) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml().replace('tags: ["classroom:7A"]', 'tags: ["partner:toko-sinar"], '
                                               'location: {lat: -6.99, lon: 110.42}'))
    args = ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]
    hub.pantau("partner", "add", "toko-sinar", "--name", "Toko Sinar Jaya", "--kind", "shop", *args)
    hub.pantau("partner", "agreement", "toko-sinar", "--document", "PKS 7/DISKOMINFO/2026", "--controller",
               "Pemerintah Kota Semarang", "--processor", "Toko Sinar Jaya", "--retention-days", "14", *args)
    add_user(hub, "pemilik.toko", "--role", "partner_owner", "--scope", "tag:partner:toko-sinar")
    with hub.client() as admin:
        shop = next(c["id"] for c in admin.get("/api/v1/cameras").json() if "partner:toko-sinar" in c["tags"])
        assert admin.post(f"/api/v1/cameras/{shop}/live").status_code == 403, "no agreement in force: no picture"

    page = narrow_page(browser)
    sign_in(page, hub, "pemilik.toko")
    page.click("nav >> text=Kemitraan saya")
    page.wait_for_url(hub.url + "/mitra/toko-sinar")
    assert page.inner_text("h1") == "Toko Sinar Jaya"
    assert page.inner_text("#agreement-state") == "draf"
    assert "Rekaman disimpan paling lama 14 hari" in page.inner_text("main")
    camera = page.locator(f"[data-camera='{shop}']")
    assert camera.locator("img").evaluate("img => img.complete && img.naturalWidth > 0"), "its latest picture"
    watched = page.inner_text("#watched")
    assert "menonton langsung (ditolak)" in watched and "token:" in watched, "the city's refused look is there"

    page.select_option("#device-type", "hikvision")
    page.fill("#device-host", "127.0.0.1")
    page.fill("#device-password", "Sandi-NVR-Toko-9")
    page.click("#submit-device button")
    page.wait_for_selector("#device-problem:not([hidden])")
    assert page.inner_text("#device-problem").startswith("Hub tidak menyambung ke alamat itu"), \
        "the refusal in the reader's language"
    shot(page, "partner")

    camera.locator("button.share").click()
    page.wait_for_selector(f"[data-camera='{shop}'] .closed")
    assert "Tidak dibagikan sejak" in camera.inner_text() and "pemilik.toko" in camera.inner_text()
    with hub.client() as admin:
        pressed = admin.get("/api/v1/audit", params={"action": "stop_sharing"}).json()
        assert pressed and pressed[0]["camera_id"] == shop and pressed[0]["principal"].endswith("pemilik.toko")
    page.reload()
    devices = page.inner_text("#devices")
    assert "ditolak" in devices and "Hub tidak menyambung ke alamat itu" in devices, "kept, with the reason"

    registered = hub.pantau("partner", "register", "toko-sinar", "--name", "Toko Sinar, menghadap Jl. Pemuda",
                            "--at", "-6.9810,110.4120", "--direction", "90", "--contact", "Bu Sari <0812-1111-2222>",
                            "--note", "rekaman disimpan 7 hari", "--url", hub.url, *args).stdout.strip()
    assert registered == "partner:toko-sinar:1"
    page.reload()
    assert "Toko Sinar, menghadap Jl. Pemuda" in page.inner_text("main"), "registered without video, on its page"
    with hub.client() as police:
        filed = police.post("/api/v1/evidence", json={
            "ask_owners": [registered], "start": "2026-11-30T21:00:00+07:00", "end": "2026-11-30T21:30:00+07:00",
            "institution": "Polrestabes Semarang", "officer": "Bripka Andi, NRP 123", "letter_number": "B/77/XI",
            "letter_date": "2026-11-30", "case_reference": "LP/123/XI/2026", "legal_basis": "KUHAP Pasal 7",
            "reason": "pencurian di depan toko"})
        assert filed.status_code == 201, filed.text
        [asked] = police.get(f"/api/v1/evidence/{filed.json()['id']}").json()["ask_owners"]
        assert (asked["owner"], asked["contact"]["phone"]) == ("Toko Sinar Jaya", "0812-1111-2222"), \
            "the request says whom to ask for footage the hub does not hold"

    page.goto(hub.url + "/mitra/toko-sinar?lang=en")
    assert page.inner_text("#agreement-state") == "draft" and "Share again" in page.inner_text("main")
    assert "Recordings kept at most 14 days" in page.inner_text("main")
    assert page.goto(hub.url + "/mitra/menara-lain").status == 404, "not another partner's page"

    axe = page.context.browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True,
                                           storage_state=page.context.storage_state())
    checked = axe.new_page()
    checked.goto(hub.url + "/mitra/toko-sinar")
    checked.add_script_tag(path=str(AXE))
    found = checked.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                             ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id)")
    assert found == [], found
    axe.close()
