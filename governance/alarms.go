package governance

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Thresholds are the values alarms fire at (config.AlarmThresholds without
// its tags, so platform converts one into the other). Counts are per five
// minutes.
type Thresholds struct {
	ALB5xx                   float64
	Target5xx                float64
	TargetResponseP95Seconds float64
	UnhealthyHosts           float64
	ECSCPUPercent            float64
	ECSMemoryPercent         float64
	RDSCPUPercent            float64
	RDSFreeStorageGiB        float64
	RDSFreeableMemoryMiB     float64
	RDSConnections           float64
	RDSReplicaLagSeconds     float64
	EFSBurstCreditGiB        float64
	EFSThroughputPercent     float64
	WAFBlockedRequests       float64
	PHPFatalErrors           float64
	NATPacketsDropped        float64
}

// ALBTarget is the load balancer in front of WordPress.
type ALBTarget struct {
	// LoadBalancerARNSuffix is the ALB's arnSuffix ("app/name/id"), the
	// LoadBalancer dimension of AWS/ApplicationELB.
	LoadBalancerARNSuffix pulumi.StringInput
	// TargetGroupARNSuffix is the target group's arnSuffix
	// ("targetgroup/name/id"), the TargetGroup dimension.
	TargetGroupARNSuffix pulumi.StringInput
}

// ECSTarget is the WordPress service.
type ECSTarget struct {
	ClusterName pulumi.StringInput
	ServiceName pulumi.StringInput
}

// RDSTarget is the database and its read replicas.
type RDSTarget struct {
	// InstanceID is the primary's DB instance identifier.
	InstanceID pulumi.StringInput
	// ReplicaIDs are the read replicas' identifiers, one lag alarm each.
	ReplicaIDs []pulumi.StringInput
}

// EFS throughput modes (CreateFileSystem ThroughputMode).
const (
	EFSBursting    = "bursting"
	EFSElastic     = "elastic"
	EFSProvisioned = "provisioned"
)

// EFSTarget is the wp-content file system.
type EFSTarget struct {
	FileSystemID pulumi.StringInput
	// ThroughputMode is bursting, elastic or provisioned: bursting file
	// systems are watched by their burst credits, the others by how much
	// of their permitted throughput they use.
	ThroughputMode string
}

// WAFTarget is the web ACL on the ALB.
type WAFTarget struct {
	// WebACLName is the WebACL dimension of AWS/WAFV2 (the ACL's name).
	WebACLName pulumi.StringInput
	// Region is the Region dimension of a regional (ALB) web ACL.
	Region string
}

// LogsTarget is WordPress's log group.
type LogsTarget struct {
	LogGroupName pulumi.StringInput
}

// NATTarget is the network's NAT gateways.
type NATTarget struct {
	GatewayIDs []pulumi.StringInput
}

// AlarmsArgs are what the alarms watch and where they notify. A nil target
// has no alarms and no dashboard widgets.
type AlarmsArgs struct {
	// TopicARN receives every alarm's ALARM and OK notifications.
	TopicARN   pulumi.StringInput
	Region     string
	Partition  string
	Thresholds Thresholds
	// Dashboard adds a CloudWatch dashboard of every target.
	Dashboard bool

	ALB  *ALBTarget
	ECS  *ECSTarget
	RDS  *RDSTarget
	EFS  *EFSTarget
	WAF  *WAFTarget
	Logs *LogsTarget
	NAT  *NATTarget

	Tags map[string]string
}

// Alarms are the stack's CloudWatch alarms and dashboard.
type Alarms struct {
	pulumi.ResourceState

	// AlarmARNs are every alarm declared.
	AlarmARNs pulumi.StringArrayOutput
	// DashboardURL opens the dashboard in the console ("" without one).
	DashboardURL pulumi.StringOutput
}

// alarm is one metric alarm before it is declared.
type alarm struct {
	suffix      string
	description string
	namespace   string
	metric      string
	dimensions  pulumi.StringMap
	statistic   string
	// extended is a percentile statistic ("p95"); it replaces statistic.
	extended   string
	period     int
	evaluate   int
	datapoints int
	comparison string
	threshold  float64
	// missing is how CloudWatch treats periods without data: every alarm
	// says so on purpose, because the default ("missing") would leave an
	// alarm of a quiet metric in INSUFFICIENT_DATA.
	missing string
	// queries replace namespace/metric with metric math.
	queries cloudwatch.MetricAlarmMetricQueryArray
}

const (
	above      = "GreaterThanThreshold"
	below      = "LessThanThreshold"
	gib        = 1 << 30
	mib        = 1 << 20
	notBreach  = "notBreaching"
	breach     = "breaching"
	keepMissed = "missing"
)

// NewAlarms declares an alarm per watched signal of every target given,
// each notifying the topic on ALARM and on OK, and the dashboard.
func NewAlarms(ctx *pulumi.Context, name string, args AlarmsArgs, opts ...pulumi.ResourceOption) (*Alarms, error) {
	a := &Alarms{}
	if err := ctx.RegisterComponentResource("wordpress:governance:Alarms", name, a, opts...); err != nil {
		return nil, err
	}
	if err := args.check(); err != nil {
		return nil, fmt.Errorf("alarms %s: %w", name, err)
	}

	specs, err := alarmSpecs(ctx, name, args, a)
	if err != nil {
		return nil, err
	}
	var arns pulumi.StringArray
	for _, s := range specs {
		m, err := declareAlarm(ctx, name, s, args, a)
		if err != nil {
			return nil, err
		}
		arns = append(arns, m.Arn)
	}
	a.AlarmARNs = arns.ToStringArrayOutput()

	a.DashboardURL = pulumi.String("").ToStringOutput()
	if args.Dashboard {
		url, err := DashboardURL(args.Partition, args.Region, name)
		if err != nil {
			return nil, err
		}
		if _, err := cloudwatch.NewDashboard(ctx, name, &cloudwatch.DashboardArgs{
			DashboardName: pulumi.String(name),
			DashboardBody: dashboardBody(name, args, arns),
		}, pulumi.Parent(a)); err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		a.DashboardURL = pulumi.String(url).ToStringOutput()
	}
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{"alarmArns": a.AlarmARNs, "dashboardUrl": a.DashboardURL})
}

