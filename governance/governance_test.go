package governance_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/governance"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

const (
	typeAlarm        = "aws:cloudwatch/metricAlarm:MetricAlarm"
	typeDashboard    = "aws:cloudwatch/dashboard:Dashboard"
	typeMetricFilter = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
	typeTopic        = "aws:sns/topic:Topic"
	typeTopicPolicy  = "aws:sns/topicPolicy:TopicPolicy"
	typeSubscription = "aws:sns/topicSubscription:TopicSubscription"
	typeKey          = "aws:kms/key:Key"
	typeBucket       = "aws:s3/bucketV2:BucketV2"
	typePAB          = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	typeSSE          = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	typeVersioning   = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	typeLifecycle    = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	typeBucketPolicy = "aws:s3/bucketPolicy:BucketPolicy"
	typeBucketLog    = "aws:s3/bucketLoggingV2:BucketLoggingV2"
	typeRecorder     = "aws:cfg/recorder:Recorder"
	typeRule         = "aws:cfg/rule:Rule"
	typeDetector     = "aws:guardduty/detector:Detector"
	typeFeature      = "aws:guardduty/detectorFeature:DetectorFeature"
	typeEventRule    = "aws:cloudwatch/eventRule:EventRule"
	typeEventTarget  = "aws:cloudwatch/eventTarget:EventTarget"
	typeStandard     = "aws:securityhub/standardsSubscription:StandardsSubscription"
	account          = "123456789012"
	region           = "us-east-1"
)

