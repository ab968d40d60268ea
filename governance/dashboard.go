package governance

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// consoleHosts are the AWS console's host per partition; the commercial
// console is regional.
var consoleHosts = map[string]func(region string) string{
	"aws":        func(region string) string { return region + ".console.aws.amazon.com" },
	"aws-us-gov": func(string) string { return "console.amazonaws-us-gov.com" },
	"aws-cn":     func(string) string { return "console.amazonaws.cn" },
}

// DashboardURL is the console address of a CloudWatch dashboard.
func DashboardURL(partition, region, name string) (string, error) {
	host, ok := consoleHosts[partition]
	if !ok {
		return "", fmt.Errorf("no console address is known for partition %q; turn governance.dashboard off or add the partition to governance/dashboard.go", partition)
	}
	return fmt.Sprintf("https://%s/cloudwatch/home?region=%s#dashboards/dashboard/%s", host(region), url.QueryEscape(region), url.PathEscape(name)), nil
}

// widget is one dashboard widget whose text depends on resource outputs:
// render gets the resolved inputs in order.
type widget struct {
	inputs []pulumi.StringInput
	render func(v []string) map[string]any
}

const (
	gridWidth    = 24
	widgetWidth  = 6
	widgetHeight = 5
	alarmsHeight = 3
)

// dashboardBody lays out the alarm states across the top and a row of
// graphs per tier below, four to a row, so the whole stack fits one screen.
func dashboardBody(name string, args AlarmsArgs, alarmARNs pulumi.StringArray) pulumi.StringOutput {
	ws := widgets(name, args)
	all := make([]any, 0, len(alarmARNs))
	for _, a := range alarmARNs {
		all = append(all, a)
	}
	for _, w := range ws {
		for _, in := range w.inputs {
			all = append(all, in)
		}
	}
	return pulumi.All(all...).ApplyT(func(vals []any) (string, error) {
		strs := make([]string, len(vals))
		for i, v := range vals {
			strs[i], _ = v.(string)
		}
		arns, rest := strs[:len(alarmARNs)], strs[len(alarmARNs):]
		var body []map[string]any
		top := map[string]any{"type": "text", "x": 0, "y": 0, "width": gridWidth, "height": alarmsHeight,
			"properties": map[string]any{"markdown": "## " + name + "\nNo alarms: no watched resource exists in this stack yet."}}
		if len(arns) > 0 {
			top = map[string]any{"type": "alarm", "x": 0, "y": 0, "width": gridWidth, "height": alarmsHeight,
				"properties": map[string]any{"title": name + " alarms", "alarms": arns, "sortBy": "stateUpdatedTimestamp"}}
		}
		body = append(body, top)
		for i, w := range ws {
			v := rest[:len(w.inputs)]
			rest = rest[len(w.inputs):]
			props := w.render(v)
			props["region"] = args.Region
			body = append(body, map[string]any{
				"type": "metric", "width": widgetWidth, "height": widgetHeight,
				"x":          (i % (gridWidth / widgetWidth)) * widgetWidth,
				"y":          alarmsHeight + (i/(gridWidth/widgetWidth))*widgetHeight,
				"properties": props,
			})
		}
		b, err := json.Marshal(map[string]any{"widgets": body})
		return string(b), err
	}).(pulumi.StringOutput)
}

// graph is a time series of metrics; each metric is CloudWatch's array form
// [namespace, name, dimension, value, ..., {options}].
func graph(title, stat string, period int, metrics ...[]any) map[string]any {
	return map[string]any{"title": title, "view": "timeSeries", "stacked": false, "stat": stat, "period": period, "metrics": metrics}
}

