package engine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

// A stack that shares its account restarts its own cluster only: the
// services of every other cluster (another stack's WordPress) are neither
// restarted nor counted, and the night's metrics carry the stack.
func TestAClusterAllowListRestartsThatClusterOnly(t *testing.T) {
	t.Parallel()
	var services []fleet.Service
	for _, cluster := range []string{"wordpress-dev", "wordpress-prod"} {
		for i := range 3 {
			services = append(services, fleet.Service{
				Account: "123456789012", Region: "us-east-1", Cluster: cluster, Service: fmt.Sprintf("svc-%d", i),
				DesiredCount: 2, SchedulingStrategy: "REPLICA", DeploymentController: "ECS",
				Tags: map[string]string{fleet.RestartTag: "enabled"},
			})
		}
	}
	lf := newLocalFleet(t, fleetsim.Config{Seed: 7, Fleet: services, DeployTime: 20 * time.Millisecond, ThrottleScale: 5})
	lf.settings.Clusters = []string{"arn:aws:ecs:us-east-1:123456789012:cluster/wordpress-dev"}
	lf.settings.Stack = "dev"
	var metrics bytes.Buffer
	lf.settings.Metrics = &metrics
	res := lf.run(t, lf.engine(t))

	updates, total := lf.updates()
	if total != 3 {
		t.Errorf("%d UpdateService calls, want dev's 3: %v", total, updates)
	}
	for arn := range updates {
		if !strings.Contains(arn, ":service/wordpress-dev/") {
			t.Errorf("%s was restarted; it is not in dev's cluster", arn)
		}
	}
	if c := res.Summary.Counts; c.Discovered != 3 || c.Completed != 3 {
		t.Errorf("discovered %d, completed %d; want dev's 3 and 3", c.Discovered, c.Completed)
	}

	first, _, _ := bytes.Cut(metrics.Bytes(), []byte("\n"))
	var line struct {
		Stack string
		AWS   struct {
			CloudWatchMetrics []struct{ Dimensions [][]string }
		} `json:"_aws"`
	}
	if err := json.Unmarshal(first, &line); err != nil {
		t.Fatalf("metrics line %q: %v", first, err)
	}
	if line.Stack != "dev" || len(line.AWS.CloudWatchMetrics) != 1 || fmt.Sprint(line.AWS.CloudWatchMetrics[0].Dimensions) != "[[Stack]]" {
		t.Errorf("metrics line = %s, want the Stack dimension dev", first)
	}
}
