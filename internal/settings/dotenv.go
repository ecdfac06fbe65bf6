package settings

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reads .env files the way python-dotenv's dotenv_values does, since
// that is what Prefect (through pydantic-settings) uses: a leading byte-order
// mark is dropped; `export` prefixes; single- and double-quoted values
// (possibly spanning lines) with their escape sets; unquoted values where a
// "#" after whitespace starts a comment; keys without "=" (no value);
// unparsable statements skipped; ${NAME} and ${NAME:-default} interpolation
// against earlier keys of the file, then the process environment. Bare $NAME
// is not expanded, as in python-dotenv.

// dotenvBinding is one KEY[=VALUE] statement.
type dotenvBinding struct {
	key      string
	value    string
	hasValue bool // false for a bare `KEY` line, which python-dotenv maps to None
	line     int
}

// dotenvFile is a parsed and interpolated .env file.
type dotenvFile struct {
	bindings  []dotenvBinding // in file order, interpolated
	badLines  []int           // statements python-dotenv would skip with a warning
	exact     map[string]int  // key -> index of its last binding
	lowercase map[string]int  // lower-cased key -> index of its last binding (pydantic-settings is case-insensitive)
}

// lookupExact mirrors dotenv_values(...).get(KEY).
func (f *dotenvFile) lookupExact(key string) (dotenvBinding, bool) {
	i, ok := f.exact[key]
	if !ok {
		return dotenvBinding{}, false
	}
	return f.bindings[i], true
}

// lookupFold mirrors pydantic-settings' case-insensitive view of the file.
func (f *dotenvFile) lookupFold(key string) (dotenvBinding, bool) {
	i, ok := f.lowercase[strings.ToLower(key)]
	if !ok {
		return dotenvBinding{}, false
	}
	return f.bindings[i], true
}

func parseDotenv(content string, lookupEnv func(string) (string, bool)) *dotenvFile {
	// Python opens the file in text mode: universal newlines.
	content = strings.TrimPrefix(normalizeNewlines(content), "\ufeff")
	p := dotenvParser{src: content, line: 1}
	f := &dotenvFile{exact: map[string]int{}, lowercase: map[string]int{}}
	for {
		b, ok, bad, done := p.next()
		if done {
			break
		}
		if bad > 0 {
			f.badLines = append(f.badLines, bad)
			continue
		}
		if !ok {
			continue
		}
		if b.hasValue {
			b.value = interpolate(b.value, f, lookupEnv)
		}
		f.exact[b.key] = len(f.bindings)
		f.lowercase[strings.ToLower(b.key)] = len(f.bindings)
		f.bindings = append(f.bindings, b)
	}
	return f
}

func normalizeNewlines(s string) string {
	if !strings.ContainsRune(s, '\r') {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// isPySpace matches Python's str \s (str.isspace), which also covers the
// information separators U+001C..U+001F.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// isInlineSpace matches the regex class [^\S\r\n].
func isInlineSpace(r rune) bool {
	return r != '\n' && r != '\r' && isPySpace(r)
}

type dotenvParser struct {
	src  string
	pos  int
	line int
}

func (p *dotenvParser) peek() (rune, bool) {
	if p.pos >= len(p.src) {
		return 0, false
	}
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return r, true
}

// advance moves to end, counting the newlines passed.
func (p *dotenvParser) advance(end int) {
	p.line += strings.Count(p.src[p.pos:end], "\n")
	p.pos = end
}

func (p *dotenvParser) skipWhile(match func(rune) bool) {
	end := p.pos
	for end < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[end:])
		if !match(r) {
			break
		}
		end += size
	}
	p.advance(end)
}

// next parses one statement. ok reports a binding with a key; bad is the line
// of a statement that could not be parsed (0 when it parsed); done reports
// the end of input.
func (p *dotenvParser) next() (b dotenvBinding, ok bool, bad int, done bool) {
	p.skipWhile(isPySpace)
	if p.pos >= len(p.src) {
		return b, false, 0, true
	}
	startLine := p.line
	b, ok, parsed := p.statement()
	if !parsed {
		p.skipRestOfLine()
		return dotenvBinding{}, false, startLine, false
	}
	b.line = startLine
	return b, ok, 0, false
}

func (p *dotenvParser) statement() (b dotenvBinding, hasKey, parsed bool) {
	p.skipExport()
	key, hasKey, parsed := p.key()
	if !parsed {
		return b, false, false
	}
	b.key = key
	p.skipWhile(isInlineSpace)
	if r, more := p.peek(); more && r == '=' {
		p.advance(p.pos + 1)
		afterEquals := p.pos
		p.skipWhile(isInlineSpace)
		value, parsed := p.value(p.pos > afterEquals)
		if !parsed {
			return b, false, false
		}
		b.value, b.hasValue = value, true
	}
	p.skipComment()
	if !p.endOfLine() {
		return b, false, false
	}
	return b, hasKey, true
}

// skipExport consumes `export` followed by inline whitespace, if present.
func (p *dotenvParser) skipExport() {
	const word = "export"
	if !strings.HasPrefix(p.src[p.pos:], word) {
		return
	}
	r, size := utf8.DecodeRuneInString(p.src[p.pos+len(word):])
	if size == 0 || !isInlineSpace(r) {
		return
	}
	p.advance(p.pos + len(word))
	p.skipWhile(isInlineSpace)
}

func (p *dotenvParser) key() (key string, hasKey, parsed bool) {
	r, more := p.peek()
	if !more {
		return "", false, false
	}
	switch r {
	case '#':
		return "", false, true
	case '\'':
		// '([^']+)'
		rest := p.src[p.pos+1:]
		end := strings.IndexByte(rest, '\'')
		if end <= 0 {
			return "", false, false
		}
		key = rest[:end]
		p.advance(p.pos + 1 + end + 1)
		return key, true, true
	}
	// ([^=\#\s]+)
	start := p.pos
	end := start
	for end < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[end:])
		if r == '=' || r == '#' || isPySpace(r) {
			break
		}
		end += size
	}
	if end == start {
		return "", false, false
	}
	p.advance(end)
	return p.src[start:end], true, true
}

