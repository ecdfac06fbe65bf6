# Multi-stage build: a static binary on a distroless, non-root base.
# `docker run -i --rm IMAGE` is an MCP stdio server (what MCP clients and the
# registry expect); deployments pass `--transport http` (deploy/).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/prefect-mcp/prefect-mcp/internal/cli.Version=${VERSION}" -o /out/prefect-mcp ./cmd/prefect-mcp

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
# The registry checks io.modelcontextprotocol.server.name against server.json's name.
LABEL org.opencontainers.image.title="prefect-mcp" \
      org.opencontainers.image.description="Read-only MCP server for Prefect" \
      org.opencontainers.image.source="https://github.com/prefect-mcp/prefect-mcp" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      io.modelcontextprotocol.server.name="io.github.prefect-mcp/prefect-mcp"
COPY --from=build /out/prefect-mcp /usr/local/bin/prefect-mcp
# Numeric uid:gid (distroless "nonroot"): the kubelet can only verify
# runAsNonRoot against a numeric user.
USER 65532:65532
EXPOSE 8080
# Used only with --transport http: listen on all interfaces of the container.
ENV PREFECT_MCP_HOST=0.0.0.0 PREFECT_MCP_PORT=8080 PREFECT_MCP_LOG_FORMAT=json
# No HEALTHCHECK here: the default stdio server has no port to probe. The
# compose file and the Kubernetes probes check /healthz of the HTTP server.
ENTRYPOINT ["/usr/local/bin/prefect-mcp"]