// record runs a test program that declares governance components.
func record(t *testing.T, program pulumi.RunFunc) *plan.Plan {
	t.Helper()
	p, err := plan.Record(program, plan.Options{Project: "wordpress", Stack: "test", Config: map[string]string{"aws:region": region}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func str(s string) pulumi.StringInput { return pulumi.String(s) }

// allTargets is one of everything the alarms can watch.
func allTargets(efsMode string) governance.AlarmsArgs {
	return governance.AlarmsArgs{
		Region: region, Partition: "aws", Dashboard: true,
		Thresholds: governance.Thresholds(config.DefaultAlarmThresholds()),
		ALB:        &governance.ALBTarget{LoadBalancerARNSuffix: str("app/wp/1234"), TargetGroupARNSuffix: str("targetgroup/wp/5678")},
		ECS:        &governance.ECSTarget{ClusterName: str("wp-cluster"), ServiceName: str("wordpress")},
		RDS:        &governance.RDSTarget{InstanceID: str("wp-db"), ReplicaIDs: []pulumi.StringInput{str("wp-db-r1"), str("wp-db-r2")}},
		EFS:        &governance.EFSTarget{FileSystemID: str("fs-123"), ThroughputMode: efsMode},
		WAF:        &governance.WAFTarget{WebACLName: str("wp-acl"), Region: region},
		Logs:       &governance.LogsTarget{LogGroupName: str("/wordpress/test/wordpress")},
		NAT:        &governance.NATTarget{GatewayIDs: []pulumi.StringInput{str("nat-1"), str("nat-2")}},
	}
}

// topicAndAlarms declares the topic, then alarms over args with its ARN.
func topicAndAlarms(args governance.AlarmsArgs, dashboardURL *string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		topic, err := governance.NewAlarmTopic(ctx, "wp-test-alarms", governance.AlarmTopicArgs{
			AccountID: account, Region: region, Partition: "aws", Emails: []string{"oncall@example.com"},
		})
		if err != nil {
			return err
		}
		args.TopicARN = topic.TopicARN
		a, err := governance.NewAlarms(ctx, "wp-test", args)
		if err != nil {
			return err
		}
		if dashboardURL != nil {
			// Exported, so that the run waits for it.
			ctx.Export("dashboardUrl", a.DashboardURL.ApplyT(func(s string) string { *dashboardURL = s; return s }))
		}
		return nil
	}
}

func alarmNames(p *plan.Plan) []string {
	var out []string
	for _, a := range p.OfType(typeAlarm) {
		out = append(out, strings.TrimPrefix(a.String("name"), "wp-test-"))
	}
	return out
}

func TestEachTargetGetsItsAlarms(t *testing.T) {
	all := allTargets(governance.EFSBursting)
	cases := []struct {
		name string
		args func(a *governance.AlarmsArgs)
		want []string
	}{
		{"no targets", func(a *governance.AlarmsArgs) {}, nil},
		{"ALB", func(a *governance.AlarmsArgs) { a.ALB = all.ALB },
			[]string{"alb-5xx", "alb-target-5xx", "alb-target-response-p95", "alb-unhealthy-hosts"}},
		{"ALB without a target group", func(a *governance.AlarmsArgs) {
			a.ALB = &governance.ALBTarget{LoadBalancerARNSuffix: str("app/wp/1")}
		}, []string{"alb-5xx", "alb-target-5xx", "alb-target-response-p95"}},
		{"ECS", func(a *governance.AlarmsArgs) { a.ECS = all.ECS }, []string{"ecs-cpu", "ecs-memory"}},
		{"RDS with two replicas", func(a *governance.AlarmsArgs) { a.RDS = all.RDS },
			[]string{"rds-connections", "rds-cpu", "rds-free-storage", "rds-freeable-memory", "rds-replica-1-lag", "rds-replica-2-lag"}},
		{"EFS bursting", func(a *governance.AlarmsArgs) { a.EFS = all.EFS }, []string{"efs-burst-credits"}},
		{"EFS elastic", func(a *governance.AlarmsArgs) {
			a.EFS = &governance.EFSTarget{FileSystemID: str("fs-1"), ThroughputMode: governance.EFSElastic}
		}, []string{"efs-throughput"}},
		{"WAF", func(a *governance.AlarmsArgs) { a.WAF = all.WAF }, []string{"waf-blocked-spike"}},
		{"WordPress logs", func(a *governance.AlarmsArgs) { a.Logs = all.Logs }, []string{"php-fatal-errors"}},
		{"two NATs", func(a *governance.AlarmsArgs) { a.NAT = all.NAT },
			[]string{"nat-1-packets-dropped", "nat-1-port-allocation", "nat-2-packets-dropped", "nat-2-port-allocation"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := governance.AlarmsArgs{Region: region, Partition: "aws", Thresholds: all.Thresholds}
			c.args(&args)
			p := record(t, topicAndAlarms(args, nil))
			got := alarmNames(p)
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("alarms = %v, want %v", got, c.want)
			}
		})
	}
}

// topicARN is the ARN of the one topic of p, read where the topic policy
// names it.
func topicARN(t *testing.T, p *plan.Plan) string {
	t.Helper()
	pols := p.OfType(typeTopicPolicy)
	if len(pols) != 1 || pols[0].String("arn") == "" {
		t.Fatalf("want one topic policy naming the topic, got %d", len(pols))
	}
	return pols[0].String("arn")
}

func TestEveryAlarmNotifiesTheTopicOnAlarmAndOK(t *testing.T) {
	p := record(t, topicAndAlarms(allTargets(governance.EFSBursting), nil))
	arn := topicARN(t, p)
	alarms := p.OfType(typeAlarm)
	// ALB 4, ECS 2, RDS 4 + a lag alarm per replica, EFS, WAF and PHP 1
	// each, NAT 2 per gateway.
	if len(alarms) != 19 {
		t.Fatalf("alarms = %d, want 19 for one of every target", len(alarms))
	}
	for _, a := range alarms {
		for _, key := range []string{"alarmActions", "okActions"} {
			if got := a.List(key); len(got) != 1 || got[0] != arn {
				t.Errorf("%s %s = %v, want [%s]", a.Name, key, got, arn)
			}
		}
		if on, _ := a.Bool("actionsEnabled"); !on {
			t.Errorf("%s has its actions disabled", a.Name)
		}
		if m := a.String("treatMissingData"); !slices.Contains([]string{"breaching", "notBreaching", "missing"}, m) {
			t.Errorf("%s treats missing data as %q; every alarm says how on purpose", a.Name, m)
		}
	}
}

func TestAlarmsFireAtTheConfiguredThresholds(t *testing.T) {
	args := allTargets(governance.EFSElastic)
	args.Thresholds.RDSFreeStorageGiB = 7
	args.Thresholds.TargetResponseP95Seconds = 1.5
	p := record(t, topicAndAlarms(args, nil))
	cases := []struct {
		name       string
		threshold  float64
		comparison string
		missing    string
	}{
		{"wp-test-rds-free-storage", 7 * (1 << 30), "LessThanThreshold", "breaching"},
		{"wp-test-alb-target-response-p95", 1.5, "GreaterThanThreshold", "notBreaching"},
		{"wp-test-alb-unhealthy-hosts", 0, "GreaterThanThreshold", "breaching"},
		{"wp-test-rds-replica-2-lag", 60, "GreaterThanThreshold", "breaching"},
		{"wp-test-efs-throughput", 90, "GreaterThanThreshold", "notBreaching"},
		{"wp-test-waf-blocked-spike", 500, "GreaterThanThreshold", "notBreaching"},
	}
	for _, c := range cases {
		a, ok := p.Named(typeAlarm, c.name)
		if !ok {
			t.Errorf("no alarm %s", c.name)
			continue
		}
		if a.Inputs["threshold"] != c.threshold || a.String("comparisonOperator") != c.comparison || a.String("treatMissingData") != c.missing {
			t.Errorf("%s: threshold %v %s, missing %s; want %v %s, missing %s", c.name,
				a.Inputs["threshold"], a.String("comparisonOperator"), a.String("treatMissingData"), c.threshold, c.comparison, c.missing)
		}
	}
	p95, _ := p.Named(typeAlarm, "wp-test-alb-target-response-p95")
	if p95.String("extendedStatistic") != "p95" || p95.Inputs["statistic"] != nil {
		t.Errorf("response time alarm statistic = %v / %v, want the p95 percentile", p95.Inputs["statistic"], p95.Inputs["extendedStatistic"])
	}
	lag, _ := p.Named(typeAlarm, "wp-test-rds-replica-2-lag")
	if dims, _ := lag.Inputs["dimensions"].(map[string]any); dims["DBInstanceIdentifier"] != "wp-db-r2" {
		t.Errorf("replica 2 lag alarm watches %v, want wp-db-r2", dims)
	}
	waf, _ := p.Named(typeAlarm, "wp-test-waf-blocked-spike")
	if dims, _ := waf.Inputs["dimensions"].(map[string]any); dims["WebACL"] != "wp-acl" || dims["Region"] != region || dims["Rule"] != "ALL" {
		t.Errorf("WAF alarm dimensions = %v", dims)
	}
	efs, _ := p.Named(typeAlarm, "wp-test-efs-throughput")
	if q := efs.List("metricQueries"); len(q) != 3 {
		t.Errorf("EFS throughput alarm has %d metric queries, want io, permitted and the percentage", len(q))
	}
}

func TestPHPFatalErrorsAreCountedFromTheLogGroup(t *testing.T) {
	p := record(t, topicAndAlarms(allTargets(governance.EFSBursting), nil))
	filters := p.OfType(typeMetricFilter)
	if len(filters) != 1 {
		t.Fatalf("metric filters = %d, want 1", len(filters))
	}
	f := filters[0]
	if f.String("logGroupName") != "/wordpress/test/wordpress" || !strings.Contains(f.String("pattern"), "PHP Fatal error") {
		t.Errorf("filter = %v", f.Inputs)
	}
	tr, _ := f.Inputs["metricTransformation"].(map[string]any)
	a, ok := p.Named(typeAlarm, "wp-test-php-fatal-errors")
	if !ok || a.String("namespace") != tr["namespace"] || a.String("metricName") != tr["name"] {
		t.Errorf("the PHP alarm does not watch the filter's metric %v: %v", tr, a.Inputs)
	}
}

func TestDashboardShowsEveryTierAndTheAlarms(t *testing.T) {
	var url string
	p := record(t, topicAndAlarms(allTargets(governance.EFSBursting), &url))
	boards := p.OfType(typeDashboard)
	if len(boards) != 1 {
		t.Fatalf("dashboards = %d, want 1", len(boards))
	}
	var body struct {
		Widgets []struct {
			Type                string
			X, Y, Width, Height int
			Properties          struct {
				Alarms  []string
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(boards[0].String("dashboardBody")), &body); err != nil {
		t.Fatalf("dashboard body is not JSON: %v", err)
	}
	namespaces := map[string]bool{}
	var alarmsShown []string
	bottom := 0
	for _, w := range body.Widgets {
		if w.X < 0 || w.X+w.Width > 24 {
			t.Errorf("widget at x=%d width %d leaves the 24-column grid", w.X, w.Width)
		}
		bottom = max(bottom, w.Y+w.Height)
		alarmsShown = append(alarmsShown, w.Properties.Alarms...)
		for _, m := range w.Properties.Metrics {
			namespaces[m[0].(string)] = true
		}
	}
	for _, ns := range []string{"AWS/ApplicationELB", "AWS/ECS", "AWS/RDS", "AWS/EFS", "AWS/WAFV2", "AWS/NATGateway", "WordPress/wp-test"} {
		if !namespaces[ns] {
			t.Errorf("dashboard shows nothing from %s", ns)
		}
	}
	if len(alarmsShown) != len(p.OfType(typeAlarm)) {
		t.Errorf("alarm widget shows %d alarms, the stack has %d", len(alarmsShown), len(p.OfType(typeAlarm)))
	}
	// One screen: about 20 grid rows fit a laptop screen at 1080p.
	if bottom > 24 {
		t.Errorf("dashboard is %d rows tall; the whole stack should fit one screen", bottom)
	}
	if want := "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/wp-test"; url != want {
		t.Errorf("dashboard URL = %q, want %q", url, want)
	}
}

func TestNoDashboardWhenTurnedOff(t *testing.T) {
	args := allTargets(governance.EFSBursting)
	args.Dashboard = false
	url := "unset"
	p := record(t, topicAndAlarms(args, &url))
	if n := len(p.OfType(typeDashboard)); n != 0 || url != "" {
		t.Errorf("dashboards = %d, URL %q; want none", n, url)
	}
}

func TestDashboardURLIsPartitionAware(t *testing.T) {
	cases := []struct{ partition, region, want string }{
		{"aws", "eu-west-1", "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/wp"},
		{"aws-us-gov", "us-gov-west-1", "https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#dashboards/dashboard/wp"},
		{"aws-cn", "cn-north-1", "https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#dashboards/dashboard/wp"},
	}
	for _, c := range cases {
		got, err := governance.DashboardURL(c.partition, c.region, "wp")
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.partition, got, err, c.want)
		}
	}
	if _, err := governance.DashboardURL("aws-iso", "us-iso-east-1", "wp"); err == nil || !strings.Contains(err.Error(), `partition "aws-iso"`) {
		t.Errorf("unknown partition: err = %v", err)
	}
}

func TestAlarmsRefuseAnUnknownEFSMode(t *testing.T) {
	args := governance.AlarmsArgs{Region: region, Partition: "aws", EFS: &governance.EFSTarget{FileSystemID: str("fs-1"), ThroughputMode: "burst"}}
	_, err := plan.Record(topicAndAlarms(args, nil), plan.Options{Project: "wordpress", Stack: "test", Config: map[string]string{"aws:region": region}})
	if err == nil || !strings.Contains(err.Error(), `EFS throughput mode must be "bursting", "elastic" or "provisioned", got "burst"`) {
		t.Errorf("err = %v", err)
	}
}

type policyDoc struct {
	Statement []struct {
		Sid       string
		Effect    string
		Principal any
		Action    any
		Resource  any
		Condition map[string]map[string]any
	}
}

func parsePolicy(t *testing.T, doc string) policyDoc {
	t.Helper()
	var p policyDoc
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy is not JSON: %v\n%s", err, doc)
	}
	return p
}

