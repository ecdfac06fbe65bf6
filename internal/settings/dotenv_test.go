package settings

import (
	"slices"
	"testing"
)

func TestParseDotenv(t *testing.T) {
	env := mapLookup(map[string]string{"FROM_ENV": "env-value", "SHADOWED": "env"})
	tests := []struct {
		name     string
		content  string
		want     map[string]string // exact key -> value; "<none>" for a key without "="
		badLines []int
	}{
		{"plain", "A=1\nB = two \n", map[string]string{"A": "1", "B": "two"}, nil},
		{"export prefix", "export A=1\nexport\tB=2\nexportC=3\n", map[string]string{"A": "1", "B": "2", "exportC": "3"}, nil},
		{"comments", "# top\nA=1 # trailing\nB=x#not-a-comment\n  # indented\n", map[string]string{"A": "1", "B": "x#not-a-comment"}, nil},
		{"hash right after equals is a value", "A=#x\n", map[string]string{"A": "#x"}, nil},
		{"hash after equals and space is a comment", "A= #x\n", map[string]string{"A": ""}, nil},
		{"byte-order mark", "\ufeffA=1\n", map[string]string{"A": "1"}, nil},
		{"single quotes are literal but unescape \\' and \\\\", `A='a\nb\'c\\d'`, map[string]string{"A": `a\nb'c\d`}, nil},
		{"double quotes decode escapes", `A="a\nb\t\"c\\"`, map[string]string{"A": "a\nb\t\"c\\"}, nil},
		{"unknown escapes stay", `A="\x\u"`, map[string]string{"A": `\x\u`}, nil},
		{"multi-line quoted value", "A=\"line1\nline2\"\nB=3\n", map[string]string{"A": "line1\nline2", "B": "3"}, nil},
		{"quoted value then comment", `A="x" # c`, map[string]string{"A": "x"}, nil},
		{"junk after quoted value", "A=\"x\" junk\nB=2\n", map[string]string{"B": "2"}, []int{1}},
		{"unterminated quote", "A=\"x\nB=2\n", map[string]string{"B": "2"}, []int{1}},
		{"backtracking closes on the last escaped quote", `A="x\"`, map[string]string{"A": `x\`}, nil},
		{"empty values", "A=\nB=''\nC=\"\"\n", map[string]string{"A": "", "B": "", "C": ""}, nil},
		{"key without value", "A\nB=1\n", map[string]string{"A": "<none>", "B": "1"}, nil},
		{"quoted key", "'A B'=1\n", map[string]string{"A B": "1"}, nil},
		{"bad statements are skipped with their line", "=x\nA=1\nB c\n", map[string]string{"A": "1"}, []int{1, 3}},
		{"later keys win", "A=1\nA=2\n", map[string]string{"A": "2"}, nil},
		{"CRLF line endings", "A=1\r\nB=\"2\"\r\n", map[string]string{"A": "1", "B": "2"}, nil},
		{"interpolation from file then env", "BASE=http://h\nA=${BASE}/api\nB=${FROM_ENV}\nSHADOWED=file\nC=${SHADOWED}\n",
			map[string]string{"BASE": "http://h", "A": "http://h/api", "B": "env-value", "SHADOWED": "file", "C": "file"}, nil},
		{"interpolation defaults", "A=${MISSING:-fallback}\nB=${MISSING}\nC=${FROM_ENV:-x}\n", map[string]string{"A": "fallback", "B": "", "C": "env-value"}, nil},
		{"bare $NAME and malformed ${ stay literal", "A=$FROM_ENV\nB=${FROM_ENV\nC=${A:B}\n", map[string]string{"A": "$FROM_ENV", "B": "${FROM_ENV", "C": "${A:B}"}, nil},
		{"colon without dash fails only up to the colon", "A=${x:y${FROM_ENV}\nB=${a${FROM_ENV}\n", map[string]string{"A": "${x:yenv-value", "B": ""}, nil},
		{"a key bound without value expands to empty", "N\nA=${N:-d}\n", map[string]string{"N": "<none>", "A": ""}, nil},
		{"single-quoted values are interpolated too", "A='${FROM_ENV}'\n", map[string]string{"A": "env-value"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parseDotenv(tt.content, env)
			got := map[string]string{}
			for key := range f.exact {
				b, _ := f.lookupExact(key)
				if b.hasValue {
					got[key] = b.value
				} else {
					got[key] = "<none>"
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q (all: %q)", k, got[k], v, got)
				}
			}
			if !slices.Equal(f.badLines, tt.badLines) {
				t.Errorf("bad lines = %v, want %v", f.badLines, tt.badLines)
			}
		})
	}
}

func TestScrubQuoted(t *testing.T) {
	tests := []struct{ in, want string }{
		{`expected value but found "pnu_secret" instead`, `expected value but found "…" instead`},
		{`invalid float: '1pnu_secret'`, `invalid float: '…'`},
		{`got '\n' instead`, `got '\n' instead`},
		{`Key 'a' has already been defined.`, `Key 'a' has already been defined.`},
		{`unbalanced "quote`, `unbalanced "quote`},
	}
	for _, tt := range tests {
		if got := scrubQuoted(tt.in); got != tt.want {
			t.Errorf("scrubQuoted(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
