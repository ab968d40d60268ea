package fleetsim

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// postFaults injects faults through the admin endpoint, as outside checks do.
func postFaults(t *testing.T, h *harness, body string) {
	t.Helper()
	resp, err := http.Post(h.srv.URL+AdminPrefix+"faults", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST faults %s: %s", body, resp.Status)
	}
}

func TestNewFaultKindsAreAcceptedWithTheirFields(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(3)})
	postFaults(t, h, `[{"kind":"no-rollout-state","rate":0.5},{"kind":"event-churn","rate":0.3},{"kind":"short-arn","rate":0.1},
		{"kind":"cluster-gone","rate":0.2},{"kind":"applied-server-error","rate":0.01},{"kind":"token-expiry","after":"20s"},
		{"kind":"shared-bucket","op":"UpdateService","rate":0.5}]`)
	got := h.sim.Faults()
	if len(got) != 7 || got[5].After != 20*time.Second {
		t.Fatalf("faults = %+v", got)
	}
	for _, bad := range []string{`{"kind":"token-expiry"}`, `{"kind":"shared-bucket","rate":0.5}`, `{"kind":"shared-bucket","op":"UpdateService"}`} {
		resp, err := http.Post(h.srv.URL+AdminPrefix+"faults", "application/json", strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %s, want 400", bad, resp.Status)
		}
	}
}

func TestNoRolloutStateHidesItFromDescribeButNotFromServiceDeployments(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(1), DeployTime: time.Minute})
	postFaults(t, h, `{"kind":"no-rollout-state","service":"web"}`)
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	forceDeploy(t, c, "small", "web")
	h.clock.Advance(2 * time.Minute)
	s := describeOne(t, c, "small", "web")
	if len(s.Deployments) != 1 || s.Deployments[0].RolloutState != "" || s.Deployments[0].RunningCount != 4 {
		t.Fatalf("deployments %+v, want one without rolloutState", s.Deployments)
	}
	sds, err := c.ListServiceDeployments(context.Background(), &ecs.ListServiceDeploymentsInput{Cluster: aws.String("small"), Service: aws.String("web")})
	if err != nil || sds.ServiceDeployments[0].Status != ecstypes.ServiceDeploymentStatusSuccessful {
		t.Fatalf("ListServiceDeployments: %+v, %v", sds, err)
	}
}

func TestEventChurnPushesTheOutcomeOutOfTheLast100Events(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(1), DeployTime: time.Minute})
	postFaults(t, h, `{"kind":"event-churn","service":"web"}`)
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	id := forceDeploy(t, c, "small", "web")
	h.clock.Advance(2 * time.Minute)
	s := describeOne(t, c, "small", "web")
	if len(s.Events) != 100 {
		t.Fatalf("%d events, want the 100 latest", len(s.Events))
	}
	for _, e := range s.Events {
		if msg := aws.ToString(e.Message); strings.Contains(msg, id) || strings.Contains(msg, "completed") || strings.Contains(msg, "steady state") {
			t.Fatalf("event %q still listed: the outcome should have been pushed out", msg)
		}
	}
}

