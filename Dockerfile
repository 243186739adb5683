# bitseg server image: the gRPC server on the embedded LMDB store, data in /data.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bitseg ./bitseg
COPY indexer ./indexer
RUN pip install --no-cache-dir .
VOLUME ["/data"]
EXPOSE 50051
CMD ["bitseg", "serve", "--data", "/data", "--host", "0.0.0.0", "--port", "50051"]
