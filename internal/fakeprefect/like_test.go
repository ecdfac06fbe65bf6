package fakeprefect

import (
	"regexp"
	"strings"
	"testing"
)

// regexpLike is the reference: LIKE translated to a regular expression.
func regexpLike(s, pattern string, fold bool) bool {
	var re strings.Builder
	re.WriteString(`(?s)^`)
	if fold {
		re.WriteString(`(?i)`)
	}
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '%':
			re.WriteString(`.*`)
		case '_':
			re.WriteString(`.`)
		case '\\':
			if i+1 < len(pattern) {
				i++
				re.WriteString(regexp.QuoteMeta(string(pattern[i])))
			}
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString(`$`)
	return regexp.MustCompile(re.String()).MatchString(s)
}

// TestSQLLikeMatchesRegexp checks the hand-written LIKE against its
// regular-expression reading on every pair of sample texts and patterns.
func TestSQLLikeMatchesRegexp(t *testing.T) {
	texts := []string{"", "a", "ſtream", "KELVIN", "etl-hourly", "ETL-Hourly", "100%", "a_b", "a\\b", "abcabc", "multi\nline", "naïve-flow", "aaa"}
	patterns := []string{"", "%", "_", "%etl%", "etl%", "%hourly", "e_l%", "100\\%", "a\\_b", "%abc", "%a%b%c%", "a%a", "%\\\\%",
		"%LINE", "str%", "%k%", "na_ve%", "a%", "%a", "aa_", "___", "%_%", "\\", "abc\\"}
	for _, s := range texts {
		for _, p := range patterns {
			for _, fold := range []bool{false, true} {
				if got, want := sqlLike(s, p, fold), regexpLike(s, p, fold); got != want {
					t.Errorf("sqlLike(%q, %q, fold=%v) = %v, want %v", s, p, fold, got, want)
				}
			}
		}
	}
}

func FuzzSQLLike(f *testing.F) {
	f.Add("etl-hourly", "%etl%", true)
	f.Add("a_b", "a\\_b", false)
	f.Fuzz(func(t *testing.T, s, p string, fold bool) {
		if !utf8Valid(s) || !utf8Valid(p) {
			return
		}
		if got, want := sqlLike(s, p, fold), regexpLike(s, p, fold); got != want {
			t.Errorf("sqlLike(%q, %q, fold=%v) = %v, want %v", s, p, fold, got, want)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

func TestEscapeLike(t *testing.T) {
	for in, want := range map[string]string{"": "", "abc": "abc", `a%b_c\d`: `a\%b\_c\\d`, "né_": `né\_`} {
		if got := escapeLike(in); got != want {
			t.Errorf("escapeLike(%q) = %q, want %q", in, got, want)
		}
		if !sqlLike(in, escapeLike(in), false) {
			t.Errorf("%q does not match its own escaped pattern", in)
		}
	}
}
