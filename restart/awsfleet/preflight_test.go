package awsfleet_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

const (
	member = "222222222222"
	region = "us-east-1"
)

func simFleet(t *testing.T, n int, faults ...fleetsim.Fault) (*fleetsim.Sim, *awsfleet.Fleet, []fleet.Service) {
	t.Helper()
	var services []fleet.Service
	for i := range n {
		services = append(services, fleet.Service{Account: member, Region: region, Cluster: "c1", Service: "svc-" + string(rune('a'+i)),
			DesiredCount: 2, Tags: map[string]string{fleet.RestartTag: ""}})
	}
	sim, err := fleetsim.New(fleetsim.Config{Fleet: services, DeployTime: 50 * time.Millisecond, NoThrottle: true, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(sim.HubAccessKeyID(), "x", ""),
		Retryer:     awsfleet.NewRetryer(awsfleet.RetryPolicy{MaxAttempts: 3, ThrottleBase: time.Millisecond, Base: time.Millisecond, MaxBackoff: time.Millisecond}),
	}
	f := awsfleet.New(awsfleet.AssumeRoleClients(cfg, awsfleet.Roles{Name: sim.RoleName(), SessionName: "test"}), awsfleet.WithLimits(awsfleet.LimitsAt(1).Scaled(100)))
	var found []fleet.Service
	for _, r := range f.DiscoverEach(t.Context(), []string{member}, []string{region}, func(_ awsfleet.AccountResult, s []fleet.Service) {
		found = append(found, s...)
	}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if len(found) != n {
		t.Fatalf("discovered %d services, want %d", len(found), n)
	}
	return sim, f, found
}

func targets(services []fleet.Service) []awsfleet.Target {
	out := make([]awsfleet.Target, len(services))
	for i, s := range services {
		out[i] = awsfleet.Target{Account: s.Account, Region: s.Region, Cluster: s.Cluster, Service: s.Service, ARN: s.ARN, Since: time.Now()}
	}
	return out
}

func TestPreflightSeesWhatChangedSinceDiscovery(t *testing.T) {
	sim, f, found := simFleet(t, 12,
		fleetsim.Fault{Kind: fleetsim.FaultOptOutAfterDiscovery, Service: "svc-b"},
		fleetsim.Fault{Kind: fleetsim.FaultForeignDeployment, Service: "svc-c"},
		fleetsim.Fault{Kind: fleetsim.FaultServiceGone, Service: "svc-d", AfterDescribe: true},
	)
	got := map[string]awsfleet.Current{}
	for _, c := range f.Preflight(t.Context(), targets(found)) {
		got[c.ARN[strings.LastIndexByte(c.ARN, '/')+1:]] = c
	}
	if len(got) != 12 {
		t.Fatalf("%d services checked, want 12", len(got))
	}
	for name, c := range got {
		if c.Err != nil {
			t.Fatalf("%s: %v", name, c.Err)
		}
		switch name {
		case "svc-b":
			if c.Service.Tags[fleet.RestartTag] != fleet.OptOutValue || c.Busy != "" || c.Gone {
				t.Errorf("svc-b: %+v, want the opt-out seen", c)
			}
		case "svc-c":
			if !strings.Contains(c.Busy, "in progress") {
				t.Errorf("svc-c: busy %q, want someone else's deployment seen", c.Busy)
			}
		case "svc-d":
			if !c.Gone {
				t.Errorf("svc-d: %+v, want gone", c)
			}
		default:
			if c.Busy != "" || c.Gone || c.Service.Tags[fleet.RestartTag] != "" || !strings.Contains(c.TaskDefinition, ":task-definition/"+name+":") {
				t.Errorf("%s: %+v, want steady, enrolled, with its task definition", name, c)
			}
		}
	}
	if n := sim.Stats().Calls["DescribeServices"][member]; n != 2+2 {
		t.Errorf("%d DescribeServices calls, want 2 for discovery and 2 for the check (10 a call)", n)
	}
}

func TestChangesNameTheRevisionsBeforeAndAfterTheRestart(t *testing.T) {
	sim, f, found := simFleet(t, 6)
	ts := targets(found)
	for i := range ts {
		if _, err := f.Restart(t.Context(), ts[i]); err != nil {
			t.Fatal(err)
		}
	}
	changes := f.Changes(t.Context(), ts)
	if len(changes) != 6 {
		t.Fatalf("%d changes, want 6", len(changes))
	}
	digestChanged := 0
	for _, c := range changes {
		if c.Err != nil {
			t.Fatalf("%s: %v", c.ARN, c.Err)
		}
		if c.Before.ARN == "" || c.After.ARN == "" || c.Before.ARN == c.After.ARN || c.Before.TaskDefinition == "" ||
			c.Before.TaskDefinition != c.After.TaskDefinition || len(c.Before.Images) != 1 || len(c.After.Images) != 1 {
			t.Fatalf("%s: %+v, want two revisions of the same task definition with their images", c.ARN, c)
		}
		if c.Before.Images[0].Digest != c.After.Images[0].Digest {
			digestChanged++
		}
	}
	t.Logf("%d of 6 restarts picked up a new image digest", digestChanged)
	st := sim.Stats().Calls
	if st["ListServiceDeployments"][member] != 6 || st["DescribeServiceDeployments"][member] != 1 || st["DescribeServiceRevisions"][member] != 1 {
		t.Errorf("calls %v %v %v, want 6 lists, then 1 call each for deployments and revisions", st["ListServiceDeployments"], st["DescribeServiceDeployments"], st["DescribeServiceRevisions"])
	}
}
