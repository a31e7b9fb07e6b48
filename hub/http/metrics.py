"""``/metrics``: the node's figures in Prometheus' text format (``prometheus-client``), on every node.

Read from the hub's own state when scraped (no counters threaded through
the code): cameras in the inventory and owned by this node, streams
receiving, segments and bytes stored, segments refused by fencing, events
passed on, live viewers, the outbox's depth per notifier (from the shared
database: the same on every node), and with several nodes the lease's age
and whether this node assigns.  Figures only, no camera names or addresses:
like ``/healthz`` it needs no token (a scraper has none), and says nothing
a city would keep from its own monitoring.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.http.services import ServedHub, served_hub

router = APIRouter(tags=["health"])


class _Figures(Collector):
    """One scrape's figures, read beforehand (the outbox's depth is a database query)."""

    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield from self.metrics


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


async def figures(hub: ServedHub) -> list[Metric]:
    """The node's figures now."""
    cluster = hub.cluster
    cameras = hub.inventory.cameras
    owned = len(cluster.owned) if cluster is not None else len(cameras)
    stall = hub.config.health.stall_seconds
    up = sum(1 for camera_id in cameras if hub.graph.receiving(camera_id, stall))
    recording = hub.recording
    out: list[Metric] = [
        _gauge("pantau_cameras", "Cameras in the inventory.", len(cameras)),
        _gauge("pantau_cameras_owned", "Cameras this node owns (records, checks, serves live).", owned),
        _gauge("pantau_streams_up", f"Cameras with a stream that brought a packet in the last {stall:g} s.", up),
        _counter("pantau_segments_written", "Segments stored and indexed by this node.", recording.written),
        _counter("pantau_segment_bytes_written", "Bytes of the segments this node stored.", recording.written_bytes),
        _counter("pantau_segments_fenced", "Segments refused: their camera had another owner.", recording.refused),
        _counter("pantau_events_published", "Events this node passed on (to the outbox and plugins).",
                 hub.published),
        _gauge("pantau_live_viewers", "Live viewers on this node.", len(hub.live.viewers)),
    ]
    depth = GaugeMetricFamily("pantau_outbox_rows", "Outbox rows by notifier and state (the whole hub's).",
                              labels=["notifier", "state"])
    for notifier, states in sorted((await hub.store.events.outbox_summary()).items()):
        for state, count in sorted(states.items()):
            depth.add_metric([notifier, state], count)
    out.append(depth)
    if cluster is not None:
        out.append(_gauge("pantau_cluster_lease_age_seconds", "Seconds since this node last renewed its lease.",
                          cluster.lease_age()))
        out.append(_gauge("pantau_cluster_assigner", "1 while this node assigns the cameras.",
                          1 if cluster.assigns else 0))
    return out


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}})
async def metrics(request: Request) -> Response:
    """This node's figures in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(await figures(served_hub(request))))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
