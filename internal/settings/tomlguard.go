package settings

import (
	"fmt"
	"strings"
)

// The TOML decoder's cost grows steeply with nesting: a 20 KB file of
// 10,000-deep inline tables or dotted keys takes minutes. checkTOMLShape runs
// first, with a lexer just precise enough to tell strings and comments from
// structure, and refuses such files. Real configuration files nest a few
// levels (pyproject.toml's [tool.poetry.group.dev.dependencies] is 5 parts).
// Within these limits even a hostile 1 MiB file decodes in a few seconds, no
// slower than a few times a flat file of that size.
const (
	maxTOMLNesting  = 16 // arrays and inline tables inside one another
	maxTOMLKeyParts = 16 // dotted key segments, e.g. a.b.c is 3
)

// tomlFrame is an open array or inline table.
type tomlFrame struct {
	inlineTable bool
}

// checkTOMLShape returns the 1-based line where the limits are exceeded, or 0.
func checkTOMLShape(src string) (line int, reason string) {
	var stack []tomlFrame
	keyMode := true // reading a key (or table header) rather than a value
	keyParts := 1
	line = 1
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '\n':
			line++
			if len(stack) == 0 {
				keyMode, keyParts = true, 1
			}
		case '#':
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				return 0, ""
			}
			i += end - 1 // the newline itself is handled next iteration
		case '"', '\'':
			end, newlines := skipTOMLString(src, i)
			line += newlines
			i = end - 1
		case '.':
			if keyMode {
				if keyParts++; keyParts > maxTOMLKeyParts {
					return line, fmt.Sprintf("a key has more than %d dotted parts", maxTOMLKeyParts)
				}
			}
		case '=':
			if keyMode {
				keyMode = false
			}
		case ',':
			if n := len(stack); n > 0 && stack[n-1].inlineTable {
				keyMode, keyParts = true, 1
			}
		case '[', '{':
			if keyMode {
				continue // table header brackets
			}
			if len(stack) >= maxTOMLNesting {
				return line, fmt.Sprintf("arrays or inline tables are nested more than %d deep", maxTOMLNesting)
			}
			stack = append(stack, tomlFrame{inlineTable: c == '{'})
			keyMode, keyParts = c == '{', 1
		case ']', '}':
			if keyMode && len(stack) == 0 {
				continue // end of a table header
			}
			if n := len(stack); n > 0 {
				stack = stack[:n-1]
			}
			keyMode = false // what follows a closed value is not a key until a separator
		}
	}
	return 0, ""
}

// skipTOMLString returns the index just past the string starting at src[i]
// (a quote) and the newlines inside it. Single-line strings end at a newline
// at the latest, as the decoder would reject them there anyway.
func skipTOMLString(src string, i int) (end, newlines int) {
	q := src[i]
	escapes := q == '"'
	if strings.HasPrefix(src[i:], strings.Repeat(string(q), 3)) {
		delim := src[i : i+3]
		j := i + 3
		for j < len(src) {
			switch {
			case escapes && src[j] == '\\':
				if j+1 < len(src) && src[j+1] == '\n' {
					newlines++
				}
				j += 2
				continue
			case src[j] == '\n':
				newlines++
			case strings.HasPrefix(src[j:], delim):
				j += 3
				// Up to two more quotes belong to the content.
				for k := 0; k < 2 && j < len(src) && src[j] == q; k++ {
					j++
				}
				return j, newlines
			}
			j++
		}
		return len(src), newlines
	}
	for j := i + 1; j < len(src); j++ {
		switch {
		case escapes && src[j] == '\\':
			if j+1 < len(src) && src[j+1] != '\n' {
				j++
			}
		case src[j] == q:
			return j + 1, newlines
		case src[j] == '\n':
			return j, newlines
		}
	}
	return len(src), newlines
}
