"""The station's own tables (SQLAlchemy 2 Core). No column ever holds a BSN: accepted data lives in
Parquet files with pseudonymised personal fields, raw files in the content-addressed store."""

from __future__ import annotations

import sqlalchemy as sa

from ggk.database.engine import UtcDateTime

metadata = sa.MetaData()

Timestamp = UtcDateTime()  # UTC in the database, aware UTC when read (SQLite and PostgreSQL)

# One row per inbound message the station has finished deciding about (any type): the outcome and
# the reply, so that reprocessing after a crash resends the same reply with the same id.
processed_messages = sa.Table(
    "station_processed_messages", metadata,
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("sender", sa.String(20), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("reply_type", sa.String(64), nullable=True),
    sa.Column("reply_id", sa.String(64), nullable=True),
    sa.Column("reply_metadata", sa.JSON, nullable=True),
    sa.Column("reply_dir", sa.String(500), nullable=True),  # relative to the store
    sa.Column("decided_at", Timestamp, nullable=False),
    sa.Column("replied_at", Timestamp, nullable=True),
    sa.Column("acked_at", Timestamp, nullable=True),
)

# Claims: a station inserts a row before working on a message; the primary key makes sure that two
# stations on one database never work on the same message at the same time. A claim whose lease
# expired (its station died) may be taken over by compare-and-set on (worker, claimed_at).
claims = sa.Table(
    "station_claims", metadata,
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("worker", sa.String(100), nullable=False),
    sa.Column("claimed_at", Timestamp, nullable=False),
    sa.Column("lease_until", Timestamp, nullable=False),
    sa.Column("done", sa.Boolean, nullable=False, default=False),
)

# Deliveries (aanleveringen) that were validated: every one a version of its dataset.
deliveries = sa.Table(
    "station_deliveries", metadata,
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("statistic", sa.String(32), nullable=False),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("gemeente", sa.String(6), nullable=False),
    sa.Column("dataset", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("sender", sa.String(20), nullable=False),
    sa.Column("file_name", sa.String(300), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("verdict", sa.String(16), nullable=False),  # goedgekeurd | afgekeurd
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("warnings", sa.Integer, nullable=False),
    sa.Column("parquet_path", sa.String(500), nullable=True),  # accepted only; relative to store
    sa.Column("changes", sa.JSON, nullable=True),  # diff against the previous accepted version
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Column("raw_purged_at", Timestamp, nullable=True),
    # when the municipality sent it (the hub accepted the message), on the station's clock
    # (clock.sent_moment); NULL for deliveries recorded before revision 0003
    sa.Column("sent_at", Timestamp, nullable=True),
    sa.UniqueConstraint("statistic", "period", "gemeente", "dataset", "version",
                        name="uq_station_delivery_version"),
)

workflow = sa.Table(
    "station_workflow", metadata,
    sa.Column("statistic", sa.String(32), primary_key=True),
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column("gemeente", sa.String(6), primary_key=True),
    sa.Column("dataset", sa.String(32), primary_key=True),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("accepted_version", sa.Integer, nullable=True),
    sa.Column("versions", sa.Integer, nullable=False, default=0),
    sa.Column("last_delivery_at", Timestamp, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
)

extensions = sa.Table(
    "station_extensions", metadata,
    sa.Column("statistic", sa.String(32), primary_key=True),
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column("gemeente", sa.String(6), primary_key=True),
    sa.Column("until", sa.Date, nullable=False),
    sa.Column("granted_at", Timestamp, nullable=False),
    sa.Column("reason", sa.String(500), nullable=True),
)

# The audit trail: every state change, refusal, besluit, extension and purge.
audit = sa.Table(
    "station_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("statistic", sa.String(32), nullable=True),
    sa.Column("period", sa.String(16), nullable=True),
    sa.Column("gemeente", sa.String(6), nullable=True),
    sa.Column("dataset", sa.String(32), nullable=True),
    sa.Column("from_state", sa.String(32), nullable=True),
    sa.Column("to_state", sa.String(32), nullable=True),
    sa.Column("message_id", sa.String(64), nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
)

# Messages whose handling failed: tried again after a back-off that doubles per attempt; after
# `max_attempts` the message is a dead letter (`dead_at`): no longer tried, shown to the operator
# (`ggk station status`), released again with `ggk station retry`. A success deletes the row.
failures = sa.Table(
    "station_failures", metadata,
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("sender", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("first_failed_at", Timestamp, nullable=False),
    sa.Column("last_failed_at", Timestamp, nullable=False),
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("last_error", sa.String(600), nullable=False),  # 9-digit runs masked
    sa.Column("dead_at", Timestamp, nullable=True),
)