func TestTopicIsEncryptedWithItsOwnRotatedKey(t *testing.T) {
	p := record(t, topicAndAlarms(governance.AlarmsArgs{Region: region, Partition: "aws"}, nil))
	topics, keys := p.OfType(typeTopic), p.OfType(typeKey)
	if len(topics) != 1 || len(keys) != 1 {
		t.Fatalf("topics %d, keys %d; want one of each", len(topics), len(keys))
	}
	key := keys[0]
	if got := topics[0].String("kmsMasterKeyId"); got != "arn:aws:kms:us-east-1:123456789012:key/"+key.ID {
		t.Errorf("topic kmsMasterKeyId = %q, want its own key", got)
	}
	if on, _ := key.Bool("enableKeyRotation"); !on {
		t.Error("topic key does not rotate")
	}
	// CloudWatch and EventBridge can only publish to an encrypted topic if
	// the key lets them use it.
	publishers := map[string]bool{}
	for _, s := range parsePolicy(t, key.String("policy")).Statement {
		if m, ok := s.Principal.(map[string]any); ok && s.Effect == "Allow" {
			svcs, _ := m["Service"].([]any)
			for _, svc := range svcs {
				publishers[svc.(string)] = strings.Contains(strings.Join(actions(s.Action), ","), "kms:GenerateDataKey")
			}
		}
	}
	if !publishers["cloudwatch.amazonaws.com"] || !publishers["events.amazonaws.com"] {
		t.Errorf("key policy does not let CloudWatch and EventBridge encrypt: %v", publishers)
	}
}

