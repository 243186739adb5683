"""Generated gRPC stubs of proto/bitseg/v1/bitseg.proto; regenerate: `python -m bitseg.codegen`.

The `*_pb2*` modules here are generated and committed; tests/test_proto_current.py
checks they match the .proto. Do not edit them by hand.
"""
