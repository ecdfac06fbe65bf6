// Package docstest is a local stand-in for Prefect's docs MCP server: the
// same tool names and arguments (search_prefect, get_release_notes), served
// by the go-sdk over Streamable HTTP on 127.0.0.1, with a log of what it saw.
package docstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Queries and versions with special behaviour.
const (
	// SlowQuery makes search_prefect wait until the call is abandoned.
	SlowQuery = "slow"
	// HugeQuery makes search_prefect answer with about 200 KB.
	HugeQuery = "huge"
	// LatestVersion is what get_release_notes resolves "latest" to.
	LatestVersion = "3.4.20"
)

// Server is a running fake docs server; URL is its MCP endpoint.
type Server struct {
	URL  string
	http *httptest.Server

	done chan struct{} // closed by Close: releases slow calls

	mu      sync.Mutex
	handler http.Handler
	methods []string // JSON-RPC methods received, in order
}

// New starts a fake docs server; Close stops it.
func New() *Server {
	s := &Server{done: make(chan struct{})}
	s.handler = s.newHandler()
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.http.URL + "/mcp"
	return s
}

// Close stops the server.
func (s *Server) Close() {
	close(s.done)
	s.http.Close()
}

// Restart forgets every session, as a redeployed server would: clients
// holding a session get 404 on their next request.
func (s *Server) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = s.newHandler()
}

// Requests is how many HTTP requests arrived.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.methods)
}

// Count is how many JSON-RPC messages with method arrived, e.g. "initialize"
// or "tools/call".
func (s *Server) Count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.methods {
		if m == method {
			n++
		}
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var msg struct {
		Method string `json:"method"`
	}
	_ = json.Unmarshal(body, &msg)
	if msg.Method == "" {
		msg.Method = r.Method
	}
	s.mu.Lock()
	s.methods = append(s.methods, msg.Method)
	h := s.handler
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

type searchArgs struct {
	Query string `json:"query"`
	TopK  *int   `json:"top_k,omitempty"`
}

type releaseArgs struct {
	Version string `json:"version"`
}

func (s *Server) newHandler() http.Handler {
	srv := mcp.NewServer(&mcp.Implementation{Name: "Prefect Docs MCP", Version: "0.1.0"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "search_prefect", Description: "Search the Prefect knowledgebase"}, s.search)
	mcp.AddTool(srv, &mcp.Tool{Name: "get_release_notes", Description: "Release notes of one Prefect OSS release"}, releaseNotes)
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
}

func (s *Server) search(ctx context.Context, _ *mcp.CallToolRequest, in searchArgs) (*mcp.CallToolResult, any, error) {
	topK := 5
	if in.TopK != nil {
		topK = *in.TopK
	}
	switch in.Query {
	case SlowQuery:
		// Until the client cancels the call (notifications/cancelled) or
		// the server stops.
		select {
		case <-ctx.Done():
		case <-s.done:
		}
		return nil, nil, errors.New("abandoned")
	case HugeQuery:
		topK = 20
	}
	type result struct {
		Snippet string  `json:"snippet"`
		ID      string  `json:"id"`
		Score   float64 `json:"score"`
		Title   string  `json:"title"`
		Link    string  `json:"link"`
	}
	var results []result
	for i := range topK {
		snippet := fmt.Sprintf("Work pools organize infrastructure for %s (excerpt %d).", in.Query, i+1)
		if in.Query == HugeQuery {
			snippet = strings.Repeat("Prefect work pools and workers. ", 320)
		}
		results = append(results, result{
			Snippet: snippet, ID: fmt.Sprintf("doc-%d", i+1), Score: 0.9 - float64(i)/100,
			Title: fmt.Sprintf("Work pools (%d)", i+1), Link: fmt.Sprintf("https://docs.prefect.io/v3/concepts/work-pools#%d", i+1),
		})
	}
	return jsonResult(map[string]any{"query": in.Query, "namespace": "prefect-docs-for-mcp", "results": results}), nil, nil
}

func releaseNotes(_ context.Context, _ *mcp.CallToolRequest, in releaseArgs) (*mcp.CallToolResult, any, error) {
	v := in.Version
	if v == "latest" {
		v = LatestVersion
	}
	if v != LatestVersion {
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{
			Text: fmt.Sprintf("release %s was not found in the official release notes", v),
		}}}, nil, nil
	}
	return jsonResult(map[string]any{
		"version": v, "title": "Faster event processing", "released_on": "2025-10-02",
		"notes_markdown": "### Bug fixes\n- Fix work pool status after worker restart",
		"source_url":     "https://docs.prefect.io/v3/release-notes/oss/version-3-4",
	}), nil, nil
}

func jsonResult(v any) *mcp.CallToolResult {
	b, _ := json.Marshal(v)
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}}
}
