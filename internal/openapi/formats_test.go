package openapi

import "testing"

func TestUUIDProblem(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"8f4e3f30-5ad8-4f3b-a0b4-2b9b9d5b6c11", ""},
		{"8F4E3F30-5AD8-4F3B-A0B4-2B9B9D5B6C11", ""},
		{"8f4e3f305ad84f3ba0b42b9b9d5b6c11", ""},
		{"{8f4e3f30-5ad8-4f3b-a0b4-2b9b9d5b6c11}", ""},
		{"urn:uuid:8f4e3f30-5ad8-4f3b-a0b4-2b9b9d5b6c11", ""},
		{"", "invalid length: expected length 32 for simple format, found 0"},
		{"abc", "invalid length: expected length 32 for simple format, found 3"},
		{"nope", "invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1"},
		{"urn:uuid:8f4e3f30-5ad8-4f3b-a0b4-2b9b9d5b6c1x", "invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `x` at 45"},
		{"8f4e3f30-5ad8-4f3b-a0b4", "invalid group count: expected 5, found 4"},
		{"8f4e3f30-5ad84-f3b-a0b4-2b9b9d5b6c11", "invalid group length in group 1: expected 4, found 5"},
		{"8f4e3f30-5ad8-4f3b-a0b4-2b9b9d5b6c11a", "invalid group length in group 4: expected 12, found 13"},
	}
	for _, tt := range tests {
		if got := uuidProblem(tt.in); got != tt.want {
			t.Errorf("uuidProblem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDateTimeProblem(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"2026-11-26T07:40:06.559062Z", ""},
		{"2026-11-26T07:40:06+00:00", ""},
		{"2026-11-26T07:40:06-0530", ""},
		{"2026-11-26t07:40:06z", ""},
		{"2026-11-26 07:40:06", ""},
		{"2026-11-26T07:40", ""},
		{"2026-11-26T07:40:06.123456789+01:00", ""},
		{"2026-11-26", ""},
		{"2024-02-29", ""},
		{"1764142806", ""},
		{"1764142806.5", ""},
		{"", "input is too short"},
		{"yesterday", "input is too short"},
		{"last tuesday", "invalid character in year"},
		{"2026/11/26", "invalid date separator, expected `-`"},
		{"2026-1x-26", "invalid character in month"},
		{"2026-11-2x", "invalid character in day"},
		{"2026-13-01T00:00:00Z", "month value is outside expected range of 1-12"},
		{"2025-02-29", "day value is outside expected range"},
		{"2026-11-26T25:00:00Z", "unexpected extra characters at the end of the input"},
		{"2026-11-26T07:40:06Zjunk", "unexpected extra characters at the end of the input"},
		{"2026-11-26X07:40:06", "unexpected extra characters at the end of the input"},
	}
	for _, tt := range tests {
		if got := dateTimeProblem(tt.in); got != tt.want {
			t.Errorf("dateTimeProblem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDurationProblem(t *testing.T) {
	tests := []struct {
		in    string
		valid bool
	}{
		{"P1D", true},
		{"PT1H30M", true},
		{"P1DT2H", true},
		{"01:30:00", true},
		{"1 day, 01:30:00", true},
		{"3600", true},
		{"1.5", true},
		{"", false},
		{"P", false},
		{"an hour", false},
	}
	for _, tt := range tests {
		if got := durationProblem(tt.in) == ""; got != tt.valid {
			t.Errorf("durationProblem(%q) valid = %v, want %v", tt.in, got, tt.valid)
		}
	}
}

func TestLaxCoercions(t *testing.T) {
	tests := []struct {
		in                     string
		asInt, asFloat, asBool bool
	}{
		{"10", true, true, false},
		{" 10 ", true, true, false},
		{"-3", true, true, false},
		{"1_000", true, true, false},
		{"5.0", true, true, false},
		{"5.5", false, true, false},
		{"ten", false, false, false},
		{"", false, false, false},
		{"1", true, true, true},
		{"Yes", false, false, true},
		{"off", false, false, true},
	}
	for _, tt := range tests {
		if laxInt(tt.in) != tt.asInt || laxFloat(tt.in) != tt.asFloat || laxBool(tt.in) != tt.asBool {
			t.Errorf("%q: int %v float %v bool %v; want %v %v %v", tt.in, laxInt(tt.in), laxFloat(tt.in), laxBool(tt.in), tt.asInt, tt.asFloat, tt.asBool)
		}
	}
}
