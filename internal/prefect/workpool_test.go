package prefect

import "testing"

// TestWorkPoolNeedsNoWorker: the rule Prefect's WorkPool.is_push_pool and
// is_managed_pool apply, shared by get_work_pools and the diagnoses (the
// diagnoses used to know only prefect:managed).
func TestWorkPoolNeedsNoWorker(t *testing.T) {
	for typ, want := range map[string]bool{
		"prefect:managed": true, "modal:managed": true, "ecs:push": true, "cloud-run:push": true,
		"kubernetes": false, "process": false, "docker": false, "push": false, "managed": false,
	} {
		if got := (WorkPool{Type: typ}).NeedsNoWorker(); got != want {
			t.Errorf("%q: NeedsNoWorker() = %v, want %v", typ, got, want)
		}
	}
}