func declareAlarm(ctx *pulumi.Context, name string, s alarm, args AlarmsArgs, parent pulumi.Resource) (*cloudwatch.MetricAlarm, error) {
	full := name + "-" + s.suffix
	in := &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(full),
		AlarmDescription:   pulumi.String(s.description),
		ComparisonOperator: pulumi.String(s.comparison),
		Threshold:          pulumi.Float64(s.threshold),
		EvaluationPeriods:  pulumi.Int(s.evaluate),
		DatapointsToAlarm:  pulumi.Int(s.datapoints),
		TreatMissingData:   pulumi.String(s.missing),
		ActionsEnabled:     pulumi.Bool(true),
		AlarmActions:       pulumi.Array{args.TopicARN},
		// OK tells the people paged that it is over, so nobody chases a
		// recovered alarm.
		OkActions: pulumi.Array{args.TopicARN},
		Tags:      pulumi.ToStringMap(args.Tags),
	}
	if len(s.queries) > 0 {
		in.MetricQueries = s.queries
	} else {
		in.Namespace = pulumi.String(s.namespace)
		in.MetricName = pulumi.String(s.metric)
		in.Dimensions = s.dimensions
		in.Period = pulumi.Int(s.period)
		if s.extended != "" {
			in.ExtendedStatistic = pulumi.String(s.extended)
			// A percentile of a handful of requests is noise: keep the
			// alarm's state until there are enough samples.
			in.EvaluateLowSampleCountPercentiles = pulumi.String("ignore")
		} else {
			in.Statistic = pulumi.String(s.statistic)
		}
	}
	m, err := cloudwatch.NewMetricAlarm(ctx, full, in, pulumi.Parent(parent))
	if err != nil {
		return nil, fmt.Errorf("alarm %s: %w", full, err)
	}
	return m, nil
}

