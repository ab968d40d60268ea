package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/setup"
)

// A night against moto (third-party; nobody here wrote it): ECS, STS with
// AssumeRole into each member account, and DynamoDB, with AWS's request
// and error shapes.
//
// Where moto and fleetsim differ, AWS's documentation decides:
//   - moto drops the old deployment from a service's deployments the
//     moment a new one starts; ECS keeps it (status ACTIVE) until the new
//     PRIMARY has replaced its tasks ("deployments: The current state of
//     deployments for the service", Service; a rolling update "replaces
//     the currently running tasks with new tasks", DeploymentController).
//     fleetsim does as ECS does; the engine needs neither.
//   - moto answers ListServiceDeployments with HTTP 500 (not implemented);
//     ECS serves it (API Reference, ListServiceDeployments). The engine
//     notes that the history is unavailable and judges without it.
//   - moto runs no tasks, so its deployments stay IN_PROGRESS with no task
//     running: the engine must report them in progress, never failed.
//     Started with MOTO_ECS_SERVICE_RUNNING (testenv.Moto), its services
//     are created at their steady state (rolloutState COMPLETED), which
//     the check before a restart needs to see, as in AWS between
//     deployments; moto then counts more tasks running than desired, and
//     a restart's deployment never reaches its desired count.
func TestNightAgainstMoto(t *testing.T) {
	t.Parallel()
	ep := testenv.Moto(t)
	ctx := t.Context()
	const region = "us-east-1"
	members := []string{"222222222222", "333333333333"}
	hub := aws.Config{Region: region, BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAMOTOHUB", "secret", "")}
	stsClient := sts.NewFromConfig(hub)

	// The fleet: in each account two clusters with an enrolled, an
	// untagged, an opted-out and a scaled-to-zero service, and the same
	// service name in both clusters.
	type want struct {
		reason fleet.Reason // empty: restarted
	}
	wants := map[string]want{}
	before := map[string]string{} // ARN -> PRIMARY deployment before the night
	clients := map[string]*ecs.Client{}
	for _, acct := range members {
		creds := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, "arn:aws:iam::"+acct+":role/ecs-daily-restart",
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "seed" }))
		c := ecs.NewFromConfig(hub, func(o *ecs.Options) { o.Credentials = creds })
		clients[acct] = c
		if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("app"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("nginx"), Memory: aws.Int32(128)}}}); err != nil {
			t.Fatal(err)
		}
		for _, cl := range []string{"payments", "ledger"} {
			if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cl)}); err != nil {
				t.Fatal(err)
			}
			for _, sv := range []struct {
				name    string
				desired int32
				tag     string
				reason  fleet.Reason
			}{
				{"api", 2, "enabled", ""},
				{"worker", 1, "2026-01-01T00:00:00Z", ""},
				{"legacy", 1, "", fleet.ReasonUnenrolled},
				{"batch", 1, fleet.OptOutValue, fleet.ReasonOptedOut},
				{"idle", 0, "enabled", fleet.ReasonDesiredZero},
			} {
				in := &ecs.CreateServiceInput{Cluster: aws.String(cl), ServiceName: aws.String(sv.name), TaskDefinition: aws.String("app"),
					DesiredCount: aws.Int32(sv.desired), Tags: []ecstypes.Tag{{Key: aws.String("owner"), Value: aws.String(cl + "@example.com")}}}
				if sv.tag != "" {
					in.Tags = append(in.Tags, ecstypes.Tag{Key: aws.String(fleet.RestartTag), Value: aws.String(sv.tag)})
				}
				out, err := c.CreateService(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				arn := aws.ToString(out.Service.ServiceArn)
				wants[arn] = want{reason: sv.reason}
				for _, d := range out.Service.Deployments {
					if aws.ToString(d.Status) == "PRIMARY" {
						before[arn] = aws.ToString(d.Id)
					}
				}
			}
		}
	}

	s := setup.Settings{
		Endpoint: ep, DynamoDBEndpoint: ep, Region: region, StaticKeyID: "AKIAMOTOHUB",
		Accounts: members, Regions: []string{region}, Roles: awsfleet.Roles{Name: "ecs-daily-restart"},
		Enrollment: fleet.EnrollTagged, Window: fleet.DefaultWindow(), Location: time.UTC, OutsideWindow: true,
		InventoryTable: "inventory", RunsTable: "runs", CreateTables: true, Retry: fastRetry,
	}
	day := time.Now().UTC().Format(time.DateOnly)
	night := func() engine.RunResult {
		t.Helper()
		e, err := setup.Build(ctx, s, engine.WithProgress(func(format string, args ...any) {
			if testing.Verbose() {
				t.Logf(format, args...)
			}
		}))
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Run(ctx, engine.RunOptions{Input: engine.DiscoverInput{Day: day}, NoWait: true,
			VerifyEvery: 100 * time.Millisecond, VerifyTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	res := night()
	c := res.Summary.Counts
	restarted := 0
	for _, w := range wants {
		if w.reason == "" {
			restarted++
		} else {
			c.SkippedByReason[w.reason]--
		}
	}
	if c.Discovered != len(wants) || c.AccountsFailed != 0 {
		t.Fatalf("discovered %d of %d services (%d account/Region pairs failed: %+v)", c.Discovered, len(wants), c.AccountsFailed, res.Summary.Accounts)
	}
	for r, n := range c.SkippedByReason {
		if n != 0 {
			t.Errorf("skipped for %s: %d more than expected", r, n)
		}
	}
	// moto's deployments never finish: in progress, never failed.
	if c.Restarted != restarted || c.InProgress != restarted || c.Failed+c.RolledBack+c.Gone+c.Completed+c.NotStarted+c.Claimed+c.NotAttempted != 0 {
		t.Fatalf("counts %+v: want all %d enrolled services restarted and still in progress", c, restarted)
	}
	after := map[string]string{}
	for arn, w := range wants {
		acct, cl, name := arnParts(arn)
		after[arn] = primaryOf(t, clients[acct], cl, name)
		changed := after[arn] != before[arn]
		if changed != (w.reason == "") {
			t.Errorf("%s: PRIMARY %s -> %s; want a new one only for an enrolled service", arn, before[arn], after[arn])
		}
	}

	// The rerun restarts nothing, and still calls nothing failed.
	res2 := night()
	if res2.Report.RestartedThisRun != 0 || res2.Summary.Counts.Failed != 0 || res2.Summary.Counts.InProgress != restarted {
		t.Fatalf("rerun: restarted %d, counts %+v", res2.Report.RestartedThisRun, res2.Summary.Counts)
	}
	for arn := range wants {
		acct, cl, name := arnParts(arn)
		if p := primaryOf(t, clients[acct], cl, name); p != after[arn] {
			t.Errorf("%s: rerun started deployment %s", arn, p)
		}
	}
}

func primaryOf(t *testing.T, c *ecs.Client, cluster, name string) string {
	t.Helper()
	out, err := c.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("describe %s/%s: %v %+v", cluster, name, err, out)
	}
	for _, d := range out.Services[0].Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			return aws.ToString(d.Id)
		}
	}
	t.Fatalf("%s/%s has no PRIMARY deployment", cluster, name)
	return ""
}

// arnParts splits arn:aws:ecs:<region>:<account>:service/<cluster>/<name>.
func arnParts(arn string) (account, cluster, name string) {
	p := strings.SplitN(arn, ":", 6)
	r := strings.Split(p[5], "/")
	return p[4], r[1], r[2]
}
