package tools

import "testing"

func TestClipMiddle(t *testing.T) {
	if got := clipMiddle("short", 10); got != "short" {
		t.Errorf("clipMiddle kept-whole case = %q", got)
	}
	got := clipMiddle("Validation failed: '500' is not of type 'integer'", 20)
	if got != "Validation…[29 chars cut]… 'integer'" {
		t.Errorf("clipMiddle = %q", got)
	}
	if got := clipMiddle("ééééééééééé", 5); got != "é…[18 chars cut]…é" {
		t.Errorf("clipMiddle on runes = %q", got)
	}
}
