package fleetsim

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

const (
	memberA = "222222222222"
	memberB = "333333333333"
	region  = "us-east-1"
)

var t0 = time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC)

// smallFleet is two member accounts: A has cluster "big" with n services
// and cluster "small" with one; B has one cluster with one service.
func smallFleet(n int) []fleet.Service {
	var out []fleet.Service
	for i := range n {
		out = append(out, fleet.Service{
			Account: memberA, Region: region, Cluster: "big", Service: fmt.Sprintf("svc-%03d", i),
			DesiredCount: 2, Tags: map[string]string{fleet.RestartTag: "enabled", "owner": "team-a"},
		})
	}
	out = append(out,
		fleet.Service{Account: memberA, Region: region, Cluster: "small", Service: "web", DesiredCount: 4,
			Tags: map[string]string{"team": "web"}},
		fleet.Service{Account: memberB, Region: region, Cluster: "b1", Service: "api", DesiredCount: 3},
	)
	return out
}

type harness struct {
	sim   *Sim
	srv   *httptest.Server
	clock *FakeClock
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	clock := NewFakeClock(t0)
	if cfg.Clock == nil {
		cfg.Clock = clock
	}
	sim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &harness{sim: sim, srv: srv, clock: clock}
}

// ecsFor is an ECS client acting with creds; retries off unless asked, so
// that tests see each answer.
func (h *harness) ecsFor(creds aws.CredentialsProvider, attempts int) *ecs.Client {
	return ecs.New(ecs.Options{
		Region: region, BaseEndpoint: aws.String(h.srv.URL), Credentials: creds,
		RetryMaxAttempts: attempts,
	})
}

func (h *harness) hubCreds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(h.sim.HubAccessKeyID()+"TEST", "secret", "")
}

func (h *harness) stsClient(creds aws.CredentialsProvider) *sts.Client {
	return sts.New(sts.Options{Region: region, BaseEndpoint: aws.String(h.srv.URL), Credentials: creds, RetryMaxAttempts: 1})
}

// memberCreds assumes the member role in account through the real
// stscreds provider.
func (h *harness) memberCreds(account, session string) aws.CredentialsProvider {
	return aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(h.stsClient(h.hubCreds()), h.sim.RoleARN(account),
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = session }))
}

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae.ErrorCode()
}

func TestListServicesPagesLikeECS(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(25)})
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	ctx := context.Background()

	clusters, err := c.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(clusters.ClusterArns) != 2 || clusters.ClusterArns[0] != clusterARN(region, memberA, "big") {
		t.Fatalf("clusters = %v", clusters.ClusterArns)
	}

	p := ecs.NewListServicesPaginator(c, &ecs.ListServicesInput{Cluster: aws.String("big"), MaxResults: aws.Int32(10)})
	var arns []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		arns = append(arns, out.ServiceArns...)
	}
	if pages != 3 || len(arns) != 25 {
		t.Fatalf("got %d services in %d pages, want 25 in 3", len(arns), pages)
	}
	seen := map[string]bool{}
	for _, a := range arns {
		if seen[a] {
			t.Fatalf("service %s listed twice", a)
		}
		seen[a] = true
	}
	// Default page size of ListServices is 10, as in ECS.
	out, err := c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String(clusterARN(region, memberA, "big"))})
	if err != nil || len(out.ServiceArns) != 10 || out.NextToken == nil {
		t.Fatalf("default page: %d services, token %v, err %v", len(out.ServiceArns), out.NextToken, err)
	}

	_, err = c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("big"), MaxResults: aws.Int32(101)})
	if code := apiCode(t, err); code != "InvalidParameterException" {
		t.Fatalf("maxResults 101: code %s", code)
	}
	_, err = c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("nope")})
	var cnf *ecstypes.ClusterNotFoundException
	if !errors.As(err, &cnf) {
		t.Fatalf("unknown cluster: %v, want ClusterNotFoundException", err)
	}
}

func TestDescribeServicesTagsOnlyWhenAskedAndMissingAsFailures(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(12)})
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	ctx := context.Background()

	names := []string{"svc-000", serviceARN(region, memberA, "big", "svc-001"), "ghost"}
	out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("big"), Services: names})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Services) != 2 || len(out.Services[0].Tags) != 0 {
		t.Fatalf("without include: %d services, tags %v", len(out.Services), out.Services[0].Tags)
	}
	if len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" ||
		aws.ToString(out.Failures[0].Arn) != serviceARN(region, memberA, "big", "ghost") {
		t.Fatalf("failures = %+v", out.Failures)
	}
	s := out.Services[0]
	if aws.ToString(s.Status) != "ACTIVE" || s.DesiredCount != 2 || s.RunningCount != 2 ||
		s.DeploymentController.Type != ecstypes.DeploymentControllerTypeEcs || s.SchedulingStrategy != ecstypes.SchedulingStrategyReplica {
		t.Fatalf("service = %+v", s)
	}
	if len(s.Deployments) != 1 || s.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateCompleted {
		t.Fatalf("deployments = %+v", s.Deployments)
	}

	out, err = c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("big"), Services: names[:1],
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tg := range out.Services[0].Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags[fleet.RestartTag] != "enabled" || tags["owner"] != "team-a" {
		t.Fatalf("tags = %v", tags)
	}

	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = fmt.Sprintf("svc-%03d", i)
	}
	_, err = c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("big"), Services: eleven})
	if code := apiCode(t, err); code != "InvalidParameterException" {
		t.Fatalf("11 services: code %s", code)
	}
}

