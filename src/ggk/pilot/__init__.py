"""ggk.pilot: one period played end to end in one process (PKI, hub, station and four test
municipalities), for demonstrations and as the whole chain's test (docs/pilot.md)."""
