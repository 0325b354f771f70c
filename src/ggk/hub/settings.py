"""Hub configuration: one dataclass, filled by `ggk hub serve` flags or by embedding code."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

GIB = 1024**3


@dataclass(slots=True)
class HubSettings:
    """Everything a hub process needs.

    Embedded default: only `data_dir` (SQLite file `hub.sqlite3` and the file store `store/`
    inside). Production: `database_url` (postgresql+psycopg://...) and `store_dir`, shared by all
    hub processes.
    """

    ca_file: Path | None = None  # CA that issued the party certificates
    server_cert: Path | None = None  # PEM with the hub's TLS certificate and key
    data_dir: Path | None = None
    database_url: str | None = None
    store_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8443
    # Client certificate from a TLS-terminating proxy (nginx `$ssl_client_escaped_cert`)
    trust_proxy_header: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    # ...and only on a connection that presents one of these certificates (sha256 of the DER,
    # lowercase hex): the proxy's own client certificate, pinned (see docs/security.md)
    trusted_proxy_fingerprints: tuple[str, ...] = ()
    # Certificate revocation list of the party CA: a file path or an http(s) URL, read at start
    # and every `crl_refresh_seconds` (PEM or DER)
    crl_source: str | None = None
    crl_refresh_seconds: float = 300.0
    # Limits
    max_message_bytes: int = 20 * GIB  # default per-party limit on the sum of attachment sizes
    min_free_bytes: int = 1 * GIB  # refuse (507) when an upload would leave less free disk
    message_ttl_seconds: int = 30 * 24 * 3600  # unacknowledged messages expire after this
    # a message's row (and metadata) is deleted this long after it was accepted, once final
    message_retention_seconds: int = 180 * 24 * 3600
    max_json_body_bytes: int = 1024 * 1024  # POST bodies (message declarations, acks)
    # Request heads: before any authentication, so small and short
    max_header_bytes: int = 64 * 1024  # request line + all headers
    max_header_count: int = 100
    header_timeout_seconds: float = 15.0  # to receive a request's head, from its first byte
    max_metadata_bytes: int = 64 * 1024
    long_poll_interval: float = 0.5  # seconds between database polls while long-polling
    # With PostgreSQL, LISTEN/NOTIFY wakes long polls on every node, and a mailbox known empty
    # needs no query; the safety net is one batched query per process this often for every
    # mailbox known empty (a notification lost: ggk.hub.notify).
    long_poll_safety_interval: float = 30.0
    # Several hub processes on several machines: attachments in S3-compatible object storage
    # (credentials from the usual AWS_* variables) and the receipt key from configuration.
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_prefix: str = "attachments/"
    multi_node: bool = False  # also implied by s3_bucket: refuse to start without receipt_key
    receipt_key_file: Path | None = None  # Ed25519 private key (PEM) that signs receipts
    # Public (or private) keys of earlier signing keys, still published in the JWKS
    receipt_previous_key_files: tuple[Path, ...] = ()
    expiry_sweep_seconds: float = 60.0
    extra: dict[str, str] = field(default_factory=dict)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        if self.data_dir is None:
            raise ValueError("give --data-dir (embedded SQLite) or --database-url")
        return f"sqlite:///{Path(self.data_dir) / 'hub.sqlite3'}"

    def resolved_store_dir(self) -> Path:
        if self.store_dir is not None:
            return Path(self.store_dir)
        if self.data_dir is None:
            raise ValueError("give --store-dir with --database-url (or --data-dir)")
        return Path(self.data_dir) / "store"

    @property
    def is_multi_node(self) -> bool:
        return self.multi_node or self.s3_bucket is not None

    @property
    def hub_key_path(self) -> Path:
        """The hub's Ed25519 receipt-signing key: the configured one, else (embedded) the one
        beside the store, made on first use."""
        if self.receipt_key_file is not None:
            return Path(self.receipt_key_file)
        return self.resolved_store_dir() / "hub-key.pem"
