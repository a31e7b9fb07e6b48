"""Neighbourhood heads in bulk: a CSV of people becomes accounts at once, or, with a bad row, none."""

from __future__ import annotations

import csv
import io
import json

import httpx

from tests.conftest import demo_hub_yaml

AREA = "jawa-tengah/semarang/krapyak/rw04/rt03"
HUB = demo_hub_yaml().replace("    name: demo\n", f"    name: demo\n    area: {AREA}\n") + (
    "areas:\n  - {path: jawa-tengah/semarang, name: Kota Semarang}\n"
    f"  - {{path: {AREA}, name: RT 03 RW 04 Krapyak}}\n")


def test_an_imported_rt_head_sees_and_plays_back_their_rt_and_a_bad_file_makes_nobody(hub_factory, tmp_path) -> None:  # noqa: ANN001
    hub = hub_factory(HUB)
    people = tmp_path / "rt.csv"
    people.write_text("\ufeffusername,name,role,area,phone\n"  # as a spreadsheet saves it
                      f"rt03.krapyak,Pak Slamet,area_head,{AREA},+62 812 3456 7890\n"
                      "rt04.krapyak,Bu Sri,area_head,jawa-tengah/semarang/krapyak/rw04/rt04,\n"
                      "fkdm.krapyak,Mas Joko,watch,jawa-tengah/semarang/krapyak,\n", encoding="utf-8")
    args = ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]
    made = hub.pantau("users", "import", str(people), *args)
    assert "3 new users" in made.stderr and "0 updated" in made.stderr
    passwords = {r["username"]: r["password"] for r in csv.DictReader(io.StringIO(made.stdout))}
    assert sorted(passwords) == ["fkdm.krapyak", "rt03.krapyak", "rt04.krapyak"]
    hub.tokens.extend(passwords.values())  # the suite's leak check reads the hub's log for them

    def signed_in(username: str) -> httpx.Client:
        web = httpx.Client(base_url=hub.url, timeout=30)
        answer = web.post("/api/v1/session", json={"username": username, "password": passwords[username]})
        assert answer.status_code == 200, answer.text
        web.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        return web

    head, neighbour, watch = (signed_in(name) for name in ("rt03.krapyak", "rt04.krapyak", "fkdm.krapyak"))
    try:
        cams = [c["id"] for c in head.get("/api/v1/cameras").json()]
        assert len(cams) == 2, "both demo cameras stand in RT 03"
        assert head.get(f"/api/v1/cameras/{cams[0]}/recordings").status_code == 200
        assert neighbour.get("/api/v1/cameras").json() == [], "RT 04's head sees nothing of RT 03"
        assert [c["id"] for c in watch.get("/api/v1/cameras").json()] == cams
        assert watch.post(f"/api/v1/cameras/{cams[0]}/live").status_code == 201
        assert watch.get(f"/api/v1/cameras/{cams[0]}/recordings").status_code == 403, "watch: live only"
    finally:
        for web in (head, neighbour, watch):
            web.close()

    people.write_text("username,name,role,area,phone\n"
                      f"rt03.krapyak,Pak Slamet Riyadi,area_head,{AREA},\n", encoding="utf-8")
    again = hub.pantau("users", "import", str(people), *args)
    assert "0 new users" in again.stderr and "1 updated" in again.stderr and again.stdout == ""
    listed = {u["username"]: u for u in json.loads(hub.pantau("user", "list", "--json", *args).stdout)}
    assert listed["rt03.krapyak"]["name"] == "Pak Slamet Riyadi"

    bad = tmp_path / "bad.csv"
    bad.write_text("username,name,role,area,phone\n"
                   "rt05.krapyak,Pak Budi,area_head,jawa-tengah/semarang/krapyak/rw04/rt05,\n"
                   "RT 06,Pak Eko,area_head,jawa-tengah/semarang/krapyak/rw04/rt06,\n"
                   "rt07.krapyak,Bu Ani,lurah,jawa-tengah/semarang/krapyak,\n"
                   "rt05.krapyak,Pak Budi lagi,watch,,0812-not\n", encoding="utf-8")
    refused = hub.pantau("users", "import", str(bad), *args, check=False)
    assert refused.returncode == 2 and refused.stdout == ""
    for line, column in ((3, "username"), (4, "role"), (5, "username"), (5, "area"), (5, "phone")):
        assert f"{bad}:{line}: {column}: " in refused.stderr, (line, column, refused.stderr)
    assert "rt05.krapyak" not in {u["username"] for u in json.loads(hub.pantau("user", "list", "--json", *args).stdout)}