// value parses what follows "=". spaced reports whitespace after the "=",
// which makes a value starting with "#" a comment (KEY=  # note is empty).
func (p *dotenvParser) value(spaced bool) (string, bool) {
	r, more := p.peek()
	if !more || r == '\n' {
		return "", true
	}
	switch r {
	case '\'':
		raw, ok := p.quoted('\'')
		if !ok {
			return "", false
		}
		return decodeEscapes(raw, "\\'"), true
	case '"':
		raw, ok := p.quoted('"')
		if !ok {
			return "", false
		}
		return decodeEscapes(raw, "\\'\"abfnrtv"), true
	}
	end := strings.IndexByte(p.src[p.pos:], '\n')
	if end < 0 {
		end = len(p.src) - p.pos
	}
	part := p.src[p.pos : p.pos+end]
	p.advance(p.pos + end)
	if spaced && strings.HasPrefix(part, "#") {
		return "", true
	}
	return strings.TrimRightFunc(stripInlineComment(part), isPySpace), true
}

// quoted matches the regex q((?:\\q|[^q])*)q with Python's backtracking: the
// value ends at the first quote not preceded by a backslash, or, failing that,
// at the quote of the last \q pair.
func (p *dotenvParser) quoted(q byte) (string, bool) {
	start := p.pos + 1
	lastEscaped := -1
	for i := start; i < len(p.src); i++ {
		switch p.src[i] {
		case '\\':
			if i+1 < len(p.src) && p.src[i+1] == q {
				lastEscaped = i + 1
				i++
			}
		case q:
			p.advance(i + 1)
			return p.src[start:i], true
		}
	}
	if lastEscaped < 0 {
		return "", false
	}
	p.advance(lastEscaped + 1)
	return p.src[start:lastEscaped], true
}

// stripInlineComment mirrors re.sub(r"\s+#.*", "", part): everything from the
// whitespace run before the first "#" that follows whitespace is dropped.
func stripInlineComment(part string) string {
	spaceStart := -1
	for i, r := range part {
		switch {
		case isPySpace(r):
			if spaceStart < 0 {
				spaceStart = i
			}
		case r == '#' && spaceStart >= 0:
			return part[:spaceStart]
		default:
			spaceStart = -1
		}
	}
	return part
}

// decodeEscapes replaces backslash escapes whose second character is in set,
// like python-dotenv's decode_escapes with the unicode-escape codec.
func decodeEscapes(s, set string) string {
	if !strings.ContainsRune(s, '\\') {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) || strings.IndexByte(set, s[i+1]) < 0 {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		default: // \\ \' \"
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// skipComment consumes an optional `[inline space]#...` up to the newline.
func (p *dotenvParser) skipComment() {
	i := p.pos
	for i < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[i:])
		if !isInlineSpace(r) {
			break
		}
		i += size
	}
	if i < len(p.src) && p.src[i] == '#' {
		end := strings.IndexByte(p.src[i:], '\n')
		if end < 0 {
			end = len(p.src) - i
		}
		p.advance(i + end)
	}
}

// endOfLine consumes inline space then a newline or the end of input.
func (p *dotenvParser) endOfLine() bool {
	p.skipWhile(isInlineSpace)
	r, more := p.peek()
	if !more {
		return true
	}
	if r == '\n' {
		p.advance(p.pos + 1)
		return true
	}
	return false
}

func (p *dotenvParser) skipRestOfLine() {
	end := strings.IndexByte(p.src[p.pos:], '\n')
	if end < 0 {
		p.advance(len(p.src))
		return
	}
	p.advance(p.pos + end + 1)
}

// interpolate expands ${NAME} and ${NAME:-default} (the regex
// \$\{([^}:]*)(?::-([^}]*))?\}). As in python-dotenv's dotenv_values, keys
// defined earlier in the file win over the process environment, and a name
// bound without a value expands to "". Unlike a naive regex scan it stays
// linear on inputs such as "${${${...".
func interpolate(value string, f *dotenvFile, lookupEnv func(string) (string, bool)) string {
	if !strings.Contains(value, "${") {
		return value
	}
	var b strings.Builder
	rest := value
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:i])
		body := rest[i+2:]
		end := strings.IndexAny(body, "}:")
		if end < 0 { // no "}" left: nothing further can match
			b.WriteString(rest[i:])
			return b.String()
		}
		name := body[:end]
		if body[end] == '}' {
			b.WriteString(resolveVariable(name, "", false, f, lookupEnv))
			rest = body[end+1:]
			continue
		}
		if strings.HasPrefix(body[end:], ":-") {
			close := strings.IndexByte(body[end+2:], '}')
			if close < 0 {
				b.WriteString(rest[i:])
				return b.String()
			}
			b.WriteString(resolveVariable(name, body[end+2:end+2+close], true, f, lookupEnv))
			rest = body[end+2+close+1:]
			continue
		}
		// A ":" not followed by "-": every "${" up to it fails the same way.
		b.WriteString(rest[i : i+2+end])
		rest = body[end:]
	}
}

func resolveVariable(name, def string, hasDefault bool, f *dotenvFile, lookupEnv func(string) (string, bool)) string {
	if b, ok := f.lookupExact(name); ok {
		return b.value // "" when bound without a value (None in Python)
	}
	if v, ok := lookupEnv(name); ok {
		return v
	}
	if hasDefault {
		return def
	}
	return ""
}
