package plan

import (
	"regexp"
	"sync"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudformation"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sfn"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// outputsOf records a program declaring unnamed resources in region and
// returns the outputs it read back, by name.
func outputsOf(t *testing.T, region string) map[string]string {
	t.Helper()
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		got = map[string]string{}
	)
	read := func(key string, o pulumi.StringOutput) {
		wg.Add(1)
		o.ApplyT(func(s string) string {
			mu.Lock()
			got[key] = s
			mu.Unlock()
			wg.Done()
			return s
		})
	}
	program := func(ctx *pulumi.Context) error {
		role, err := iam.NewRole(ctx, "worker", &iam.RoleArgs{Path: pulumi.String("/service-role/"), AssumeRolePolicy: pulumi.String("{}")})
		if err != nil {
			return err
		}
		read("role.name", role.Name)
		read("role.arn", role.Arn)
		read("role.id", role.ID().ToStringOutput())
		fn, err := lambda.NewFunction(ctx, "work", &lambda.FunctionArgs{Role: role.Arn, Runtime: pulumi.String("provided.al2023")})
		if err != nil {
			return err
		}
		read("fn.arn", fn.Arn)
		read("fn.id", fn.ID().ToStringOutput())
		read("fn.invokeArn", fn.InvokeArn)
		read("fn.qualifiedArn", fn.QualifiedArn)
		published, err := lambda.NewFunction(ctx, "published", &lambda.FunctionArgs{Name: pulumi.String("published"), Role: role.Arn, Publish: pulumi.Bool(true)})
		if err != nil {
			return err
		}
		read("published.qualifiedArn", published.QualifiedArn)
		q, err := sqs.NewQueue(ctx, "jobs", nil)
		if err != nil {
			return err
		}
		read("queue.arn", q.Arn)
		read("queue.url", q.Url)
		read("queue.id", q.ID().ToStringOutput())
		fifo, err := sqs.NewQueue(ctx, "ordered", &sqs.QueueArgs{FifoQueue: pulumi.Bool(true)})
		if err != nil {
			return err
		}
		read("fifo.arn", fifo.Arn)
		topic, err := sns.NewTopic(ctx, "news", nil)
		if err != nil {
			return err
		}
		read("topic.id", topic.ID().ToStringOutput())
		sub, err := sns.NewTopicSubscription(ctx, "reader", &sns.TopicSubscriptionArgs{Topic: topic.Arn, Protocol: pulumi.String("sqs"), Endpoint: q.Arn})
		if err != nil {
			return err
		}
		read("subscription.arn", sub.Arn)
		table, err := dynamodb.NewTable(ctx, "events", &dynamodb.TableArgs{StreamEnabled: pulumi.Bool(true), StreamViewType: pulumi.String("NEW_IMAGE")})
		if err != nil {
			return err
		}
		read("table.streamArn", table.StreamArn)
		key, err := kms.NewKey(ctx, "data", nil)
		if err != nil {
			return err
		}
		read("key.keyId", key.KeyId)
		read("key.id", key.ID().ToStringOutput())
		read("key.arn", key.Arn)
		alias, err := kms.NewAlias(ctx, "data", &kms.AliasArgs{Name: pulumi.String("alias/data"), TargetKeyId: key.KeyId})
		if err != nil {
			return err
		}
		read("alias.targetKeyArn", alias.TargetKeyArn)
		rule, err := cloudwatch.NewEventRule(ctx, "deploys", &cloudwatch.EventRuleArgs{EventBusName: pulumi.String("ops"), EventPattern: pulumi.String("{}")})
		if err != nil {
			return err
		}
		read("rule.arn", rule.Arn)
		read("rule.id", rule.ID().ToStringOutput())
		sched, err := scheduler.NewSchedule(ctx, "nightly", &scheduler.ScheduleArgs{
			GroupName:          pulumi.String("batch"),
			ScheduleExpression: pulumi.String("cron(0 0 * * ? *)"),
			FlexibleTimeWindow: scheduler.ScheduleFlexibleTimeWindowArgs{Mode: pulumi.String("OFF")},
			Target:             scheduler.ScheduleTargetArgs{Arn: q.Arn, RoleArn: role.Arn},
		})
		if err != nil {
			return err
		}
		read("schedule.arn", sched.Arn)
		svc, err := ecs.NewService(ctx, "web", &ecs.ServiceArgs{Cluster: pulumi.String("shop")})
		if err != nil {
			return err
		}
		read("service.id", svc.ID().ToStringOutput())
		sm, err := sfn.NewStateMachine(ctx, "flow", &sfn.StateMachineArgs{Definition: pulumi.String("{}"), RoleArn: role.Arn})
		if err != nil {
			return err
		}
		read("stateMachine.id", sm.ID().ToStringOutput())
		secret, err := secretsmanager.NewSecret(ctx, "token", nil)
		if err != nil {
			return err
		}
		read("secret.arn", secret.Arn)
		set, err := cloudformation.NewStackSet(ctx, "members", &cloudformation.StackSetArgs{TemplateBody: pulumi.String("{}")})
		if err != nil {
			return err
		}
		read("stackSet.arn", set.Arn)
		read("stackSet.stackSetId", set.StackSetId)
		dash, err := cloudwatch.NewDashboard(ctx, "ops", &cloudwatch.DashboardArgs{DashboardName: pulumi.String("ops"), DashboardBody: pulumi.String("{}")})
		if err != nil {
			return err
		}
		read("dashboard.dashboardArn", dash.DashboardArn)
		param, err := ssm.NewParameter(ctx, "setting", &ssm.ParameterArgs{Type: pulumi.String("String"), Value: pulumi.String("v")})
		if err != nil {
			return err
		}
		read("parameter.arn", param.Arn)
		return nil
	}
	if _, err := Record(program, Options{Project: "shop", Stack: "test", Config: map[string]string{"aws:region": region}}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return got
}

// TestTheProgramReadsBackWhatAWSComputes pins the outputs a program reads
// from resources it does not name, in two partitions: Pulumi's autoname
// in the name, the id and every ARN; the provider's derived ARNs (invoke,
// qualified, stream, subscription); the queue URL on the partition's domain.
func TestTheProgramReadsBackWhatAWSComputes(t *testing.T) {
	for _, c := range []struct{ region, part, domain string }{
		{"us-east-1", "aws", "amazonaws.com"},
		{"cn-north-1", "aws-cn", "amazonaws.com.cn"},
	} {
		got := outputsOf(t, c.region)
		arn := func(svc, res string) string {
			return "arn:" + c.part + ":" + svc + ":" + c.region + ":123456789012:" + res
		}
		const hex7, uuid = "[0-9a-f]{7}", "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
		want := map[string]string{
			"role.name":              "worker-" + hex7,
			"role.id":                "worker-" + hex7,
			"role.arn":               "arn:" + c.part + ":iam::123456789012:role/service-role/worker-" + hex7,
			"fn.id":                  "work-" + hex7,
			"fn.arn":                 arn("lambda", "function:work-"+hex7),
			"fn.qualifiedArn":        arn("lambda", `function:work-`+hex7+`:\$LATEST`),
			"fn.invokeArn":           "arn:" + c.part + ":apigateway:" + c.region + ":lambda:path/2015-03-31/functions/" + arn("lambda", "function:work-"+hex7) + "/invocations",
			"published.qualifiedArn": arn("lambda", "function:published:1"),
			"queue.arn":              arn("sqs", "jobs-"+hex7),
			"queue.url":              `https://sqs\.` + c.region + `\.` + c.domain + `/123456789012/jobs-` + hex7,
			"queue.id":               `https://sqs\.` + c.region + `\.` + c.domain + `/123456789012/jobs-` + hex7,
			"fifo.arn":               arn("sqs", "ordered-"+hex7+`\.fifo`),
			"topic.id":               arn("sns", "news-"+hex7),
			"subscription.arn":       arn("sns", "news-"+hex7+":"+uuid),
			"table.streamArn":        arn("dynamodb", "table/events-"+hex7+`/stream/2025-01-01T00:00:00\.000`),
			"key.keyId":              uuid,
			"key.id":                 uuid,
			"key.arn":                arn("kms", "key/"+uuid),
			"alias.targetKeyArn":     arn("kms", "key/"+uuid),
			"rule.arn":               arn("events", "rule/ops/deploys-"+hex7),
			"rule.id":                "ops/deploys-" + hex7,
			"schedule.arn":           arn("scheduler", "schedule/batch/nightly-"+hex7),
			"service.id":             arn("ecs", "service/shop/web-"+hex7),
			"stateMachine.id":        arn("states", "stateMachine:flow-"+hex7),
			"secret.arn":             arn("secretsmanager", "secret:token-"+hex7+"-[A-Za-z0-9]{6}"),
			"stackSet.arn":           arn("cloudformation", "stackset/members-"+hex7+":"+uuid),
			"stackSet.stackSetId":    "members-" + hex7 + ":" + uuid,
			"dashboard.dashboardArn": "arn:" + c.part + ":cloudwatch::123456789012:dashboard/ops",
			"parameter.arn":          arn("ssm", "parameter/setting-"+hex7),
		}
		for k, w := range want {
			if !regexp.MustCompile("^" + w + "$").MatchString(got[k]) {
				t.Errorf("%s: %s = %q, want %s", c.region, k, got[k], w)
			}
		}
		if got["key.id"] != got["key.keyId"] || got["alias.targetKeyArn"] != got["key.arn"] {
			t.Errorf("%s: key id %q, keyId %q, arn %q, alias target %q: want one key", c.region, got["key.id"], got["key.keyId"], got["key.arn"], got["alias.targetKeyArn"])
		}
	}
}

// TestAnUnknownServiceLinkedRoleIsAnError: the recorder does not make up
// the name AWS gives a service-linked role.
func TestAnUnknownServiceLinkedRoleIsAnError(t *testing.T) {
	program := func(ctx *pulumi.Context) error {
		_, err := iam.NewServiceLinkedRole(ctx, "x", &iam.ServiceLinkedRoleArgs{AwsServiceName: pulumi.String("example.amazonaws.com")})
		return err
	}
	_, err := Record(program, Options{Project: "shop", Stack: "test", Config: map[string]string{"aws:region": "us-east-1"}})
	if err == nil || !regexp.MustCompile(`serviceLinkedRoleNames in plan/arns.go`).MatchString(err.Error()) {
		t.Fatalf("err = %v, want one naming serviceLinkedRoleNames", err)
	}
}

// TestByIDFindsTheResourceNotTheOneKnownByItsID: a file system's backup
// policy has the file system's id, as the provider has it; following a
// fileSystemId leads to the file system.
func TestByIDFindsTheResourceNotTheOneKnownByItsID(t *testing.T) {
	p := &Plan{Resources: []Resource{
		{URN: "urn:a", Type: "aws:efs/backupPolicy:BackupPolicy", Name: "wp", ID: "fs-0123456789abcdef0"},
		{URN: "urn:b", Type: "aws:efs/fileSystem:FileSystem", Name: "wp", ID: "fs-0123456789abcdef0", ARN: "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0"},
		{URN: "urn:c", Type: "aws:efs/fileSystemPolicy:FileSystemPolicy", Name: "wp", ID: "fs-0123456789abcdef0"},
	}}
	if r, ok := p.ByID("fs-0123456789abcdef0"); !ok || r.Type != "aws:efs/fileSystem:FileSystem" {
		t.Errorf("ByID = %s, want the file system", r.Label())
	}
	if _, ok := p.ByID(""); ok {
		t.Error("ByID of no id found a resource")
	}
}
