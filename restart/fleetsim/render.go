package fleetsim

import "time"

// The JSON shapes below mirror the ECS API's, field names included; only
// the fields the restart engine (or a person debugging it) reads are filled.

type wireTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func wireTags(tags []tag) []wireTag {
	out := make([]wireTag, len(tags))
	for i, t := range tags {
		out[i] = wireTag(t)
	}
	return out
}

type wireDeployment struct {
	ID                 string `json:"id"`
	Status             string `json:"status"`
	TaskDefinition     string `json:"taskDefinition"`
	DesiredCount       int32  `json:"desiredCount"`
	PendingCount       int32  `json:"pendingCount"`
	RunningCount       int32  `json:"runningCount"`
	FailedTasks        int32  `json:"failedTasks"`
	CreatedAt          epoch  `json:"createdAt"`
	UpdatedAt          epoch  `json:"updatedAt"`
	LaunchType         string `json:"launchType,omitempty"`
	RolloutState       string `json:"rolloutState,omitempty"`
	RolloutStateReason string `json:"rolloutStateReason,omitempty"`
}

type wireEvent struct {
	ID        string `json:"id"`
	CreatedAt epoch  `json:"createdAt"`
	Message   string `json:"message"`
}

type wireCircuitBreaker struct {
	Enable   bool `json:"enable"`
	Rollback bool `json:"rollback"`
}

type wireDeploymentConfiguration struct {
	DeploymentCircuitBreaker wireCircuitBreaker `json:"deploymentCircuitBreaker"`
	MaximumPercent           int32              `json:"maximumPercent"`
	MinimumHealthyPercent    int32              `json:"minimumHealthyPercent"`
	Strategy                 string             `json:"strategy,omitempty"`
}

var defaultDeploymentConfiguration = wireDeploymentConfiguration{
	DeploymentCircuitBreaker: wireCircuitBreaker{Enable: true, Rollback: true},
	MaximumPercent:           200, MinimumHealthyPercent: 100, Strategy: "ROLLING",
}

type wireService struct {
	ServiceArn              string                      `json:"serviceArn"`
	ServiceName             string                      `json:"serviceName"`
	ClusterArn              string                      `json:"clusterArn"`
	Status                  string                      `json:"status"`
	DesiredCount            int32                       `json:"desiredCount"`
	RunningCount            int32                       `json:"runningCount"`
	PendingCount            int32                       `json:"pendingCount"`
	LaunchType              string                      `json:"launchType,omitempty"`
	TaskDefinition          string                      `json:"taskDefinition"`
	DeploymentConfiguration wireDeploymentConfiguration `json:"deploymentConfiguration"`
	Deployments             []wireDeployment            `json:"deployments"`
	Events                  []wireEvent                 `json:"events"`
	CreatedAt               epoch                       `json:"createdAt"`
	SchedulingStrategy      string                      `json:"schedulingStrategy"`
	DeploymentController    struct {
		Type string `json:"type"`
	} `json:"deploymentController"`
	Tags                 []wireTag `json:"tags,omitempty"`
	CreatedBy            string    `json:"createdBy"`
	EnableECSManagedTags bool      `json:"enableECSManagedTags"`
	PropagateTags        string    `json:"propagateTags"`
	EnableExecuteCommand bool      `json:"enableExecuteCommand"`
}

// render is the service as DescribeServices shows it at now; tags only when
// asked for (include=TAGS), as ECS does.
func (s *Sim) render(sv *service, now time.Time, withTags bool) wireService {
	w := wireService{
		ServiceArn: sv.shownARN(), ServiceName: sv.name, ClusterArn: sv.clusterArn, Status: sv.status,
		DesiredCount: sv.desired, LaunchType: sv.launchType, TaskDefinition: sv.taskDef,
		DeploymentConfiguration: defaultDeploymentConfiguration,
		CreatedAt:               epoch(sv.createdAt), SchedulingStrategy: sv.scheduling,
		CreatedBy:     "arn:aws:iam::" + sv.account + ":role/platform-deployer",
		PropagateTags: "NONE", Deployments: []wireDeployment{}, Events: []wireEvent{},
	}
	w.DeploymentController.Type = sv.controller
	if sv.status == statusActive {
		per, running, pending := sv.deploymentCounts(now)
		w.RunningCount, w.PendingCount = running, pending
		noRollout := false
		if af := s.serviceFault(FaultNoRolloutState, sv); af != nil && len(sv.deployments) > 0 {
			noRollout = true
			af.fire()
		}
		for i, d := range sv.deployments {
			status, desired := deployActive, per[i][0]
			if i == 0 {
				status, desired = deployPrimary, d.desired
			}
			wd := wireDeployment{
				ID: d.id, Status: status, TaskDefinition: d.taskDef, DesiredCount: desired,
				RunningCount: per[i][0], PendingCount: per[i][1], FailedTasks: per[i][2],
				CreatedAt: epoch(d.createdAt), UpdatedAt: epoch(d.updatedAt), LaunchType: sv.launchType,
				RolloutState: d.rollout, RolloutStateReason: d.reason,
			}
			if noRollout {
				wd.RolloutState, wd.RolloutStateReason = "", ""
			}
			w.Deployments = append(w.Deployments, wd)
		}
	}
	for _, e := range sv.events {
		w.Events = append(w.Events, wireEvent{ID: e.id, CreatedAt: epoch(e.at), Message: e.message})
	}
	if withTags {
		w.Tags = wireTags(sv.shownTags())
	}
	return w
}

