package iamjudge_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/nequi-platform/wordpress-ecs/internal/iamjudge"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/calllog"
	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/setup"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The night against moto (third-party) is judged too: the same engine,
// against another opinion of ECS, STS, DynamoDB and SNS, with the report's
// publishes to the stack's topics, under the hub's policies (its
// StackSet's member role in each account, its functions' roles in the
// hub).
func TestEveryRequestOfAMotoNightIsAllowedByTheHubsPolicies(t *testing.T) {
	root := stacktest.Root(t)
	_, err := os.Stat(filepath.Join(root, "node_modules", "@cloud-copilot", "iam-simulate"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the IAM evaluator is not installed (npm ci)")
		}
		t.Skip("the IAM evaluator is not installed (npm ci)")
	}
	ep := testenv.Moto(t)
	ctx := t.Context()
	const region = "us-east-1"
	members := []string{"222222222222", "333333333333"}

	raw := stacktest.RawConfig(t, "hub")
	stacktest.Set(t, raw, "restart", map[string]any{"memberAccounts": members, "regions": []string{region}})
	p, cfg := stacktest.Record(t, "hub", raw)
	discover, err := iamjudge.FunctionEnv(p, "discover")
	if err != nil {
		t.Fatal(err)
	}
	reportEnv, err := iamjudge.FunctionEnv(p, "report")
	if err != nil {
		t.Fatal(err)
	}

	// moto's default account is the plan's (123456789012): the hub.
	hub := aws.Config{Region: region, BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAMOTOHUB", "secret", "")}
	stsClient := sts.NewFromConfig(hub)
	for _, acct := range members {
		creds := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, "arn:aws:iam::"+acct+":role/"+cfg.Restart.MemberRoleName,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "seed" }))
		c := ecs.NewFromConfig(hub, func(o *ecs.Options) { o.Credentials = creds })
		if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("app"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("nginx"), Memory: aws.Int32(128)}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("payments")}); err != nil {
			t.Fatal(err)
		}
		for _, sv := range []string{"api", "worker"} {
			if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("payments"), ServiceName: aws.String(sv),
				TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(1),
				Tags: []ecstypes.Tag{{Key: aws.String("owner"), Value: aws.String("payments")}, {Key: aws.String(fleet.RestartTag), Value: aws.String("enabled")}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	topics := sns.NewFromConfig(hub)
	for _, arn := range []string{reportEnv["SUMMARY_TOPIC_ARN"], reportEnv["OWNER_TOPIC_ARN"]} {
		if _, err := topics.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(arn[strings.LastIndex(arn, ":")+1:])}); err != nil {
			t.Fatal(err)
		}
	}

	var log bytes.Buffer
	s := setup.Settings{
		Endpoint: ep, DynamoDBEndpoint: ep, SNSEndpoint: ep, Region: region, StaticKeyID: "AKIAMOTOHUB",
		Accounts: members, Regions: []string{region},
		Roles:      awsfleet.Roles{Name: cfg.Restart.MemberRoleName, ExternalID: cfg.Restart.ExternalID},
		Enrollment: fleet.EnrollTagged, Window: fleet.DefaultWindow(), Location: time.UTC, OutsideWindow: true,
		InventoryTable: discover["INVENTORY_TABLE"], RunsTable: discover["RUNS_TABLE"], CreateTables: true,
		SummaryTopic: reportEnv["SUMMARY_TOPIC_ARN"], OwnerTopic: reportEnv["OWNER_TOPIC_ARN"],
		CallLog: &log,
	}
	e, err := setup.Build(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(ctx, engine.RunOptions{Input: engine.DiscoverInput{Day: time.Now().UTC().Format(time.DateOnly)}, NoWait: true,
		VerifyEvery: 100 * time.Millisecond, VerifyTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Summary.Counts; c.Restarted != 4 || c.AccountsFailed != 0 {
		t.Fatalf("the moto night restarted %d of 4 (%d accounts failed)", c.Restarted, c.AccountsFailed)
	}

	entries, err := calllog.Read(&log)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := iamjudge.FromPlan(p)
	if err != nil {
		t.Fatal(err)
	}
	reqs, problems := iamjudge.CallRequests(ps, entries, iamjudge.Org{ID: cfg.Restart.OrganizationID})
	for _, pr := range problems {
		t.Error(pr)
	}
	actions := map[string]bool{}
	for _, r := range reqs {
		actions[r.Action] = true
	}
	for _, want := range []string{"sns:Publish", "sts:AssumeRole", "ecs:UpdateService", "dynamodb:Query"} {
		if !actions[want] {
			t.Errorf("the moto night made no %s request", want)
		}
	}
	verdicts, err := iamjudge.Judge(ctx, root, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range iamjudge.Failures(reqs, verdicts) {
		t.Error(f)
	}
	t.Logf("%d logged requests, %d distinct judged", len(entries), len(reqs))
}