// check refuses a target without the values its alarms need, so that a
// wiring mistake fails the preview instead of declaring an alarm on nothing.
func (args AlarmsArgs) check() error {
	if args.TopicARN == nil {
		return fmt.Errorf("TopicARN is required: every alarm notifies the alarm topic")
	}
	missing := func(target, field string) error {
		return fmt.Errorf("the %s target has no %s", target, field)
	}
	switch {
	case args.ALB != nil && args.ALB.LoadBalancerARNSuffix == nil:
		return missing("ALB", "LoadBalancerARNSuffix")
	case args.ECS != nil && (args.ECS.ClusterName == nil || args.ECS.ServiceName == nil):
		return missing("ECS", "ClusterName or ServiceName")
	case args.RDS != nil && args.RDS.InstanceID == nil:
		return missing("RDS", "InstanceID")
	case args.RDS != nil && slices.Contains(args.RDS.ReplicaIDs, nil):
		return missing("RDS", "identifier for one of its ReplicaIDs")
	case args.EFS != nil && args.EFS.FileSystemID == nil:
		return missing("EFS", "FileSystemID")
	case args.WAF != nil && (args.WAF.WebACLName == nil || args.WAF.Region == ""):
		return missing("WAF", "WebACLName or Region")
	case args.Logs != nil && args.Logs.LogGroupName == nil:
		return missing("Logs", "LogGroupName")
	case args.NAT != nil && slices.Contains(args.NAT.GatewayIDs, nil):
		return missing("NAT", "id for one of its GatewayIDs")
	}
	if args.EFS != nil {
		switch args.EFS.ThroughputMode {
		case EFSBursting, EFSElastic, EFSProvisioned:
		default:
			return fmt.Errorf("EFS throughput mode must be %q, %q or %q, got %q", EFSBursting, EFSElastic, EFSProvisioned, args.EFS.ThroughputMode)
		}
	}
	return nil
}

