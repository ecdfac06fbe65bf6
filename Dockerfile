# Multi-stage build: a static binary on a distroless, non-root base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/prefect-mcp/prefect-mcp/internal/cli.Version=${VERSION}" -o /out/prefect-mcp ./cmd/prefect-mcp

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/prefect-mcp /usr/local/bin/prefect-mcp
USER nonroot:nonroot
EXPOSE 8080
# In the container the server speaks HTTP on all interfaces; stdio stays the default elsewhere.
ENV PREFECT_MCP_TRANSPORT=http PREFECT_MCP_HOST=0.0.0.0 PREFECT_MCP_PORT=8080 PREFECT_MCP_LOG_FORMAT=json
HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD ["/usr/local/bin/prefect-mcp", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/prefect-mcp"]
