"""Partners and their agreements on the command line: every step kept with who took it, steps out
of order refused with the reason, and the address check a device must pass."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, demo_hub_yaml


def pantau(tmp: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    config = tmp / "hub.yaml"
    if not config.exists():
        config.write_text(demo_hub_yaml())
    done = subprocess.run([sys.executable, "-m", "hub", *args, "-c", str(config), "--data-dir", str(tmp / "data")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert not check or done.returncode == 0, done.stderr
    return done


def test_an_agreement_is_written_in_draft_and_its_steps_are_checked_and_kept(tmp_path: Path) -> None:
    made = pantau(tmp_path, "partner", "add", "menara-jaya", "--name", "PT Menara Jaya", "--kind", "tower",
                  "--network", "10.20.0.0/16", "--contact", "Pak Agus <0812-3456-7890>")
    assert made.stdout.strip() == "menara-jaya"
    public = pantau(tmp_path, "partner", "add", "toko-x", "--name", "Toko X", "--kind", "shop", "--network",
                    "8.8.8.0/24", check=False)
    assert public.returncode != 0 and "only private ranges" in public.stderr
    early = pantau(tmp_path, "partner", "suspend", "menara-jaya", check=False)
    assert early.returncode != 0 and "no agreement" in early.stderr
    pantau(tmp_path, "partner", "agreement", "menara-jaya", "--document", "PKS 12/DISKOMINFO/XI/2026",
           "--controller", "Pemerintah Kota Semarang", "--processor", "PT Menara Jaya", "--until", "2027-12-31",
           "--area-heads", "live", "--hours", "mon-sun 18:00-23:59", "--retention-days", "14", "--max-sessions", "2")
    skipped = pantau(tmp_path, "partner", "suspend", "menara-jaya", check=False)
    assert skipped.returncode != 0 and "is draft: it may become submitted, terminated, not suspended" in skipped.stderr
    pantau(tmp_path, "partner", "terminate", "menara-jaya", "--note", "kontrak diputus")
    over = pantau(tmp_path, "partner", "resume", "menara-jaya", check=False)
    assert over.returncode != 0 and "no agreement in force" in over.stderr

    shown = json.loads(pantau(tmp_path, "partner", "show", "menara-jaya", "--json").stdout)
    assert shown["networks"] == ["10.20.0.0/16"] and shown["contacts"][0]["phone"] == "0812-3456-7890"
    [agreement] = shown["agreements"]
    assert agreement["state"] == "terminated" and agreement["uses"]["area_heads"] == "live"
    assert agreement["uses"]["retention_days"] == 14 and agreement["valid_until"].startswith("2028-01-01")
    steps = [(h["from_state"], h["to_state"]) for h in agreement["history"]]
    assert steps == [(None, "draft"), ("draft", "terminated")]
    assert all(h["by"].startswith("cli:") for h in agreement["history"])
    assert agreement["history"][-1]["note"] == "kontrak diputus"


def test_the_address_check_pins_the_partners_own_network_and_refuses_the_rest(tmp_path: Path) -> None:
    pantau(tmp_path, "partner", "add", "toko-sinar", "--name", "Toko Sinar", "--kind", "shop",
           "--network", "10.20.0.0/16")
    inside = pantau(tmp_path, "partner", "check", "toko-sinar", "--scheme", "rtsp", "--host", "10.20.1.5")
    assert inside.stdout.strip() == "10.20.1.5:554"
    for host, why in (("127.0.0.1", "loopback"), ("169.254.169.254", "link-local"),
                      ("192.168.0.10", "outside the networks registered")):
        refused = pantau(tmp_path, "partner", "check", "toko-sinar", "--host", host, check=False)
        assert refused.returncode == 2 and why in refused.stderr, refused.stderr
