"""The count of local state rebuilt because it came from another log.

Kept apart from :mod:`driftloop.platform.log_identity` (which talks to Kafka)
so that use cases can count a rebuild without importing a transport.
"""

from __future__ import annotations

from prometheus_client import Counter

STATE_REBUILDS = Counter(
    "driftloop_state_rebuilds_total",
    "Local state dropped and rebuilt because it was read from another log "
    "(a reset broker, a recreated topic)",
    ["state", "reason"],
)

#: ``reason`` label: the state names another cluster id.
OTHER_CLUSTER = "other_cluster"
#: ``reason`` label: the state claims offsets beyond the partition's end.
BEYOND_LOG_END = "beyond_log_end"
