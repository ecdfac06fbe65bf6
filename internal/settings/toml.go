package settings

import (
	"errors"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// tomlTable is a decoded TOML table.
type tomlTable = map[string]any

// loadTOML reads and decodes a TOML file; found is false when it is missing.
func loadTOML(path string) (table tomlTable, found bool, err error) {
	data, found, err := readConfigFile(path)
	if err != nil || !found {
		return nil, found, err
	}
	table, err = decodeTOML(path, string(data))
	if err != nil {
		return nil, false, err
	}
	return table, true, nil
}

func decodeTOML(path, content string) (tomlTable, error) {
	// Python reads the file in text mode (universal newlines) before tomllib.
	content = normalizeNewlines(content)
	if line, reason := checkTOMLShape(content); line > 0 {
		return nil, &Error{File: path, Line: line, Reason: "refusing to parse: " + reason, Fix: fixFile(path, line)}
	}
	table := tomlTable{}
	if _, err := toml.Decode(content, &table); err != nil {
		e := &Error{File: path, Reason: "invalid TOML", Err: err}
		defer func() { e.Fix = fixFile(path, e.Line) }()
		var parseErr toml.ParseError
		if errors.As(err, &parseErr) {
			e.Line = errorLine(content, parseErr.Position)
			e.Reason = "invalid TOML: " + scrubQuoted(parseErr.Message)
			if parseErr.LastKey != "" {
				e.Reason += " (after key " + quoteForError(parseErr.LastKey) + ")"
			}
		}
		return nil, e
	}
	return table, nil
}

// fixFile is the fix for a file that cannot be read.
func fixFile(path string, line int) string {
	where := path
	if line > 0 {
		where = fmt.Sprintf("line %d of %s", line, path)
	}
	return "correct " + where + " (Prefect itself cannot read it either), or move the file aside"
}

// errorLine counts lines up to the error's byte offset: the parser reports a
// newline that ends a bad line as belonging to the next one.
func errorLine(content string, pos toml.Position) int {
	if pos.Start < 0 || pos.Start > len(content) {
		return pos.Line
	}
	return 1 + strings.Count(content[:pos.Start], "\n")
}

// scrubQuoted hides quoted fragments longer than a few characters in a TOML
// parser message: they echo file content (e.g. an unquoted API key) and must
// not reach logs.
func scrubQuoted(msg string) string {
	const maxShown = 3
	var b strings.Builder
	for i := 0; i < len(msg); i++ {
		q := msg[i]
		if q != '"' && q != '\'' {
			b.WriteByte(q)
			continue
		}
		end := strings.IndexByte(msg[i+1:], q)
		if end < 0 {
			b.WriteString(msg[i:])
			break
		}
		if end > maxShown {
			b.WriteByte(q)
			b.WriteString("…")
			b.WriteByte(q)
		} else {
			b.WriteString(msg[i : i+1+end+1])
		}
		i += end + 1
	}
	return b.String()
}

// subTable walks keys from t. A missing key yields an empty table; a key that
// holds something other than a table is an error, as it is in Prefect (which
// fails calling .get on it).
func subTable(t tomlTable, path string, keys ...string) (tomlTable, error) {
	for i, k := range keys {
		v, ok := t[k]
		if !ok {
			return tomlTable{}, nil
		}
		next, ok := v.(tomlTable)
		if !ok {
			return nil, &Error{File: path, Variable: strings.Join(keys[:i+1], "."), Reason: "must be a table, not " + tomlTypeName(v)}
		}
		t = next
	}
	return t, nil
}

// lookupPath mirrors Prefect's get_from_dict: any missing key or non-table
// step yields not found.
func lookupPath(t tomlTable, keys ...string) (any, bool) {
	var cur any = t
	for _, k := range keys {
		m, ok := cur.(tomlTable)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func tomlTypeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case tomlTable:
		return "a table"
	case []any, []tomlTable:
		return "an array"
	default:
		return "a date/time"
	}
}
