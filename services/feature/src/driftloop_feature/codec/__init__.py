"""The codec room: every protobuf ⇄ domain mapping of the feature service.

Both edges import it — the inbound entrypoints/ and the outbound adapters/ —
so data leaves the service without passing through its inbound edge.
"""
