package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The embedded document is large (≈500 KB) and Load needs only a few parts of it.
// encoding/json validates and walks every byte of every value it skips, so Load
// instead cuts the document into members with the light scanner below and decodes
// only the small pieces it needs. The scanner trusts its input to be valid JSON
// (tests decode the whole document with encoding/json) but never reads out of bounds.

var errMalformed = errors.New("malformed JSON")

// eachMember calls fn with the key and raw value of every member of the JSON object
// raw, in document order, stopping at the first error.
func eachMember(raw []byte, fn func(key string, value []byte) error) error {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return errMalformed
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return nil
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return errMalformed
		}
		keyEnd, err := skipValue(raw, i)
		if err != nil {
			return err
		}
		key, err := unquote(raw[i:keyEnd])
		if err != nil {
			return err
		}
		i = skipSpace(raw, keyEnd)
		if i >= len(raw) || raw[i] != ':' {
			return errMalformed
		}
		start := skipSpace(raw, i+1)
		end, err := skipValue(raw, start)
		if err != nil {
			return err
		}
		if err := fn(key, raw[start:end]); err != nil {
			return err
		}
		i = skipSpace(raw, end)
		if i >= len(raw) {
			return errMalformed
		}
		switch raw[i] {
		case '}':
			return nil
		case ',':
			i = skipSpace(raw, i+1)
		default:
			return errMalformed
		}
	}
}

// member returns the raw value of key in the JSON object raw.
func member(raw []byte, key string) ([]byte, bool, error) {
	var found []byte
	err := eachMember(raw, func(k string, v []byte) error {
		if k == key {
			found = v
		}
		return nil
	})
	return found, found != nil, err
}

// skipValue returns the index just past the JSON value starting at raw[i].
func skipValue(raw []byte, i int) (int, error) {
	if i >= len(raw) {
		return 0, errMalformed
	}
	switch raw[i] {
	case '"':
		return skipString(raw, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(raw); j++ {
			switch raw[j] {
			case '"':
				end, err := skipString(raw, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errMalformed
	}
	j := i
	for j < len(raw) && !endsLiteral(raw[j]) {
		j++
	}
	if j == i {
		return 0, errMalformed
	}
	return j, nil
}

// skipString returns the index just past the string starting at raw[i].
func skipString(raw []byte, i int) (int, error) {
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			j++ // skip the escaped byte
		case '"':
			return j + 1, nil
		}
	}
	return 0, errMalformed
}

// endsLiteral reports a byte that ends a number, true, false or null.
func endsLiteral(b byte) bool {
	switch b {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\r' || raw[i] == '\n') {
		i++
	}
	return i
}

func unquote(quoted []byte) (string, error) {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1]), nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", fmt.Errorf("key %s: %w", quoted, err)
	}
	return s, nil
}
