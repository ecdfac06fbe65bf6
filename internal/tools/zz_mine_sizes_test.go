package tools_test

import (
	"encoding/json"
	"testing"
)

func TestZZMineToolSizes(t *testing.T) {
	for _, tool := range allTools(t) {
		b, _ := json.Marshal(tool)
		t.Logf("%-28s %5d desc %5d", tool.Name, len(b), len(tool.Description))
	}
}
