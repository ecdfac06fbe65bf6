package httpserver

import (
	"context"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// requestContextKey carries the HTTP request's own context into the MCP
// handler's context, whose cancellation the SDK detaches from the request.
type requestContextKey struct{}

// carryRequestContext lets CancelWithRequest see when the POST that carried
// a call ends. Only for stateless servers, where that POST is the call's
// whole life: once it is gone the answer can no longer be delivered.
func carryRequestContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, requestContextKey{}, ctx)))
	})
}

// CancelWithRequest is MCP middleware that cancels a tools/call when the
// HTTP request that carried it ends (the client disconnected), so upstream
// Prefect requests stop too. The SDK does this itself only for the
// 2026-07-28 protocol (PropagateRequestCancellation); older clients are the
// many. Outside a stateless HTTP server it does nothing.
func CancelWithRequest(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		httpCtx, ok := ctx.Value(requestContextKey{}).(context.Context)
		if !ok || method != "tools/call" {
			return next(ctx, method, req)
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(httpCtx, cancel)()
		return next(ctx, method, req)
	}
}
