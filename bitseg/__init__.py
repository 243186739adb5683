"""bitseg: a membership server for CRM audience segments (roaring bitmaps in LMDB, over gRPC)."""

__version__ = "0.1.0"
