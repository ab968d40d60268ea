package cost

// Usage is what the plan cannot know: traffic, volume and requests per
// month. Each stack states its own in wordpress:cost.usage; these are the
// defaults, sized for a small WordPress site and the seed's fleet.
type Usage struct {
	// NATGBPerMonth is the data processed by all NAT gateways together.
	NATGBPerMonth float64 `json:"natGbPerMonth"`
	// EndpointGBPerMonth is the data processed by each interface endpoint.
	EndpointGBPerMonth float64 `json:"endpointGbPerMonth"`
	// LogsGBPerGroup is the log volume each log group ingests per month
	// (and keeps, for storage).
	LogsGBPerGroup float64 `json:"logsGbPerGroup"`
	// ALBLCUs is the load balancer's average capacity units.
	ALBLCUs float64 `json:"albLcus"`
	// WAFRequestsMillions is requests inspected by the web ACL.
	WAFRequestsMillions float64 `json:"wafRequestsMillions"`
	// EFSGB is the WordPress file system's stored data (wp-content).
	EFSGB float64 `json:"efsGb"`
	// S3GBPerBucket is the data each bucket keeps (logs, Config history).
	S3GBPerBucket float64 `json:"s3GbPerBucket"`
	// ConfigItemsPerMonth is what AWS Config records; the nightly restart
	// adds one item per ECS service per night unless ECS services are
	// excluded from recording.
	ConfigItemsPerMonth float64 `json:"configItemsPerMonth"`
	// ConfigRuleEvaluationsPerMonth is what the managed rules evaluate.
	ConfigRuleEvaluationsPerMonth float64 `json:"configRuleEvaluationsPerMonth"`
	// SecurityHubChecksPerMonth is the security checks run.
	SecurityHubChecksPerMonth float64 `json:"securityHubChecksPerMonth"`
	// GuardDutyEventsMillions and GuardDutyLogsGB are what GuardDuty
	// analyses (CloudTrail events; VPC flow and DNS logs).
	GuardDutyEventsMillions float64 `json:"guardDutyEventsMillions"`
	GuardDutyLogsGB         float64 `json:"guardDutyLogsGb"`
	// RestartServices is how many services the nightly restart handles;
	// the pipeline's transitions, invocations and writes scale with it.
	RestartServices float64 `json:"restartServices"`
	// NightsPerMonth is how often the restart runs.
	NightsPerMonth float64 `json:"nightsPerMonth"`
	// StateTransitionsPerNight is what one night's state machine takes; it
	// grows with the batches, not the services (payloads carry ids).
	StateTransitionsPerNight float64 `json:"stateTransitionsPerNight"`
	// LambdaInvocationsPerNight and LambdaSecondsPerInvocation are the
	// night's function calls and their average duration.
	LambdaInvocationsPerNight  float64 `json:"lambdaInvocationsPerNight"`
	LambdaSecondsPerInvocation float64 `json:"lambdaSecondsPerInvocation"`
	// ContainerInsightsMetrics is the custom metrics Container Insights
	// publishes for the cluster.
	ContainerInsightsMetrics float64 `json:"containerInsightsMetrics"`
}

// DefaultUsage is the usage a stack gets for every field it does not set.
func DefaultUsage() Usage {
	return Usage{
		NATGBPerMonth:                 50,
		EndpointGBPerMonth:            5,
		LogsGBPerGroup:                1,
		ALBLCUs:                       1,
		WAFRequestsMillions:           5,
		EFSGB:                         5,
		S3GBPerBucket:                 5,
		ConfigItemsPerMonth:           3000,
		ConfigRuleEvaluationsPerMonth: 20000,
		SecurityHubChecksPerMonth:     5000,
		GuardDutyEventsMillions:       1,
		GuardDutyLogsGB:               5,
		RestartServices:               10000,
		NightsPerMonth:                30,
		StateTransitionsPerNight:      400,
		LambdaInvocationsPerNight:     150,
		LambdaSecondsPerInvocation:    5,
		ContainerInsightsMetrics:      30,
	}
}