// alarmSpecs lists the alarms of every target given. Each says why it
// treats missing data the way it does.
func alarmSpecs(ctx *pulumi.Context, name string, args AlarmsArgs, parent pulumi.Resource) ([]alarm, error) {
	t := args.Thresholds
	var out []alarm
	if alb := args.ALB; alb != nil {
		lb := pulumi.StringMap{"LoadBalancer": alb.LoadBalancerARNSuffix}
		out = append(out,
			// The ALB publishes 5xx counts only when there are some: no
			// data means no errors.
			alarm{suffix: "alb-5xx", description: "The load balancer itself answered with 5xx (no healthy target, or targets unreachable)",
				namespace: "AWS/ApplicationELB", metric: "HTTPCode_ELB_5XX_Count", dimensions: lb, statistic: "Sum",
				period: 300, evaluate: 1, datapoints: 1, comparison: above, threshold: t.ALB5xx, missing: notBreach},
			alarm{suffix: "alb-target-5xx", description: "WordPress tasks answered with 5xx",
				namespace: "AWS/ApplicationELB", metric: "HTTPCode_Target_5XX_Count", dimensions: lb, statistic: "Sum",
				period: 300, evaluate: 1, datapoints: 1, comparison: above, threshold: t.Target5xx, missing: notBreach},
			// No requests, no response time: quiet is not slow.
			alarm{suffix: "alb-target-response-p95", description: "95th percentile of WordPress response time is high",
				namespace: "AWS/ApplicationELB", metric: "TargetResponseTime", dimensions: lb, extended: "p95",
				period: 60, evaluate: 5, datapoints: 3, comparison: above, threshold: t.TargetResponseP95Seconds, missing: notBreach},
		)
		if alb.TargetGroupARNSuffix != nil {
			// Host counts are published every minute while the target
			// group is in use: silence means the group or its load
			// balancer is gone, which is an outage.
			out = append(out, alarm{suffix: "alb-unhealthy-hosts", description: "WordPress tasks fail the load balancer's health check",
				namespace: "AWS/ApplicationELB", metric: "UnHealthyHostCount",
				dimensions: pulumi.StringMap{"LoadBalancer": alb.LoadBalancerARNSuffix, "TargetGroup": alb.TargetGroupARNSuffix},
				statistic:  "Maximum", period: 60, evaluate: 3, datapoints: 3, comparison: above, threshold: t.UnhealthyHosts, missing: breach})
		}
	}
	if ecs := args.ECS; ecs != nil {
		dims := pulumi.StringMap{"ClusterName": ecs.ClusterName, "ServiceName": ecs.ServiceName}
		// Utilization exists only while tasks run; no tasks is caught by
		// the unhealthy-hosts alarm, and calling it "high CPU" would mislead.
		for _, m := range []struct {
			suffix, metric, what string
			threshold            float64
		}{
			{"ecs-cpu", "CPUUtilization", "CPU", t.ECSCPUPercent},
			{"ecs-memory", "MemoryUtilization", "memory", t.ECSMemoryPercent},
		} {
			out = append(out, alarm{suffix: m.suffix, description: "WordPress service " + m.what + " utilization is high",
				namespace: "AWS/ECS", metric: m.metric, dimensions: dims, statistic: "Average",
				period: 300, evaluate: 3, datapoints: 3, comparison: above, threshold: m.threshold, missing: notBreach})
		}
	}
	if rds := args.RDS; rds != nil {
		dims := pulumi.StringMap{"DBInstanceIdentifier": rds.InstanceID}
		out = append(out,
			// RDS publishes every minute while the instance is available.
			// The storage alarm is the one that pages on silence (a
			// stopped or failed instance); the others stay quiet so that
			// one outage is one page.
			alarm{suffix: "rds-free-storage", description: "Database free storage is low (or the instance stopped reporting)",
				namespace: "AWS/RDS", metric: "FreeStorageSpace", dimensions: dims, statistic: "Minimum",
				period: 300, evaluate: 1, datapoints: 1, comparison: below, threshold: t.RDSFreeStorageGiB * gib, missing: breach},
			alarm{suffix: "rds-cpu", description: "Database CPU utilization is high",
				namespace: "AWS/RDS", metric: "CPUUtilization", dimensions: dims, statistic: "Average",
				period: 300, evaluate: 3, datapoints: 3, comparison: above, threshold: t.RDSCPUPercent, missing: notBreach},
			alarm{suffix: "rds-freeable-memory", description: "Database freeable memory is low",
				namespace: "AWS/RDS", metric: "FreeableMemory", dimensions: dims, statistic: "Minimum",
				period: 300, evaluate: 3, datapoints: 3, comparison: below, threshold: t.RDSFreeableMemoryMiB * mib, missing: notBreach},
			alarm{suffix: "rds-connections", description: "Database connections are near the limit",
				namespace: "AWS/RDS", metric: "DatabaseConnections", dimensions: dims, statistic: "Maximum",
				period: 300, evaluate: 3, datapoints: 3, comparison: above, threshold: t.RDSConnections, missing: notBreach},
		)
		for i, id := range rds.ReplicaIDs {
			// ReplicaLag is published every minute while replication
			// runs: silence means the replica is down or replication
			// stopped, and readers are served stale pages.
			out = append(out, alarm{suffix: fmt.Sprintf("rds-replica-%d-lag", i+1), description: fmt.Sprintf("Read replica %d lags behind the primary", i+1),
				namespace: "AWS/RDS", metric: "ReplicaLag", dimensions: pulumi.StringMap{"DBInstanceIdentifier": id}, statistic: "Maximum",
				period: 60, evaluate: 5, datapoints: 3, comparison: above, threshold: t.RDSReplicaLagSeconds, missing: breach})
		}
	}
	if efs := args.EFS; efs != nil {
		dims := pulumi.StringMap{"FileSystemId": efs.FileSystemID}
		if efs.ThroughputMode == EFSBursting {
			// Credits drain over hours: a gap in data is not urgent, so
			// the alarm keeps its state (and the dashboard shows it).
			out = append(out, alarm{suffix: "efs-burst-credits", description: "wp-content file system is running out of burst credits",
				namespace: "AWS/EFS", metric: "BurstCreditBalance", dimensions: dims, statistic: "Minimum",
				period: 300, evaluate: 1, datapoints: 1, comparison: below, threshold: t.EFSBurstCreditGiB * gib, missing: keepMissed})
		} else {
			// Percent of permitted throughput used (AWS EFS guide, "Using
			// metric math": MeteredIOBytes per second over
			// PermittedThroughput). MeteredIOBytes has no data while idle,
			// and an idle file system is not throttled.
			out = append(out, alarm{suffix: "efs-throughput", description: "wp-content file system uses most of its permitted throughput",
				comparison: above, threshold: t.EFSThroughputPercent, evaluate: 5, datapoints: 3, missing: notBreach,
				queries: cloudwatch.MetricAlarmMetricQueryArray{
					cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String("io"), ReturnData: pulumi.Bool(false), Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
						Namespace: pulumi.String("AWS/EFS"), MetricName: pulumi.String("MeteredIOBytes"), Dimensions: dims, Stat: pulumi.String("Sum"), Period: pulumi.Int(60)}},
					cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String("permitted"), ReturnData: pulumi.Bool(false), Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
						Namespace: pulumi.String("AWS/EFS"), MetricName: pulumi.String("PermittedThroughput"), Dimensions: dims, Stat: pulumi.String("Average"), Period: pulumi.Int(60)}},
					cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String("utilization"), ReturnData: pulumi.Bool(true), Label: pulumi.String("Throughput utilization (%)"),
						Expression: pulumi.String("(io/PERIOD(io))*100/permitted")},
				}})
		}
	}
	if waf := args.WAF; waf != nil {
		// WAF publishes BlockedRequests only when it blocks something.
		out = append(out, alarm{suffix: "waf-blocked-spike", description: "The web ACL blocks an unusual number of requests (an attack, or a rule blocking real users)",
			namespace: "AWS/WAFV2", metric: "BlockedRequests",
			dimensions: pulumi.StringMap{"WebACL": waf.WebACLName, "Region": pulumi.String(waf.Region), "Rule": pulumi.String("ALL")},
			statistic:  "Sum", period: 300, evaluate: 1, datapoints: 1, comparison: above, threshold: t.WAFBlockedRequests, missing: notBreach})
	}
	if logs := args.Logs; logs != nil {
		if _, err := cloudwatch.NewLogMetricFilter(ctx, name+"-php-fatal-errors", &cloudwatch.LogMetricFilterArgs{
			Name:         pulumi.String(name + "-php-fatal-errors"),
			LogGroupName: logs.LogGroupName,
			// PHP writes "PHP Fatal error:  Uncaught ..." to the error log,
			// which the WordPress image sends to stderr.
			Pattern: pulumi.String(`"PHP Fatal error"`),
			MetricTransformation: &cloudwatch.LogMetricFilterMetricTransformationArgs{
				Name:      pulumi.String("PHPFatalErrors"),
				Namespace: pulumi.String(phpNamespace(name)),
				Value:     pulumi.String("1"),
			},
		}, pulumi.Parent(parent)); err != nil {
			return nil, fmt.Errorf("php fatal error metric filter: %w", err)
		}
		// Without a default value the filter publishes only on a match:
		// no data means no fatal errors.
		out = append(out, alarm{suffix: "php-fatal-errors", description: "WordPress logged PHP fatal errors",
			namespace: phpNamespace(name), metric: "PHPFatalErrors", statistic: "Sum",
			period: 300, evaluate: 1, datapoints: 1, comparison: above, threshold: t.PHPFatalErrors, missing: notBreach})
	}
	if nat := args.NAT; nat != nil {
		for i, id := range nat.GatewayIDs {
			dims := pulumi.StringMap{"NatGatewayId": id}
			// A NAT gateway without traffic publishes nothing, and no
			// traffic has no errors.
			out = append(out,
				alarm{suffix: fmt.Sprintf("nat-%d-port-allocation", i+1), description: fmt.Sprintf("NAT gateway %d could not allocate a source port: outbound connections fail", i+1),
					namespace: "AWS/NATGateway", metric: "ErrorPortAllocation", dimensions: dims, statistic: "Sum",
					period: 300, evaluate: 1, datapoints: 1, comparison: above, threshold: 0, missing: notBreach},
				alarm{suffix: fmt.Sprintf("nat-%d-packets-dropped", i+1), description: fmt.Sprintf("NAT gateway %d drops packets", i+1),
					namespace: "AWS/NATGateway", metric: "PacketsDropCount", dimensions: dims, statistic: "Sum",
					period: 300, evaluate: 1, datapoints: 1, comparison: above, threshold: t.NATPacketsDropped, missing: notBreach},
			)
		}
	}
	return out, nil
}

// phpNamespace is the custom metric namespace of a stack's log metrics.
func phpNamespace(name string) string { return "WordPress/" + name }