func TestThrottlingIsTheRetryableShapeAWSSends(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(3)})
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	ctx := context.Background()
	update := func() error {
		_, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("big"), Service: aws.String("svc-000"), ForceNewDeployment: true})
		return err
	}
	for i := range 50 { // UpdateService: burst 50
		if err := update(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	err := update()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" || ae.ErrorMessage() != "Rate exceeded" {
		t.Fatalf("51st call: %v, want ThrottlingException: Rate exceeded", err)
	}
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) != aws.TrueTernary {
		t.Fatal("the SDK does not see the error as a throttle")
	}
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.FalseTernary {
		t.Fatal("the SDK sees the throttle as not retryable")
	}
	// Other buckets are untouched; the other account's too.
	if _, err := c.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("cluster read after service modify throttled: %v", err)
	}
	cb := h.ecsFor(h.memberCreds(memberB, "run-1"), 1)
	if _, err := cb.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("b1"), Service: aws.String("api"), ForceNewDeployment: true}); err != nil {
		t.Fatalf("other account throttled: %v", err)
	}
	// Sustained rate: 5 tokens a second.
	h.clock.Advance(time.Second)
	for i := range 5 {
		if err := update(); err != nil {
			t.Fatalf("after 1s, call %d: %v", i, err)
		}
	}
	if err := update(); apiCode(t, err) != "ThrottlingException" {
		t.Fatalf("6th call after 1s: %v", err)
	}
	st := h.sim.Stats()
	if st.Throttled["UpdateService"][memberA] != 2 || st.Calls["UpdateService"][memberA] != 57 {
		t.Fatalf("stats: throttled %v calls %v", st.Throttled["UpdateService"], st.Calls["UpdateService"])
	}
}

func TestThrottleScaleShrinksBuckets(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(1), ThrottleScale: 0.1})
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	for i := range 10 { // service read: burst 100 * 0.1
		if _, err := c.ListServices(context.Background(), &ecs.ListServicesInput{Cluster: aws.String("big")}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if _, err := c.ListServices(context.Background(), &ecs.ListServicesInput{Cluster: aws.String("big")}); apiCode(t, err) != "ThrottlingException" {
		t.Fatalf("11th call: %v", err)
	}
}

func TestAssumeRoleSwitchesAccounts(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(2), ExternalID: "ext-1"})
	ctx := context.Background()
	hub := h.stsClient(h.hubCreds())

	who, err := hub.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Account) != DefaultHubAccount {
		t.Fatalf("hub identity %v, %v", who, err)
	}
	out, err := hub.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(h.sim.RoleARN(memberB)),
		RoleSessionName: aws.String("daily-restart-2026-03-11"), ExternalId: aws.String("ext-1"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	cr := out.Credentials
	if !regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`).MatchString(aws.ToString(cr.AccessKeyId)) || aws.ToString(cr.SessionToken) == "" ||
		!cr.Expiration.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("credentials = %+v", cr)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::"+memberB+":assumed-role/"+DefaultRoleName+"/daily-restart-2026-03-11" {
		t.Fatalf("assumed role arn %s", got)
	}
	member := credentials.NewStaticCredentialsProvider(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	who, err = h.stsClient(member).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Account) != memberB {
		t.Fatalf("member identity %v, %v", who, err)
	}
	cl, err := h.ecsFor(member, 1).ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil || len(cl.ClusterArns) != 1 || cl.ClusterArns[0] != clusterARN(region, memberB, "b1") {
		t.Fatalf("member clusters %v, %v", cl, err)
	}
	if s := h.sim.Sessions(); len(s) != 1 || s[0].SessionName != "daily-restart-2026-03-11" || s[0].Account != memberB {
		t.Fatalf("sessions = %+v", s)
	}

	// Temporary credentials expire.
	h.clock.Advance(16 * time.Minute)
	_, err = h.ecsFor(member, 1).ListClusters(ctx, &ecs.ListClustersInput{})
	if code := apiCode(t, err); code != "ExpiredTokenException" {
		t.Fatalf("expired credentials: %s", code)
	}

	denied := []struct {
		name   string
		client *sts.Client
		in     sts.AssumeRoleInput
	}{
		{"unknown account", hub, sts.AssumeRoleInput{RoleArn: aws.String(h.sim.RoleARN("999999999999"))}},
		{"wrong role", hub, sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + memberA + ":role/admin")}},
		{"wrong external id", hub, sts.AssumeRoleInput{RoleArn: aws.String(h.sim.RoleARN(memberA)), ExternalId: aws.String("x")}},
		{"member is not trusted", h.stsClient(member), sts.AssumeRoleInput{RoleArn: aws.String(h.sim.RoleARN(memberA))}},
	}
	for _, tc := range denied {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.RoleSessionName = aws.String("s1")
			if in.ExternalId == nil {
				in.ExternalId = aws.String("ext-1")
			}
			_, err := tc.client.AssumeRole(ctx, &in)
			code := apiCode(t, err)
			if tc.name == "member is not trusted" {
				// The member's session expired above: STS says so first.
				if code != "ExpiredToken" {
					t.Fatalf("code %s", code)
				}
				return
			}
			var re interface{ HTTPStatusCode() int }
			if code != "AccessDenied" || !errors.As(err, &re) || re.HTTPStatusCode() != 403 {
				t.Fatalf("code %s, err %v", code, err)
			}
		})
	}
}

func TestMemberSessionCannotAssumeAnotherMember(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(1)})
	_, err := h.stsClient(h.memberCreds(memberA, "s1")).AssumeRole(context.Background(),
		&sts.AssumeRoleInput{RoleArn: aws.String(h.sim.RoleARN(memberB)), RoleSessionName: aws.String("s2")})
	if code := apiCode(t, err); code != "AccessDenied" {
		t.Fatalf("code %s", code)
	}
}

func newServer(tb testing.TB, sim *Sim) *httptest.Server {
	srv := httptest.NewServer(sim.Handler())
	tb.Cleanup(srv.Close)
	return srv
}
