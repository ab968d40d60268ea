package pipeline

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/restart/workflow"
)

// MetricsNamespace is the namespace of the engine's Embedded Metric Format
// lines (restart/report.Namespace; repeated so that the Pulumi program does
// not import the engine).
const MetricsNamespace = "DailyRestart"

// alarm is one CloudWatch alarm: a metric above zero (or above Threshold)
// in a five-minute period.
type alarm struct {
	name, description string
	namespace, metric string
	stat              string
	dimensions        map[string]string
	threshold         float64
}

// Alarms are every alarm of the pipeline, for the stack's names.
func (a Args) alarms(n names) []alarm {
	sm := map[string]string{"StateMachineArn": a.arn("states", "stateMachine:"+n.stateMachine)}
	states := func(metric, what string) alarm {
		return alarm{name: "execution-" + what, description: "The nightly restart's execution " + what, namespace: "AWS/States", metric: metric, stat: "Sum", dimensions: sm}
	}
	// The engine's metrics carry the stack (STACK): another pipeline in
	// the account and Region reports its own nights.
	var stack map[string]string
	if a.Stack != "" {
		stack = map[string]string{"Stack": a.Stack}
	}
	engine := func(metric, name, description string) alarm {
		return alarm{name: name, description: description, namespace: MetricsNamespace, metric: metric, stat: "Maximum", dimensions: stack}
	}
	queue := func(q, what string) alarm {
		return alarm{name: what, description: "Messages in " + q + ": " + what, namespace: "AWS/SQS", metric: "ApproximateNumberOfMessagesVisible", stat: "Maximum", dimensions: map[string]string{"QueueName": q}}
	}
	out := []alarm{
		states("ExecutionsFailed", "failed"),
		states("ExecutionsTimedOut", "timed-out"),
		states("ExecutionsAborted", "aborted"),
		{
			name:        "run-not-finished-by-window-end",
			description: fmt.Sprintf("The nightly restart ran past its %v window (an execution that never ends times out and raises execution-timed-out)", a.Window.Length),
			namespace:   "AWS/States", metric: "ExecutionTime", stat: "Maximum", dimensions: sm,
			threshold: float64(a.Window.Length.Milliseconds()),
		},
		engine("Failed", "restarts-failed", "Services whose restart failed"),
		engine("RolledBack", "restarts-rolled-back", "Services whose restart the deployment circuit breaker rolled back"),
		engine("InProgress", "restarts-unfinished-at-report", "Restarts still rolling out when the night was reported, after the window's verify reserve"),
		engine("AccountsFailed", "accounts-failed", "Member accounts or Regions discovery could not read (member role missing or not trusted?)"),
		// Written by the step that was refused, as it ends (engine
		// MetricAccessDenied): a denial the step survives still pages.
		engine("AccessDenied", "access-denied", "Requests AWS refused a restart step for lack of permission: a function's role or the member role lacks an action, or a member account's role is missing or does not trust the hub"),
		engine("Halted", "night-halted-by-circuit-breaker", "The fleet's circuit breaker stopped the night: tonight's failed and rolled-back restarts reached its threshold; nothing more is restarted today until `restartctl resume` (the summary lists the failures and what each restart changed)"),
		engine("AccountsHalted", "accounts-halted-by-circuit-breaker", "Member accounts whose own circuit breaker stopped their restarts tonight; the other accounts went on"),
		engine("BatchesFailed", "batches-failed", "Batches whose restart or check failed after every retry; the night went on with the next batch, and their services go first the next night"),
		engine("Unenrolled", "services-unenrolled", "Informational: services without the ecs_task_daily_restart tag; their owners were notified"),
		states("ExecutionThrottled", "throttled"),
		queue(n.scheduleDLQ, "schedule-failed-to-start-the-run"),
		queue(n.dlq, "lambda-async-failures"),
	}
	for _, h := range workflow.Handlers {
		fn := map[string]string{"FunctionName": n.function(h)}
		out = append(out,
			alarm{name: h + "-errors", description: "Errors of the " + h + " function", namespace: "AWS/Lambda", metric: "Errors", stat: "Sum", dimensions: fn},
			alarm{name: h + "-throttles", description: "Throttled invocations of the " + h + " function", namespace: "AWS/Lambda", metric: "Throttles", stat: "Sum", dimensions: fn},
		)
	}
	return out
}

