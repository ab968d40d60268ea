package platform

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/governance"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

func stackConfig(t *testing.T, stack string) *config.Config {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(wd)
	project, err := plan.LoadProject(root)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := project.StackConfig(root, stack)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(raw, project.Name, stack, config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// fakeTargets stand in for the data and compute tiers.
func fakeTargets() AlarmTargets {
	s := func(v string) pulumi.StringInput { return pulumi.String(v) }
	return AlarmTargets{
		ALB:  &governance.ALBTarget{LoadBalancerARNSuffix: s("app/wp/1"), TargetGroupARNSuffix: s("targetgroup/wp/2")},
		ECS:  &governance.ECSTarget{ClusterName: s("wp"), ServiceName: s("wordpress")},
		RDS:  &governance.RDSTarget{InstanceID: s("wp-db"), ReplicaIDs: []pulumi.StringInput{s("wp-db-replica-1")}},
		EFS:  &governance.EFSTarget{FileSystemID: s("fs-1"), ThroughputMode: governance.EFSElastic},
		WAF:  &governance.WAFTarget{WebACLName: s("wp"), Region: "us-east-1"},
		Logs: &governance.LogsTarget{LogGroupName: s("/wordpress/x/wordpress")},
		NAT:  &governance.NATTarget{GatewayIDs: []pulumi.StringInput{s("nat-1")}},
	}
}

// The wiring passes each tier's targets only to the alarm groups the
// stack's config asks for.
func TestAlarmGroupsFollowTheStackConfig(t *testing.T) {
	cases := map[string][]string{
		"dev":  {"alb-", "php-", "nat-"},
		"prod": {"alb-", "php-", "nat-", "ecs-", "rds-", "efs-", "waf-"},
	}
	for stack, groups := range cases {
		cfg := stackConfig(t, stack)
		w := where{prefix: "wordpress-" + stack, env: account.Env{AccountID: "123456789012", Region: "us-east-1", Partition: "aws", DNSSuffix: "amazonaws.com"}, tags: map[string]string{}}
		p, err := plan.Record(func(ctx *pulumi.Context) error {
			topic, err := newAlarmTopic(ctx, cfg, w)
			if err != nil {
				return err
			}
			_, err = newAlarms(ctx, cfg, w, topic, fakeTargets())
			return err
		}, plan.Options{Project: "wordpress", Stack: stack, Config: map[string]string{"aws:region": cfg.Region}})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, a := range p.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
			name := strings.TrimPrefix(a.String("name"), w.prefix+"-")
			i := slices.IndexFunc(groups, func(g string) bool { return strings.HasPrefix(name, g) })
			if i < 0 {
				t.Errorf("%s has alarm %s, outside its groups %v", stack, name, cfg.Governance.Alarms.Groups)
				continue
			}
			seen[groups[i]] = true
		}
		if len(seen) != len(groups) {
			t.Errorf("%s alarm groups present = %v, want %v", stack, seen, groups)
		}
	}
}
