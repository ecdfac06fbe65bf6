package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// maxStdioLine bounds one inbound line, as the SDK's own stdio transport does.
const maxStdioLine = mcp.DefaultMaxLineLength

// batchesUntil is the first protocol revision without JSON-RPC batches.
const batchesUntil = "2025-06-18"

// stdioDrainLimit bounds how long the end of input waits for the answers
// still owed: longer than any call's own deadline, short enough that a
// request the server can never answer does not keep the process alive.
const stdioDrainLimit = 2 * time.Minute

// runIO serves s over newline-delimited JSON on r and w. The SDK ends the
// whole session on the first line it cannot decode; a client that sends one
// malformed line would lose the server. Lines are therefore checked here:
// a bad one is answered with a JSON-RPC error (-32700 or -32600, as the
// specification asks) and the session carries on.
//
// The SDK also cancels every call in flight, and drops its answer, as soon
// as input ends; a client that writes a request and closes stdin (a pipe,
// a script) would get nothing. The end of input is therefore passed on only
// once every request read has been answered, or after drainLimit.
func runIO(ctx context.Context, s *mcp.Server, r io.Reader, w io.Writer) error {
	return runIODrain(ctx, s, r, w, stdioDrainLimit)
}

func runIODrain(ctx context.Context, s *mcp.Server, r io.Reader, w io.Writer, drainLimit time.Duration) error {
	owed := newOwed()
	out := &lockedWriter{w: w, owed: owed}
	pr, pw := io.Pipe()
	go func() {
		err := filterLines(r, pw, out, owed)
		if err == nil { // input ended: wait for the answers still owed
			t := time.NewTimer(drainLimit)
			select {
			case <-owed.settled():
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			err = io.EOF
		}
		_ = pw.CloseWithError(err) // io.EOF reads as a clean end
	}()
	return s.Run(ctx, &mcp.IOTransport{Reader: pr, Writer: out})
}

// owed is the set of requests read whose answer is not written yet.
type owed struct {
	mu   sync.Mutex
	ids  map[jsonrpc.ID]struct{}
	idle chan struct{} // closed once ids is empty; nil until someone waits
}

func newOwed() *owed { return &owed{ids: map[jsonrpc.ID]struct{}{}} }

func (o *owed) add(id jsonrpc.ID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ids[id] = struct{}{}
}

func (o *owed) pending() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.ids) > 0
}

func (o *owed) done(id jsonrpc.ID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.ids, id)
	if len(o.ids) == 0 && o.idle != nil {
		close(o.idle)
		o.idle = nil
	}
}

// settled is closed once nothing is owed.
func (o *owed) settled() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.ids) == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	if o.idle == nil {
		o.idle = make(chan struct{})
	}
	return o.idle
}

// track notes what an inbound message changes in what is owed.
func (o *owed) track(msg jsonrpc.Message) {
	req, ok := msg.(*jsonrpc.Request)
	switch {
	case !ok:
	case req.IsCall():
		o.add(req.ID)
	case req.Method == "notifications/cancelled": // a cancelled request needs no answer
		var p struct {
			RequestID any `json:"requestId"`
		}
		if json.Unmarshal(req.Params, &p) == nil {
			if id, err := jsonrpc.MakeID(p.RequestID); err == nil {
				o.done(id)
			}
		}
	}
}

// answered notes the responses in one outbound line.
func (o *owed) answered(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	msgs := []json.RawMessage{line}
	if line[0] == '[' && json.Unmarshal(line, &msgs) != nil {
		return
	}
	for _, m := range msgs {
		if msg, err := jsonrpc.DecodeMessage(m); err == nil {
			if resp, ok := msg.(*jsonrpc.Response); ok {
				o.done(resp.ID)
			}
		}
	}
}

// lockedWriter keeps the SDK's messages and ours whole on the shared output,
// and notes each answer once it is written.
type lockedWriter struct {
	mu   sync.Mutex
	w    io.Writer
	owed *owed
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	n, err := l.w.Write(p)
	l.mu.Unlock()
	if l.owed != nil && l.owed.pending() {
		l.owed.answered(p)
	}
	return n, err
}

func (l *lockedWriter) Close() error { return nil }

// filterLines copies well-formed JSON-RPC lines from r to pw, noting the
// requests in owed, and answers the rest on out. It returns nil when r
// ends, or the error that ended it (the session stopped reading, or r
// failed).
func filterLines(r io.Reader, pw *io.PipeWriter, out io.Writer, owed *owed) error {
	br := bufio.NewReaderSize(r, 64<<10)
	batches := true // until initialize names a revision without them
	for {
		line, tooLong, err := readLine(br, maxStdioLine)
		if tooLong {
			writeRPCError(out, nil, -32700, "Parse error: message longer than the line limit")
		} else if len(bytes.TrimSpace(line)) > 0 {
			if fwd, msgs, ok := checkLine(bytes.TrimSpace(line), &batches, out); ok {
				for _, m := range msgs {
					owed.track(m)
				}
				if _, werr := pw.Write(append(fwd, '\n')); werr != nil {
					return werr // the session is closed
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
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

// checkLine decides whether the SDK can take a line, and returns its
// messages; otherwise it answers the client and reports false.
func checkLine(line []byte, batches *bool, out io.Writer) ([]byte, []jsonrpc.Message, bool) {
	if !json.Valid(line) {
		writeRPCError(out, nil, -32700, "Parse error: the line is not valid JSON")
		return nil, nil, false
	}
	if line[0] == '[' {
		var raws []json.RawMessage
		_ = json.Unmarshal(line, &raws)
		if !*batches || len(raws) == 0 {
			writeRPCError(out, nil, -32600, "Invalid Request: JSON-RPC batches are not accepted; send one message per line")
			return nil, nil, false
		}
		msgs := make([]jsonrpc.Message, len(raws))
		for i, m := range raws {
			var err error
			if msgs[i], err = jsonrpc.DecodeMessage(m); err != nil {
				writeRPCError(out, nil, -32600, "Invalid Request: a batch holds an invalid message")
				return nil, nil, false
			}
		}
		return line, msgs, true
	}
	msg, err := jsonrpc.DecodeMessage(line)
	if err != nil {
		writeRPCError(out, idOf(line), -32600, "Invalid Request: not a JSON-RPC 2.0 message")
		return nil, nil, false
	}
	if req, ok := msg.(*jsonrpc.Request); ok && req.Method == "initialize" {
		var p struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		if json.Unmarshal(req.Params, &p) == nil && p.ProtocolVersion >= batchesUntil {
			*batches = false
		}
	}
	return line, []jsonrpc.Message{msg}, true
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
