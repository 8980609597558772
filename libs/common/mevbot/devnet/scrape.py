"""Read the services' ``/metrics`` (Prometheus text) for the few figures the devnet and soak show."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

WANTED = {
    "process_resident_memory_bytes": "rss_bytes",
    "mev_cache_hit_rate": "cache_hit_rate",
    "mev_dead_letters_total": "dead_letters",
    "mev_executions_total": "executions",
    "mev_opportunities_detected_total": "opportunities_detected",
    "mev_opportunities_profitable_total": "opportunities_profitable",
}


def scrape(base_url: str, timeout_s: float = 1.0) -> dict[str, float]:
    """Sum of each wanted sample over its labels; {} when the service does not answer."""
    try:
        text = httpx.get(f"{base_url}/metrics", timeout=timeout_s).text
    except httpx.HTTPError:
        return {}
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = WANTED.get(sample.name)
            if key is not None:
                if key == "cache_hit_rate":  # a ratio: keep the best-covered cache, not a sum
                    out[key] = max(out.get(key, 0.0), float(sample.value))
                else:
                    out[key] = out.get(key, 0.0) + float(sample.value)
    return out