type wireContainerImage struct {
	ContainerName string `json:"containerName"`
	Image         string `json:"image"`
	ImageDigest   string `json:"imageDigest"`
}

type wireServiceRevision struct {
	ServiceRevisionArn string               `json:"serviceRevisionArn"`
	ServiceArn         string               `json:"serviceArn"`
	ClusterArn         string               `json:"clusterArn"`
	TaskDefinition     string               `json:"taskDefinition"`
	LaunchType         string               `json:"launchType,omitempty"`
	CreatedAt          epoch                `json:"createdAt"`
	ContainerImages    []wireContainerImage `json:"containerImages"`
}

type wireServiceDeploymentBrief struct {
	ServiceDeploymentArn     string `json:"serviceDeploymentArn"`
	ServiceArn               string `json:"serviceArn"`
	ClusterArn               string `json:"clusterArn"`
	StartedAt                epoch  `json:"startedAt"`
	CreatedAt                epoch  `json:"createdAt"`
	FinishedAt               *epoch `json:"finishedAt,omitempty"`
	TargetServiceRevisionArn string `json:"targetServiceRevisionArn"`
	Status                   string `json:"status"`
	StatusReason             string `json:"statusReason,omitempty"`
}

type wireRevisionSummary struct {
	Arn                string `json:"arn"`
	RequestedTaskCount int32  `json:"requestedTaskCount"`
	RunningTaskCount   int32  `json:"runningTaskCount"`
	PendingTaskCount   int32  `json:"pendingTaskCount"`
}

type wireServiceDeployment struct {
	ServiceDeploymentArn     string                      `json:"serviceDeploymentArn"`
	ServiceArn               string                      `json:"serviceArn"`
	ClusterArn               string                      `json:"clusterArn"`
	CreatedAt                epoch                       `json:"createdAt"`
	StartedAt                epoch                       `json:"startedAt"`
	FinishedAt               *epoch                      `json:"finishedAt,omitempty"`
	StoppedAt                *epoch                      `json:"stoppedAt,omitempty"`
	UpdatedAt                epoch                       `json:"updatedAt"`
	SourceServiceRevisions   []wireRevisionSummary       `json:"sourceServiceRevisions,omitempty"`
	TargetServiceRevision    *wireRevisionSummary        `json:"targetServiceRevision,omitempty"`
	Status                   string                      `json:"status"`
	StatusReason             string                      `json:"statusReason,omitempty"`
	DeploymentConfiguration  wireDeploymentConfiguration `json:"deploymentConfiguration"`
	Rollback                 *wireRollback               `json:"rollback,omitempty"`
	DeploymentCircuitBreaker *wireSDCircuitBreaker       `json:"deploymentCircuitBreaker,omitempty"`
}

type wireRollback struct {
	Reason             string `json:"reason"`
	StartedAt          epoch  `json:"startedAt"`
	ServiceRevisionArn string `json:"serviceRevisionArn"`
}

type wireSDCircuitBreaker struct {
	Status       string `json:"status"`
	FailureCount int32  `json:"failureCount"`
	Threshold    int32  `json:"threshold"`
}

// renderServiceDeployment is d as DescribeServiceDeployments shows it. A
// rollback is part of the service deployment it undoes: its status goes
// ROLLBACK_IN_PROGRESS, then ROLLBACK_SUCCESSFUL.
func (s *Sim) renderServiceDeployment(sv *service, d *deployment, now time.Time) wireServiceDeployment {
	running, pending, failed := sv.counts(d, now)
	w := wireServiceDeployment{
		ServiceDeploymentArn: d.sdArn, ServiceArn: sv.shownARN(), ClusterArn: sv.clusterArn,
		CreatedAt: epoch(d.createdAt), StartedAt: epoch(d.createdAt), UpdatedAt: epoch(d.updatedAt),
		TargetServiceRevision: &wireRevisionSummary{Arn: d.targetRev, RequestedTaskCount: d.desired, RunningTaskCount: running, PendingTaskCount: pending},
		Status:                d.sdStatus, StatusReason: d.sdReason,
		DeploymentConfiguration: defaultDeploymentConfiguration,
		DeploymentCircuitBreaker: &wireSDCircuitBreaker{
			Status: "MONITORING", FailureCount: failed, Threshold: failedTasks(d),
		},
	}
	if d.sourceRev != "" {
		w.SourceServiceRevisions = []wireRevisionSummary{{Arn: d.sourceRev, RequestedTaskCount: d.desired}}
	}
	if !d.finishedAt.IsZero() {
		w.FinishedAt = ptr(epoch(d.finishedAt))
	}
	if !d.sdStopped.IsZero() {
		w.StoppedAt = ptr(epoch(d.sdStopped))
	}
	if rb := d.rollbackFrom; rb != nil {
		w.DeploymentCircuitBreaker.Status = "TRIGGERED"
		w.DeploymentCircuitBreaker.FailureCount = failedTasks(d)
		w.Rollback = &wireRollback{
			Reason:    "Service deployment rolled back because the circuit breaker threshold was exceeded.",
			StartedAt: epoch(rb.createdAt), ServiceRevisionArn: d.sourceRev,
		}
	}
	return w
}
