package prefecttest

import (
	"io/fs"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/fakeprefect"
)

// The data model and the seeded workspaces live in fakeprefect; these names
// keep the tests' vocabulary in one import.

// Data is a set of Prefect objects; see fakeprefect.Data.
type Data = fakeprefect.Data

// SampleRequest is one entry of a captured samples/_index.json.
type SampleRequest = fakeprefect.SampleRequest

// Collection names accepted by Put and Data.Add.
const (
	Flows               = fakeprefect.Flows
	FlowRuns            = fakeprefect.FlowRuns
	TaskRuns            = fakeprefect.TaskRuns
	Logs                = fakeprefect.Logs
	FlowRunStates       = fakeprefect.FlowRunStates
	TaskRunStates       = fakeprefect.TaskRunStates
	Deployments         = fakeprefect.Deployments
	WorkPools           = fakeprefect.WorkPools
	WorkQueues          = fakeprefect.WorkQueues
	Workers             = fakeprefect.Workers
	ConcurrencyLimits   = fakeprefect.ConcurrencyLimits
	V2ConcurrencyLimits = fakeprefect.V2ConcurrencyLimits
	Automations         = fakeprefect.Automations
	Events              = fakeprefect.Events
	Artifacts           = fakeprefect.Artifacts
	Variables           = fakeprefect.Variables
	BlockTypes          = fakeprefect.BlockTypes
	BlockDocuments      = fakeprefect.BlockDocuments
	RateLimitUsage      = fakeprefect.RateLimitUsage
)

// Names of the demo workspace and of the Cloud identity that tests refer to.
const (
	DemoProcessPool     = fakeprefect.DemoProcessPool
	DemoKubernetesPool  = fakeprefect.DemoKubernetesPool
	DemoTagLimit        = fakeprefect.DemoTagLimit
	DemoFullGlobalLimit = fakeprefect.DemoFullGlobalLimit
	DemoCrashMessage    = fakeprefect.DemoCrashMessage
	CloudUserEmail      = fakeprefect.CloudUserEmail
	CloudUserHandle     = fakeprefect.CloudUserHandle
	CloudUserID         = fakeprefect.CloudUserID
)

// NewData returns an empty data set.
func NewData() *Data { return fakeprefect.NewData() }

// Demo is fakeprefect.Demo: the demo workspace as of now.
func Demo(now time.Time) *Data { return fakeprefect.Demo(now) }

// Large is fakeprefect.Large: the demo plus a generated large workspace.
func Large(now time.Time) *Data { return fakeprefect.Large(now) }

// DemoID is fakeprefect.DemoID: the deterministic id of a demo object.
func DemoID(kind, name string) string { return fakeprefect.DemoID(kind, name) }

// CollectionNames returns the names Put accepts.
func CollectionNames() []string { return fakeprefect.CollectionNames() }

// SampleCollection names the collection of a captured sample.
func SampleCollection(name string) string { return fakeprefect.SampleCollection(name) }

// LoadSampleIndex reads _index.json from dir.
func LoadSampleIndex(dir fs.FS) (map[string]SampleRequest, error) {
	return fakeprefect.LoadSampleIndex(dir)
}

// LoadSamples loads the objects of the captures listed in dir's _index.json.
func LoadSamples(dir fs.FS) (*Data, error) { return fakeprefect.LoadSamples(dir) }
