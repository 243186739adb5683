"""The write side of bitseg: sources (JSONL, CSV, gRPC records), record normalisation,
bitmap encoders and the batch writer. The only package that writes to the store."""