func widgets(name string, args AlarmsArgs) []widget {
	var ws []widget
	if alb := args.ALB; alb != nil {
		ws = append(ws,
			widget{[]pulumi.StringInput{alb.LoadBalancerARNSuffix}, func(v []string) map[string]any {
				return graph("ALB requests and 5xx", "Sum", 60,
					[]any{"AWS/ApplicationELB", "RequestCount", "LoadBalancer", v[0]},
					[]any{"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", v[0]},
					[]any{"AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", v[0]})
			}},
			widget{[]pulumi.StringInput{alb.LoadBalancerARNSuffix}, func(v []string) map[string]any {
				return graph("Response time (s)", "p95", 60,
					[]any{"AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", v[0], map[string]any{"stat": "p50"}},
					[]any{"AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", v[0], map[string]any{"stat": "p95"}},
					[]any{"AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", v[0], map[string]any{"stat": "p99"}})
			}},
		)
		if alb.TargetGroupARNSuffix != nil {
			ws = append(ws, widget{[]pulumi.StringInput{alb.LoadBalancerARNSuffix, alb.TargetGroupARNSuffix}, func(v []string) map[string]any {
				return graph("Healthy / unhealthy tasks", "Maximum", 60,
					[]any{"AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", v[0], "TargetGroup", v[1]},
					[]any{"AWS/ApplicationELB", "UnHealthyHostCount", "LoadBalancer", v[0], "TargetGroup", v[1]})
			}})
		}
	}
	if ecs := args.ECS; ecs != nil {
		ws = append(ws, widget{[]pulumi.StringInput{ecs.ClusterName, ecs.ServiceName}, func(v []string) map[string]any {
			return graph("WordPress service CPU / memory (%)", "Average", 300,
				[]any{"AWS/ECS", "CPUUtilization", "ClusterName", v[0], "ServiceName", v[1]},
				[]any{"AWS/ECS", "MemoryUtilization", "ClusterName", v[0], "ServiceName", v[1]})
		}})
	}
	if rds := args.RDS; rds != nil {
		ws = append(ws,
			widget{[]pulumi.StringInput{rds.InstanceID}, func(v []string) map[string]any {
				return graph("Database CPU (%) and connections", "Average", 300,
					[]any{"AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", v[0]},
					[]any{"AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", v[0], map[string]any{"yAxis": "right", "stat": "Maximum"}})
			}},
			widget{[]pulumi.StringInput{rds.InstanceID}, func(v []string) map[string]any {
				return graph("Database free storage / memory (bytes)", "Minimum", 300,
					[]any{"AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", v[0]},
					[]any{"AWS/RDS", "FreeableMemory", "DBInstanceIdentifier", v[0]})
			}},
		)
		if len(rds.ReplicaIDs) > 0 {
			ws = append(ws, widget{rds.ReplicaIDs, func(v []string) map[string]any {
				var ms [][]any
				for _, id := range v {
					ms = append(ms, []any{"AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", id})
				}
				return graph("Replica lag (s)", "Maximum", 60, ms...)
			}})
		}
	}
	if efs := args.EFS; efs != nil {
		ws = append(ws, widget{[]pulumi.StringInput{efs.FileSystemID}, func(v []string) map[string]any {
			if efs.ThroughputMode == EFSBursting {
				return graph("wp-content burst credits (bytes)", "Minimum", 300,
					[]any{"AWS/EFS", "BurstCreditBalance", "FileSystemId", v[0]})
			}
			return graph("wp-content throughput (bytes/s)", "Average", 60,
				[]any{"AWS/EFS", "PermittedThroughput", "FileSystemId", v[0]},
				[]any{"AWS/EFS", "MeteredIOBytes", "FileSystemId", v[0], map[string]any{"stat": "Sum", "label": "MeteredIOBytes per minute"}})
		}})
	}
	if waf := args.WAF; waf != nil {
		ws = append(ws, widget{[]pulumi.StringInput{waf.WebACLName}, func(v []string) map[string]any {
			return graph("WAF allowed / blocked", "Sum", 300,
				[]any{"AWS/WAFV2", "AllowedRequests", "WebACL", v[0], "Region", waf.Region, "Rule", "ALL"},
				[]any{"AWS/WAFV2", "BlockedRequests", "WebACL", v[0], "Region", waf.Region, "Rule", "ALL"})
		}})
	}
	if args.Logs != nil {
		ws = append(ws, widget{nil, func([]string) map[string]any {
			return graph("PHP fatal errors", "Sum", 300, []any{phpNamespace(name), "PHPFatalErrors"})
		}})
	}
	if nat := args.NAT; nat != nil && len(nat.GatewayIDs) > 0 {
		ws = append(ws, widget{nat.GatewayIDs, func(v []string) map[string]any {
			var ms [][]any
			for _, id := range v {
				ms = append(ms,
					[]any{"AWS/NATGateway", "ErrorPortAllocation", "NatGatewayId", id},
					[]any{"AWS/NATGateway", "PacketsDropCount", "NatGatewayId", id})
			}
			return graph("NAT errors and drops", "Sum", 300, ms...)
		}})
	}
	return ws
}
