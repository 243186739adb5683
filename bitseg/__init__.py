"""bitseg: a membership server for CRM audience segments (roaring bitmaps in LMDB, over gRPC)."""

from bitseg import grpcenv as _grpcenv

__version__ = "0.1.0"

_grpcenv.configure()  # before anything imports grpc: it reads GRPC_EXPERIMENTS once
