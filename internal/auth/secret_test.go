package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	const value = "pnu_supersecretvalue"
	s := Secret(value)
	type holder struct{ S Secret }
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("msg", "secret", s, "holder", holder{s})
	asJSON, err := json.Marshal(holder{s})
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{
		fmt.Sprintf("%v|%s|%q|%x|%X|%d|%#v|%+v|%10s", s, s, s, s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", holder{s}, holder{s}, holder{s}),
		fmt.Sprint(s), s.String(), s.GoString(), string(asJSON), logged.String(),
		fmt.Errorf("wrapped: %v", s).Error(),
	}
	for _, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) {
			t.Errorf("secret revealed in %q", out)
		}
	}
	if s.Reveal() != value {
		t.Errorf("Reveal = %q", s.Reveal())
	}
	if Secret("").String() != "" {
		t.Errorf("empty secret prints %q", Secret("").String())
	}
}
