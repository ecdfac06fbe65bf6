package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// maxStdioLine bounds one inbound line, as the SDK's own stdio transport does.
const maxStdioLine = mcp.DefaultMaxLineLength

// batchesUntil is the first protocol revision without JSON-RPC batches.
const batchesUntil = "2025-06-18"

// runIO serves s over newline-delimited JSON on r and w. The SDK ends the
// whole session on the first line it cannot decode; a client that sends one
// malformed line would lose the server. Lines are therefore checked here:
// a bad one is answered with a JSON-RPC error (-32700 or -32600, as the
// specification asks) and the session carries on.
func runIO(ctx context.Context, s *mcp.Server, r io.Reader, w io.Writer) error {
	out := &lockedWriter{w: w}
	pr, pw := io.Pipe()
	go filterLines(r, pw, out)
	return s.Run(ctx, &mcp.IOTransport{Reader: pr, Writer: out})
}

// lockedWriter keeps the SDK's messages and ours whole on the shared output.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) Close() error { return nil }

// filterLines copies well-formed JSON-RPC lines from r to pw and answers
// the rest on out. It ends when r ends (closing pw, so the session sees EOF)
// or when the session stops reading.
func filterLines(r io.Reader, pw *io.PipeWriter, out io.Writer) {
	br := bufio.NewReaderSize(r, 64<<10)
	batches := true // until initialize names a revision without them
	for {
		line, tooLong, err := readLine(br, maxStdioLine)
		if tooLong {
			writeRPCError(out, nil, -32700, "Parse error: message longer than the line limit")
		} else if len(bytes.TrimSpace(line)) > 0 {
			if fwd, ok := checkLine(bytes.TrimSpace(line), &batches, out); ok {
				if _, werr := pw.Write(append(fwd, '\n')); werr != nil {
					return // the session is closed
				}
			}
		}
		if err != nil {
			_ = pw.CloseWithError(err) // io.EOF reads as a clean end
			return
		}
	}
}

// readLine reads one line; a line over limit is consumed and reported.
func readLine(br *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > limit {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, tooLong, err
	}
}

// checkLine decides whether the SDK can take a line; otherwise it answers
// the client and reports false.
func checkLine(line []byte, batches *bool, out io.Writer) ([]byte, bool) {
	if !json.Valid(line) {
		writeRPCError(out, nil, -32700, "Parse error: the line is not valid JSON")
		return nil, false
	}
	if line[0] == '[' {
		var msgs []json.RawMessage
		_ = json.Unmarshal(line, &msgs)
		if !*batches || len(msgs) == 0 {
			writeRPCError(out, nil, -32600, "Invalid Request: JSON-RPC batches are not accepted; send one message per line")
			return nil, false
		}
		for _, m := range msgs {
			if _, err := jsonrpc.DecodeMessage(m); err != nil {
				writeRPCError(out, nil, -32600, "Invalid Request: a batch holds an invalid message")
				return nil, false
			}
		}
		return line, true
	}
	msg, err := jsonrpc.DecodeMessage(line)
	if err != nil {
		writeRPCError(out, idOf(line), -32600, "Invalid Request: not a JSON-RPC 2.0 message")
		return nil, false
	}
	if req, ok := msg.(*jsonrpc.Request); ok && req.Method == "initialize" {
		var p struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		if json.Unmarshal(req.Params, &p) == nil && p.ProtocolVersion >= batchesUntil {
			*batches = false
		}
	}
	return line, true
}

// idOf returns the id of a message when it is a valid JSON-RPC id.
func idOf(line []byte) any {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(line, &m) != nil || len(m.ID) == 0 {
		return nil
	}
	var id any
	if json.Unmarshal(m.ID, &id) != nil {
		return nil
	}
	switch id.(type) {
	case string, float64:
		return id
	}
	return nil
}

func writeRPCError(out io.Writer, id any, code int, msg string) {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{"code": code, "message": msg}})
	_, _ = out.Write(append(b, '\n'))
}