func actions(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, e.(string))
		}
		return out
	}
	return nil
}

func TestTopicPolicyAdmitsOnlyThisAccountsAlarmsAndRules(t *testing.T) {
	p := record(t, topicAndAlarms(governance.AlarmsArgs{Region: region, Partition: "aws"}, nil))
	pol := parsePolicy(t, p.OfType(typeTopicPolicy)[0].String("policy"))
	services := map[string]map[string]map[string]any{}
	tlsDenied := false
	for _, s := range pol.Statement {
		if s.Effect == "Deny" && s.Condition["Bool"]["aws:SecureTransport"] == "false" {
			tlsDenied = true
		}
		if m, ok := s.Principal.(map[string]any); ok && s.Effect == "Allow" {
			if svc, ok := m["Service"].(string); ok {
				services[svc] = s.Condition
			}
		}
	}
	want := map[string]string{
		"cloudwatch.amazonaws.com": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*",
		"events.amazonaws.com":     "arn:aws:events:us-east-1:123456789012:rule/*",
	}
	for svc, arn := range want {
		c, ok := services[svc]
		if !ok || c["StringEquals"]["aws:SourceAccount"] != account || c["ArnLike"]["aws:SourceArn"] != arn {
			t.Errorf("%s may publish under %v, want this account's %s only", svc, c, arn)
		}
	}
	if len(services) != len(want) {
		t.Errorf("services allowed to publish: %v, want only CloudWatch and EventBridge", services)
	}
	if !tlsDenied {
		t.Error("topic policy does not refuse publishing without TLS")
	}
}

