package tools

import (
	"strings"
	"testing"
)

// Schemas are resolved on a tool's first call, not at registration: every
// one must resolve, or that tool would answer every call with an error.
func TestEveryInputSchemaResolves(t *testing.T) {
	for _, d := range All() {
		if _, err := d.schema(); err != nil {
			t.Errorf("%s: %v", d.Name, err)
		}
	}
}

func TestValidateArgs(t *testing.T) {
	byName := map[string]Definition{}
	for _, d := range All() {
		byName[d.Name] = d
	}
	for _, tc := range []struct {
		tool, args, want, wantErr string
	}{
		{tool: ToolGetFlows, args: "", want: `{}`},
		{tool: ToolGetFlows, args: `{"limit":200}`, want: `{"limit":200}`},
		{tool: ToolGetFlows, args: `{"limit":201}`, wantErr: "maximum"},
		{tool: ToolGetFlows, args: `{"limit":0}`, wantErr: "minimum"},
		{tool: ToolGetFlows, args: `{"limit":"5"}`, wantErr: "type"},
		{tool: ToolGetFlows, args: `[1]`, wantErr: "unmarshaling arguments"},
		{tool: ToolDocsGetReleaseNotes, args: `{}`, want: `{"version":"latest"}`}, // the schema's default is filled
	} {
		d, ok := byName[tc.tool]
		if !ok {
			t.Fatalf("no tool %s", tc.tool)
		}
		got, err := validateArgs(d.schema, []byte(tc.args))
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s %s: error %v, want one naming %q", tc.tool, tc.args, err, tc.wantErr)
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s %s: %v", tc.tool, tc.args, err)
		case tc.wantErr == "" && string(got) != tc.want:
			t.Errorf("%s %s: got %s, want %s", tc.tool, tc.args, got, tc.want)
		}
	}
}
