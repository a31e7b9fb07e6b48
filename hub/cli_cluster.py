"""``pantau cluster ...``: the nodes sharing the cameras out on one PostgreSQL database.

``status`` shows each node (alive or not, its lease, capacity, draining), how
many cameras each owns, and the moves of the last hour (why: new, dead,
drain, rebalance); ``drain NODE`` moves a node's cameras to the others
before it is taken down.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from hub.commands import config_option, data_dir_option, fail_on_errors, load, with_store
from hub.core.errors import ConfigError, ConfigProblem, NotFound
from hub.store import Store


@click.group("cluster")
def cluster() -> None:
    """Several hub nodes sharing the cameras out on one PostgreSQL database."""


def _clustered(config_file: Path, data_dir: Path | None) -> None:
    if not load(config_file, data_dir).model.cluster.enabled:
        raise ConfigError([ConfigProblem(str(config_file), None, "cluster.enabled",
                                         "this hub.yaml runs one node (cluster.enabled is false)")])


@cluster.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def cluster_status(as_json: bool, config_file: Path, data_dir: Path | None) -> None:
    """The nodes, their leases, the cameras each owns, hand-overs under way, the moves of the last hour."""
    _clustered(config_file, data_dir)

    async def read(store: Store) -> dict[str, Any]:
        owners = await store.cluster.owners()
        per_node = Counter(node for node, _, _ in owners.values())
        moves = await store.cluster.moves(3600)
        handing = await store.cluster.handovers()
        coming = Counter(to for to, _ in handing.values())
        nodes = [{**{k: v for k, v in n.items() if k != "peer_key"},  # a secret of the node's run
                  "started_at": n["started_at"].isoformat(), "cameras": per_node.get(n["name"], 0),
                  "taking_over": coming.get(n["name"], 0)}
                 for n in await store.cluster.nodes()]
        return {"nodes": nodes, "cameras": len(owners),
                "handing_over": [{"camera_id": c, "to": to, "seconds": round(age, 1)}
                                 for c, (to, age) in sorted(handing.items())],
                "moves_last_hour": [{**m, "at": m["at"].isoformat()} for m in moves]}

    found = with_store(config_file, data_dir, read)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    table = Table("node", "state", "lease", "capacity", "cameras", "taking over", "address")
    for n in found["nodes"]:
        state = "draining" if n["draining"] else "alive" if n["alive"] else "dead"
        lease = f"{n['lease_left']:.1f} s left" if n["lease_left"] >= 0 else f"over {-n['lease_left']:.0f} s ago"
        table.add_row(n["name"], state, lease, f"{n['capacity']:g}", str(n["cameras"]), str(n["taking_over"] or "-"),
                      n["address"] or "-")
    console = Console()
    console.print(table)
    why = Counter(m["reason"].split(":")[0] for m in found["moves_last_hour"])
    console.print(f"{found['cameras']} cameras; moves in the last hour: {len(found['moves_last_hour'])}"
                  + (f" ({', '.join(f'{k} {v}' for k, v in sorted(why.items()))})" if why else ""))


@cluster.command("drain")
@click.argument("node")
@config_option
@data_dir_option
@fail_on_errors
def cluster_drain(node: str, config_file: Path, data_dir: Path | None) -> None:
    """Move NODE's cameras to the other nodes (before taking it down)."""
    _clustered(config_file, data_dir)

    async def drain(store: Store) -> bool:
        return await store.cluster.drain(node)

    if not with_store(config_file, data_dir, drain):
        raise NotFound(f"no node {node[:64]!r} (pantau cluster status)")
    click.echo(f"{node} drains: its cameras move to the other nodes within seconds", err=True)