func TestAGivenKeyIsUsedInsteadOfANewOne(t *testing.T) {
	p := record(t, func(ctx *pulumi.Context) error {
		_, err := governance.NewAlarmTopic(ctx, "wp-test-alarms", governance.AlarmTopicArgs{
			AccountID: account, Region: region, Partition: "aws", KMSKeyARN: str("arn:aws:kms:us-east-1:123456789012:key/given"),
		})
		return err
	})
	if n := len(p.OfType(typeKey)); n != 0 {
		t.Errorf("keys = %d, want none when one is given", n)
	}
	if got := p.OfType(typeTopic)[0].String("kmsMasterKeyId"); got != "arn:aws:kms:us-east-1:123456789012:key/given" {
		t.Errorf("topic key = %q", got)
	}
}

func TestEachEmailIsSubscribedUnderItsOwnName(t *testing.T) {
	p := record(t, func(ctx *pulumi.Context) error {
		_, err := governance.NewAlarmTopic(ctx, "wp-test-alarms", governance.AlarmTopicArgs{
			AccountID: account, Region: region, Partition: "aws", Emails: []string{"oncall@example.com", "Team.Lead+wp@example.org"},
		})
		return err
	})
	var got []string
	for _, s := range p.OfType(typeSubscription) {
		if s.String("protocol") != "email" {
			t.Errorf("%s protocol = %q", s.Name, s.String("protocol"))
		}
		got = append(got, s.Name+" "+s.String("endpoint"))
	}
	want := []string{"wp-test-alarms-oncall-example-com oncall@example.com", "wp-test-alarms-team-lead-wp-example-org Team.Lead+wp@example.org"}
	if !slices.Equal(got, want) {
		t.Errorf("subscriptions = %v, want %v", got, want)
	}
}

func TestEmailsThatWouldShareASubscriptionNameAreRefused(t *testing.T) {
	_, err := plan.Record(func(ctx *pulumi.Context) error {
		_, err := governance.NewAlarmTopic(ctx, "wp-test-alarms", governance.AlarmTopicArgs{
			AccountID: account, Region: region, Partition: "aws", Emails: []string{"a.b@example.com", "a-b@example.com"},
		})
		return err
	}, plan.Options{Project: "wordpress", Stack: "test", Config: map[string]string{"aws:region": region}})
	if err == nil || !strings.Contains(err.Error(), `emails "a.b@example.com" and "a-b@example.com" would share the subscription name`) {
		t.Errorf("err = %v", err)
	}
}

func TestATargetWithoutItsIdentifiersIsRefused(t *testing.T) {
	cases := map[string]struct {
		args governance.AlarmsArgs
		want string
	}{
		"ALB": {governance.AlarmsArgs{ALB: &governance.ALBTarget{}}, "the ALB target has no LoadBalancerARNSuffix"},
		"ECS": {governance.AlarmsArgs{ECS: &governance.ECSTarget{ClusterName: str("wp")}}, "the ECS target has no ClusterName or ServiceName"},
		"RDS replica": {governance.AlarmsArgs{RDS: &governance.RDSTarget{InstanceID: str("db"), ReplicaIDs: []pulumi.StringInput{nil}}},
			"the RDS target has no identifier for one of its ReplicaIDs"},
		"WAF": {governance.AlarmsArgs{WAF: &governance.WAFTarget{WebACLName: str("acl")}}, "the WAF target has no WebACLName or Region"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			c.args.Region, c.args.Partition = region, "aws"
			_, err := plan.Record(topicAndAlarms(c.args, nil), plan.Options{Project: "wordpress", Stack: "test", Config: map[string]string{"aws:region": region}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}