func alarms(ctx *pulumi.Context, n names, a Args, topic pulumi.StringInput, tags pulumi.StringMap, opts ...pulumi.ResourceOption) error {
	for _, al := range a.alarms(n) {
		name := n.prefix + "-restart-" + al.name
		if _, err := cloudwatch.NewMetricAlarm(ctx, name, &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(name),
			AlarmDescription:   pulumi.String(al.description),
			Namespace:          pulumi.String(al.namespace),
			MetricName:         pulumi.String(al.metric),
			Dimensions:         pulumi.ToStringMap(al.dimensions),
			Statistic:          pulumi.String(al.stat),
			Period:             pulumi.Int(300),
			EvaluationPeriods:  pulumi.Int(1),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"),
			Threshold:          pulumi.Float64(al.threshold),
			// Most of these metrics exist only on the night: no data is
			// no trouble.
			TreatMissingData: pulumi.String("notBreaching"),
			AlarmActions:     pulumi.Array{topic},
			OkActions:        pulumi.Array{topic},
			Tags:             tags,
		}, opts...); err != nil {
			return fmt.Errorf("alarm %s: %w", al.name, err)
		}
	}
	return nil
}

// dashboardBody is the night on one page: the engine's counts, batches
// done (invocations of the restart function, one per batch), the
// executions, the functions' errors and throttles, and services and
// failures per account from the discover step's log lines (the engine's
// metrics carry no account dimension).
func dashboardBody(n names, a Args) (string, error) {
	metric := func(title string, metrics [][]any, stat string, x, y int) map[string]any {
		return map[string]any{
			"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
			"properties": map[string]any{
				"title": title, "region": a.Env.Region, "stat": stat, "period": 300, "view": "timeSeries", "metrics": metrics,
			},
		}
	}
	smARN := a.arn("states", "stateMachine:"+n.stateMachine)
	var engineMetrics [][]any
	for _, m := range []string{"Restarted", "Completed", "Failed", "RolledBack", "InProgress", "NotStarted", "Unenrolled"} {
		metric := []any{MetricsNamespace, m}
		if a.Stack != "" {
			metric = append(metric, "Stack", a.Stack)
		}
		engineMetrics = append(engineMetrics, metric)
	}
	var fnMetrics [][]any
	for _, h := range workflow.Handlers {
		fnMetrics = append(fnMetrics,
			[]any{"AWS/Lambda", "Errors", "FunctionName", n.function(h)},
			[]any{"AWS/Lambda", "Throttles", "FunctionName", n.function(h)})
	}
	perAccount := fmt.Sprintf("SOURCE '%s' | filter @message like /discover \\d+\\/\\d+: / "+
		"| parse @message /discover \\d+\\/\\d+: (?<account>\\d{12}) (?<region>[a-z0-9-]+)(: (?<clusters>\\d+) clusters, (?<services>\\d+) services| failed)/ "+
		"| stats sum(services) as services, sum(clusters) as clusters, count(*) - count(services) as failures by account, region | sort account",
		n.functionLogGroup(workflow.Discover))
	body := map[string]any{"widgets": []any{
		metric("Night: services by outcome", engineMetrics, "Maximum", 0, 0),
		metric("Batches done (restart invocations)", [][]any{{"AWS/Lambda", "Invocations", "FunctionName", n.function(workflow.Restart)}}, "Sum", 12, 0),
		metric("Executions", [][]any{
			{"AWS/States", "ExecutionsStarted", "StateMachineArn", smARN},
			{"AWS/States", "ExecutionsSucceeded", "StateMachineArn", smARN},
			{"AWS/States", "ExecutionsFailed", "StateMachineArn", smARN},
			{"AWS/States", "ExecutionsTimedOut", "StateMachineArn", smARN},
		}, "Sum", 0, 6),
		metric("Function errors and throttles", fnMetrics, "Sum", 12, 6),
		map[string]any{
			"type": "log", "x": 0, "y": 12, "width": 24, "height": 6,
			"properties": map[string]any{"title": "Per account: services discovered, discovery failures", "region": a.Env.Region, "query": perAccount, "view": "table"},
		},
	}}
	b, err := json.Marshal(body)
	return string(b), err
}

func dashboard(ctx *pulumi.Context, n names, a Args, opts ...pulumi.ResourceOption) error {
	body, err := dashboardBody(n, a)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	if _, err := cloudwatch.NewDashboard(ctx, n.prefix+"-restart", &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(n.prefix + "-daily-restart"),
		DashboardBody: pulumi.String(body),
	}, opts...); err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	return nil
}
