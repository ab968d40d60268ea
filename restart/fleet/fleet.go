// Package fleet holds the domain of the daily restart: the services found in
// the member accounts, which of them are restarted and why, the batches of
// the night and the record of each restart. It imports nothing from AWS so
// that the planner and the eligibility rules can be tested, fuzzed and
// benchmarked without a network.
package fleet

import "time"

// RestartTag is the standard tag that enrols a service in the daily restart
// and holds the time of its last restart (RFC 3339, UTC). The value
// "disabled" opts the service out.
const RestartTag = "ecs_task_daily_restart"

// OptOutValue is the RestartTag value that opts a service out.
const OptOutValue = "disabled"

// Service is one ECS service as discovery saw it. The JSON form is the
// inventory format that `restartctl plan --inventory` reads.
type Service struct {
	Account              string            `json:"account"`
	Region               string            `json:"region"`
	Cluster              string            `json:"cluster"`
	Service              string            `json:"service"`
	ARN                  string            `json:"arn"`
	DesiredCount         int32             `json:"desiredCount"`
	SchedulingStrategy   string            `json:"schedulingStrategy"`
	DeploymentController string            `json:"deploymentController"`
	Tags                 map[string]string `json:"tags"`
	// ShortARN is set for a service created before ECS's long ARN format:
	// ECS reports it as arn:aws:ecs:<region>:<account>:service/<name>,
	// which two clusters' services of the same name share, and it cannot
	// be tagged. ARN then holds the long form
	// (arn:aws:ecs:<region>:<account>:service/<cluster>/<name>), the
	// service's key everywhere in the engine.
	ShortARN bool `json:"shortArn,omitempty"`
}

// ClusterKey identifies a cluster across accounts and regions.
func (s Service) ClusterKey() string { return s.Account + "/" + s.Region + "/" + s.Cluster }

// Owner is the team to notify about the service: the "owner" tag, else the
// "team" tag, else empty (the platform team's default topic).
func (s Service) Owner() string {
	if o := s.Tags["owner"]; o != "" {
		return o
	}
	return s.Tags["team"]
}

// Enrollment says which services are restarted.
type Enrollment string

const (
	// EnrollTagged restarts only services that carry RestartTag; the others
	// are reported to their owners as unenrolled.
	EnrollTagged Enrollment = "tagged"
	// EnrollAll restarts untagged services too, still reporting them.
	EnrollAll Enrollment = "all"
)

// Reason says why a service is not restarted.
type Reason string

// The reasons a service is skipped.
const (
	ReasonDesiredZero        Reason = "desired-count-zero"
	ReasonExternalController Reason = "external-deployment-controller"
	ReasonCodeDeploy         Reason = "code-deploy-controller"
	ReasonOptedOut           Reason = "opted-out"
	ReasonUnenrolled         Reason = "unenrolled"
	// ReasonShortARN is an untagged service that cannot be tagged: it has
	// a short ARN (Service.ShortARN), so adding the tag is no fix.
	ReasonShortARN  Reason = "short-arn"
	ReasonDuplicate Reason = "duplicate-arn"
	ReasonInvalid   Reason = "invalid-inventory-entry"
)

// Skip is a service that is not restarted, with the reason.
type Skip struct {
	ARN    string `json:"arn"`
	Reason Reason `json:"reason"`
}

// Window is the part of the night in which restarts may start.
type Window struct {
	// Start is the offset from local midnight of the first batch (00:00).
	Start time.Duration
	// Length is how long the window lasts (6h).
	Length time.Duration
	// Interval is the time between two batch starts (10m).
	Interval time.Duration
	// VerifyReserve is kept free at the end of the window so that the last
	// batch can be verified before the window closes.
	VerifyReserve time.Duration
}

// Batch is the services restarted together in one slot of the window.
type Batch struct {
	Index int `json:"index"`
	// Start is the slot's start as "HH:MM" local time.
	Start string `json:"start"`
	// Offset is Start as an offset from the midnight before the window
	// opens: past 24h for slots after midnight in a window that crosses it
	// (see Window.SlotOffset).
	Offset   time.Duration `json:"-"`
	Services []string      `json:"services"`
}

// Plan is the night's batches and the services left out.
type Plan struct {
	Batches []Batch `json:"batches"`
	Skipped []Skip  `json:"skipped"`
}

// Status is where one service's restart stands.
type Status string

// The states of a restart.
const (
	StatusPlanned    Status = "planned"
	StatusStarted    Status = "in-progress"
	StatusCompleted  Status = "completed"
	StatusFailed     Status = "failed"
	StatusRolledBack Status = "rolled-back"
	StatusGone       Status = "gone"
)

// Final reports whether no further check can change the status.
func (s Status) Final() bool {
	switch s {
	case StatusCompleted, StatusFailed, StatusRolledBack, StatusGone:
		return true
	}
	return false
}

// RunRecord is the record of one service's restart on one day; (Day, ARN)
// is unique so that a service is restarted at most once a day.
type RunRecord struct {
	Day          string    `json:"day"`
	ARN          string    `json:"arn"`
	Account      string    `json:"account"`
	Region       string    `json:"region"`
	Cluster      string    `json:"cluster"`
	Service      string    `json:"service"`
	Batch        int       `json:"batch"`
	DeploymentID string    `json:"deploymentId,omitempty"`
	Status       Status    `json:"status"`
	Detail       string    `json:"detail,omitempty"`
	StartedAt    time.Time `json:"startedAt,omitzero"`
	FinishedAt   time.Time `json:"finishedAt,omitzero"`
}
