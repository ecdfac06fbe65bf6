package tools_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: stalled
// upstream requests, sessions and fakes must all end with their test.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
