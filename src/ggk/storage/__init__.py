"""Storage below the hub and the station: whole objects (a local folder or S3-compatible object
storage) and the one S3 client recipe both use. Knows nothing of messages or statistics."""