func TestShortARNServicesCannotBeTaggedAndShareTheirARN(t *testing.T) {
	svcs := []fleet.Service{
		{Account: memberA, Region: region, Cluster: "one", Service: "api", DesiredCount: 1, Tags: map[string]string{fleet.RestartTag: "enabled"}},
		{Account: memberA, Region: region, Cluster: "two", Service: "api", DesiredCount: 1, Tags: map[string]string{fleet.RestartTag: "enabled"}},
	}
	h := newHarness(t, Config{Fleet: svcs})
	postFaults(t, h, `{"kind":"short-arn","service":"api"}`)
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	short := "arn:aws:ecs:" + region + ":" + memberA + ":service/api"
	for _, cl := range []string{"one", "two"} {
		l, err := c.ListServices(context.Background(), &ecs.ListServicesInput{Cluster: aws.String(cl)})
		if err != nil || len(l.ServiceArns) != 1 || l.ServiceArns[0] != short {
			t.Fatalf("ListServices %s: %v, %v; want the short ARN", cl, l, err)
		}
		d, err := c.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(cl), Services: []string{"api"}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
		if err != nil || len(d.Services) != 1 || len(d.Services[0].Tags) != 0 {
			t.Fatalf("DescribeServices %s: %+v, %v; want no tags", cl, d, err)
		}
	}
	for _, arn := range []string{short, serviceARN(region, memberA, "one", "api")} {
		_, err := c.TagResource(context.Background(), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: []ecstypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		if code := apiCode(t, err); code != "InvalidParameterException" {
			t.Errorf("TagResource %s: %s, want InvalidParameterException", arn, code)
		}
	}
	inv := h.sim.Inventory()
	if len(inv) != 2 || !inv[0].ShortARN || inv[0].ARN == inv[1].ARN || len(inv[0].Tags) != 0 {
		t.Fatalf("inventory %+v: want both short, keyed by their long ARNs, untagged", inv)
	}
}

func TestClusterGoneDeletesTheClustersJustListed(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(2)})
	postFaults(t, h, `{"kind":"cluster-gone","account":"`+memberA+`"}`)
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	l, err := c.ListClusters(context.Background(), &ecs.ListClustersInput{})
	if err != nil || len(l.ClusterArns) != 2 {
		t.Fatalf("ListClusters: %v, %v", l, err)
	}
	_, err = c.ListServices(context.Background(), &ecs.ListServicesInput{Cluster: aws.String(l.ClusterArns[0])})
	if code := apiCode(t, err); code != "ClusterNotFoundException" {
		t.Fatalf("ListServices of a deleted cluster: %s", code)
	}
	if got := h.sim.Stats().ClustersDeleted; len(got) != 2 {
		t.Fatalf("clusters deleted %v", got)
	}
}

func TestAppliedServerErrorStartsTheDeploymentAndAnswers500(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(1)})
	postFaults(t, h, `{"kind":"applied-server-error","rate":1}`)
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	_, err := c.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String("small"), Service: aws.String("web"), ForceNewDeployment: true})
	if code := apiCode(t, err); code != "ServerException" {
		t.Fatalf("UpdateService: %s, want ServerException", code)
	}
	day := t0.Format(time.DateOnly)
	st := h.sim.Stats()
	arn := serviceARN(region, memberA, "small", "web")
	if st.Deployments[day][arn] != 1 || st.UpdateService[day][arn] != 1 {
		t.Fatalf("deployments %v, updates %v: want the deployment started", st.Deployments, st.UpdateService)
	}
	if s := describeOne(t, c, "small", "web"); len(s.Deployments) != 2 {
		t.Fatalf("deployments %+v: want the new one beside the old", s.Deployments)
	}
}

func TestTokenExpiryShortensSessionsIssuedAfterIt(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(1)})
	postFaults(t, h, `{"kind":"token-expiry","after":"20s"}`)
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	describeOne(t, c, "small", "web")
	ss := h.sim.Sessions()
	if len(ss) != 1 || ss[0].Expiration.Sub(ss[0].IssuedAt) != 20*time.Second {
		t.Fatalf("sessions %+v, want 20s", ss)
	}
	h.clock.Advance(21 * time.Second)
	// The cached credentials are past their expiry: a fresh client with
	// the same keys is what a caller without a refresh would send.
	_, err := c.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("small"), Services: []string{"web"}}, func(o *ecs.Options) {
		o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: ss[0].AccessKeyID, SecretAccessKey: "x", SessionToken: "t"}, nil
		})
	})
	if code := apiCode(t, err); code != "ExpiredTokenException" {
		t.Fatalf("call with an expired session: %s", code)
	}
}

func TestSharedBucketLeavesTheRestOfTheRate(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(1)})
	postFaults(t, h, `{"kind":"shared-bucket","op":"UpdateService","rate":0.5}`)
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	update := func() error {
		_, err := c.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String("small"), Service: aws.String("web")})
		return err
	}
	for i := range 50 { // the burst is the bucket's
		if err := update(); err != nil {
			t.Fatalf("call %d within the burst: %v", i, err)
		}
	}
	ok := 0
	for range 10 {
		h.clock.Advance(time.Second) // 5/s sustained, the neighbour takes half
		for update() == nil {
			ok++
		}
	}
	if ok != 25 {
		t.Fatalf("%d calls in 10s, want 25 (half of 5/s)", ok)
	}
	if f := h.sim.Faults(); f[0].Fired == 0 {
		t.Fatalf("fault %+v: the throttles it caused are not counted", f[0])
	}
}
