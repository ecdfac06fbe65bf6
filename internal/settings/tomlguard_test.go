package settings

import (
	"strings"
	"testing"
)

func TestCheckTOMLShape(t *testing.T) {
	deepKey := strings.Repeat("a.", maxTOMLKeyParts) + "b"
	okKey := strings.Repeat("a.", maxTOMLKeyParts-1) + "b"
	tests := []struct {
		name     string
		src      string
		wantLine int
	}{
		{"ordinary pyproject", "[project]\nname = \"x\"\n[tool.poetry.group.dev.dependencies]\npytest = { version = \"^8.0\", extras = [\"a\"] }\n[tool.prefect.api]\nurl = \"http://x/api\"\nrequest_timeout = 1.5\n", 0},
		{"brackets and dots inside strings and comments", "a = \"[[[[{{{{....\" # [[[[ ....\nb = '[[[[....'\nc = \"\"\"\n[[[[\n....\"\"\"\nd = '''[[[[....'''\n", 0},
		{"escaped quote keeps the string open", "a = \"\\\"[[[[[[[[[[[[[[[[[[[[\"\n", 0},
		{"floats are not key parts", "a = [" + strings.Repeat("1.5, ", 100) + "]\n", 0},
		{"key at the limit", okKey + " = 1\n", 0},
		{"header at the limit", "[" + okKey + "]\n", 0},
		{"too many key parts", "x = 1\n" + deepKey + " = 1\n", 2},
		{"too many header parts", "\n\n[" + deepKey + "]\n", 3},
		{"dotted key inside an inline table", "x = {" + deepKey + " = 1}\n", 1},
		{"nesting at the limit", "x = " + strings.Repeat("[", maxTOMLNesting) + strings.Repeat("]", maxTOMLNesting) + "\n", 0},
		{"arrays nested too deep", "x = " + strings.Repeat("[", maxTOMLNesting+1) + "\n", 1},
		{"inline tables nested too deep", "x = " + strings.Repeat("{a=", maxTOMLNesting+1) + "1" + strings.Repeat("}", maxTOMLNesting+1) + "\n", 1},
		{"multi-line string lines are counted", "a = \"\"\"\n\n\"\"\"\nx = " + strings.Repeat("[", maxTOMLNesting+1) + "\n", 4},
		{"multi-line array keeps value context", "x = [\n" + strings.Repeat("1.5,\n", 40) + "]\n" + okKey + " = 2\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, reason := checkTOMLShape(tt.src)
			if line != tt.wantLine {
				t.Errorf("line = %d (%q), want %d", line, reason, tt.wantLine)
			}
			if tt.wantLine == 0 {
				if _, err := decodeTOML("f.toml", tt.src); err != nil {
					t.Errorf("valid file refused: %v", err)
				}
			}
		})
	}
}

func TestDeepTOMLIsRefusedWithItsLine(t *testing.T) {
	src := "[api]\nurl = \"http://x/api\"\nz = " + strings.Repeat("{a=", 10000) + "\n"
	_, err := decodeTOML("prefect.toml", src)
	e, ok := err.(*Error)
	if !ok || e.Line != 3 || !strings.Contains(e.Reason, "nested more than") {
		t.Fatalf("error = %v, want nesting refusal on line 3", err)
	}
}
