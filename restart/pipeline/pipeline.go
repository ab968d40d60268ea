// Package pipeline is the nightly restart as Pulumi infrastructure:
// EventBridge Scheduler starts a Step Functions state machine at the
// window's start in the stack's time zone; its tasks are the engine's Go
// Lambdas (arm64, provided.al2023, built by the program); the engine keeps
// its state in DynamoDB tables made from store.Schemas(); SNS carries the
// summary, owner notifications and alarms; and a member role in every
// member account (a StackSet to OUs, or directly in a single-account
// stack) lets the hub's Lambdas restart ECS services there.
package pipeline

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	awsiam "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sfn"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/iam"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
	"github.com/nequi-platform/wordpress-ecs/restart/workflow"
)

// Deployment says how the member role reaches the member accounts.
type Deployment string

// The deployments.
const (
	// StackSet: a service-managed CloudFormation StackSet, auto-deployed to
	// the OUs.
	StackSet Deployment = "stackSet"
	// Direct: an IAM role in the stack's own account.
	Direct Deployment = "direct"
)

// MemberRole is the role the hub assumes in each member account.
type MemberRole struct {
	Name       string
	Deployment Deployment
	// OrganizationalUnits are the StackSet's targets.
	OrganizationalUnits []string
	// OrganizationID and ExternalID are the trust's conditions (at least
	// one).
	OrganizationID string
	ExternalID     string
	// CallAs is the StackSet's SELF or DELEGATED_ADMIN.
	CallAs string
}

// Args configure the pipeline.
type Args struct {
	// Env is the hub's account, Region and partition.
	Env account.Env
	// Code is the functions' archive (BuildLambda).
	Code Artifact

	// MemberAccounts are the accounts the engine restarts; Regions the
	// Regions.
	MemberAccounts []string
	Regions        []string
	MemberRole     MemberRole
	// Clusters, with a direct member role, are the stack's own clusters
	// (ARNs): the engine restarts their services only (its CLUSTERS), and
	// the member role may update and tag no other service. A stack that
	// shares its account restarts nobody else's services.
	Clusters []string
	// Stack is the stack's name: the Stack dimension of the engine's
	// metrics and of the alarms on them.
	Stack string

	// Window and TimeZone (IANA) place the night; the schedule fires at
	// the window's start in that zone.
	Window   fleet.Window
	TimeZone string
	// MinInterval, OutsideWindow, RecordTTLDays, Enrollment, the bucket
	// shares, AccountRate (0: the bucket share of ECS's 5/s) and Breaker
	// are the engine's settings (its Lambda environment).
	MinInterval         time.Duration
	OutsideWindow       bool
	RecordTTLDays       int
	Enrollment          string
	BucketShare         float64
	AccountBucketShares map[string]float64
	AccountRate         float64
	Breaker             Breaker
	// ScheduleDisabled leaves the schedule in place, DISABLED: no night
	// starts until the stack turns it back on.
	ScheduleDisabled bool
	// ExpectedDeploymentTime is the deployment time the plan's window fit
	// assumes until a night has observed one (the engine's default when
	// zero).
	ExpectedDeploymentTime time.Duration

	// MemoryMB and TimeoutSeconds size every function.
	MemoryMB, TimeoutSeconds int
	// LogRetentionDays is every log group's retention.
	LogRetentionDays int
	// Tracing turns on X-Ray for the functions and the state machine.
	Tracing bool
	// DeletionProtection protects the tables.
	DeletionProtection bool

	// AlarmTopicARN receives every alarm; nil sends them to the pipeline's
	// summary topic.
	AlarmTopicARN pulumi.StringInput

	Tags map[string]string
}

// Breaker is the night's circuit breakers (restart/engine.Breaker): the
// fleet's trips at MaxFailed failed or rolled-back restarts making
// MaxFailedPercent of those verified, an account's at AccountMaxFailed
// making AccountMaxFailedPercent of its own.
type Breaker struct {
	MaxFailed               int
	MaxFailedPercent        float64
	AccountMaxFailed        int
	AccountMaxFailedPercent float64
}

// Pipeline is the deployed restart pipeline.
type Pipeline struct {
	pulumi.ResourceState

	StateMachineARN pulumi.StringOutput
	KeyARN          pulumi.StringOutput
	SummaryTopicARN pulumi.StringOutput
	OwnerTopicARN   pulumi.StringOutput
	// MemberRoleStackSet is the StackSet's name (stackSet deployment only).
	MemberRoleStackSet pulumi.StringOutput
}

// TTLAttribute is the attribute DynamoDB expires run records and
// inventories by (epoch seconds, written by the engine from
// RECORD_TTL_DAYS): the store's own.
const TTLAttribute = store.AttrTTL

// names are the pipeline's resource names, derived from the component's
// name so that the IAM policies can name their resources' ARNs before
// the resources exist.
type names struct {
	prefix, stateMachine, schedule, inventory, runs, summary, owners, dlq, scheduleDLQ string
}

func namesFor(name string) names {
	return names{
		prefix:       name,
		stateMachine: name + "-daily-restart",
		schedule:     name + "-daily-restart",
		inventory:    name + "-restart-inventory",
		runs:         name + "-restart-runs",
		summary:      name + "-restart-summary",
		owners:       name + "-restart-owners",
		dlq:          name + "-restart-dlq",
		scheduleDLQ:  name + "-restart-schedule-dlq",
	}
}

func (n names) function(handler string) string { return n.prefix + "-restart-" + handler }
func (n names) functionLogGroup(handler string) string {
	return "/aws/lambda/" + n.function(handler)
}

// stateMachineLogGroup is under /aws/vendedlogs/, which Step Functions'
// log delivery writes to without growing the account's CloudWatch Logs
// resource policy (Step Functions developer guide, "Logging using
// CloudWatch Logs").
func (n names) stateMachineLogGroup() string { return "/aws/vendedlogs/states/" + n.stateMachine }

func (a Args) arn(service, resource string) string {
	return a.Env.ARN(service, a.Env.Region, a.Env.AccountID, resource)
}

func (a Args) validate() error {
	var errs []string
	if a.Env.AccountID == "" || a.Env.Region == "" || a.Env.Partition == "" || a.Env.DNSSuffix == "" {
		errs = append(errs, "account, Region, partition and DNS suffix are required")
	}
	if a.Code.Path == "" || a.Code.SHA256 == "" {
		errs = append(errs, "no Lambda archive (BuildLambda)")
	}
	if len(a.MemberAccounts) == 0 || len(a.Regions) == 0 {
		errs = append(errs, "no member accounts or Regions")
	}
	if a.MemberRole.Name == "" {
		errs = append(errs, "no member role name")
	}
	if a.MemberRole.OrganizationID == "" && a.MemberRole.ExternalID == "" {
		errs = append(errs, "the member role needs an organization id or an external id to condition its trust")
	}
	switch a.MemberRole.Deployment {
	case StackSet:
		if len(a.MemberRole.OrganizationalUnits) == 0 || a.MemberRole.OrganizationID == "" {
			errs = append(errs, "a StackSet deployment needs organizational units and the organization id")
		}
	case Direct:
		if len(a.MemberAccounts) != 1 || a.MemberAccounts[0] != a.Env.AccountID {
			errs = append(errs, fmt.Sprintf("a direct member role restarts the stack's own account %s only, got accounts %v", a.Env.AccountID, a.MemberAccounts))
		}
		if len(a.Clusters) == 0 {
			errs = append(errs, "a direct member role restarts the stack's own clusters only, and none is given")
		}
	default:
		errs = append(errs, fmt.Sprintf("unknown member role deployment %q", a.MemberRole.Deployment))
	}
	if err := a.Window.Validate(); err != nil {
		errs = append(errs, err.Error())
	}
	if _, err := time.LoadLocation(a.TimeZone); err != nil || a.TimeZone == "" {
		errs = append(errs, fmt.Sprintf("time zone %q: %v", a.TimeZone, err))
	}
	if a.MemoryMB == 0 || a.TimeoutSeconds == 0 || a.LogRetentionDays == 0 || a.RecordTTLDays == 0 || a.MinInterval == 0 {
		errs = append(errs, "memory, timeout, log retention, record TTL and minimum interval must be set")
	}
	if a.BucketShare <= 0 || a.BucketShare > 1 || a.AccountRate < 0 || a.AccountRate > 5 {
		errs = append(errs, fmt.Sprintf("bucket share %v must be in (0, 1] and account rate %v in [0, 5]", a.BucketShare, a.AccountRate))
	}
	if b := a.Breaker; b.MaxFailed < 1 || b.AccountMaxFailed < 1 || b.MaxFailedPercent <= 0 || b.MaxFailedPercent > 100 || b.AccountMaxFailedPercent <= 0 || b.AccountMaxFailedPercent > 100 {
		errs = append(errs, fmt.Sprintf("circuit breakers %+v: want failures of 1 or more and percentages in (0, 100]", b))
	}
	if len(errs) > 0 {
		return fmt.Errorf("restart pipeline: %s", strings.Join(errs, "; "))
	}
	return nil
}

// NewPipeline declares the pipeline.
func NewPipeline(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (*Pipeline, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	p := &Pipeline{}
	if err := ctx.RegisterComponentResource("wordpress:restart:Pipeline", name, p, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(p)
	n := namesFor(name)
	tags := pulumi.ToStringMap(a.Tags)

	// The key.
	var logGroupARNs []string
	for _, h := range workflow.Handlers {
		logGroupARNs = append(logGroupARNs, a.arn("logs", "log-group:"+n.functionLogGroup(h)))
	}
	logGroupARNs = append(logGroupARNs, a.arn("logs", "log-group:"+n.stateMachineLogGroup()))
	keyDoc, err := keyPolicy(a, logGroupARNs).JSON()
	if err != nil {
		return nil, err
	}
	key, err := kms.NewKey(ctx, name+"-restart", &kms.KeyArgs{
		Description:          pulumi.String("Nightly ECS restart: tables, queues, topics and logs of " + name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               pulumi.String(keyDoc),
		Tags:                 tags,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("restart key: %w", err)
	}
	if _, err := kms.NewAlias(ctx, name+"-restart", &kms.AliasArgs{
		Name:        pulumi.String("alias/" + name + "-restart"),
		TargetKeyId: key.KeyId,
	}, child); err != nil {
		return nil, fmt.Errorf("restart key alias: %w", err)
	}

	// Tables, from the engine's own schema.
	for _, s := range store.Schemas(n.inventory, n.runs) {
		if err := table(ctx, s, a, key.Arn, tags, child); err != nil {
			return nil, err
		}
	}

	// Topics and dead-letter queues, encrypted with the key.
	topic := func(tn, display string) (*sns.Topic, error) {
		t, err := sns.NewTopic(ctx, tn, &sns.TopicArgs{
			Name:           pulumi.String(tn),
			DisplayName:    pulumi.String(display),
			KmsMasterKeyId: key.Arn,
			Tags:           tags,
		}, child)
		if err != nil {
			return nil, fmt.Errorf("topic %s: %w", tn, err)
		}
		return t, nil
	}
	summary, err := topic(n.summary, "Daily restart")
	if err != nil {
		return nil, err
	}
	owners, err := topic(n.owners, "Daily restart: your services")
	if err != nil {
		return nil, err
	}
	queue := func(qn string) (*sqs.Queue, error) {
		q, err := sqs.NewQueue(ctx, qn, &sqs.QueueArgs{
			Name:                         pulumi.String(qn),
			KmsMasterKeyId:               key.Arn,
			KmsDataKeyReusePeriodSeconds: pulumi.Int(300),
			// SQS's longest retention: 14 days to look at a failure.
			MessageRetentionSeconds: pulumi.Int(14 * 24 * 3600),
			Tags:                    tags,
		}, child)
		if err != nil {
			return nil, fmt.Errorf("queue %s: %w", qn, err)
		}
		return q, nil
	}
	dlq, err := queue(n.dlq)
	if err != nil {
		return nil, err
	}
	scheduleDLQ, err := queue(n.scheduleDLQ)
	if err != nil {
		return nil, err
	}

	// Functions.
	fns := map[string]*lambda.Function{}
	var hubRoles pulumi.StringArray
	for _, h := range workflow.Handlers {
		fn, role, err := p.function(ctx, n, h, a, key, dlq, tags, child)
		if err != nil {
			return nil, err
		}
		fns[h] = fn
		if assumesMemberRole(h) {
			hubRoles = append(hubRoles, role.Arn)
		}
	}

	// State machine.
	sm, err := stateMachine(ctx, n, a, key, tags, child)
	if err != nil {
		return nil, err
	}

	// Schedule.
	if err := schedule(ctx, n, a, sm, scheduleDLQ, key, child); err != nil {
		return nil, err
	}

	// Member role.
	hub := hubRoles.ToStringArrayOutput()
	p.MemberRoleStackSet = pulumi.String("").ToStringOutput()
	switch a.MemberRole.Deployment {
	case StackSet:
		err = p.memberRoleByStackSet(ctx, name, a, hub, child)
	case Direct:
		err = p.memberRoleDirect(ctx, name, a, hub, child)
	}
	if err != nil {
		return nil, err
	}

	// Alarms and the dashboard.
	alarmTopic := a.AlarmTopicARN
	if alarmTopic == nil {
		alarmTopic = summary.Arn
	}
	if err := alarms(ctx, n, a, alarmTopic, tags, child); err != nil {
		return nil, err
	}
	if err := dashboard(ctx, n, a, child); err != nil {
		return nil, err
	}

	p.StateMachineARN = sm.Arn
	p.KeyARN = key.Arn
	p.SummaryTopicARN = summary.Arn
	p.OwnerTopicARN = owners.Arn
	return p, ctx.RegisterResourceOutputs(p, pulumi.Map{
		"stateMachineArn":    sm.Arn,
		"keyArn":             key.Arn,
		"summaryTopicArn":    summary.Arn,
		"ownerTopicArn":      owners.Arn,
		"memberRoleStackSet": p.MemberRoleStackSet,
	})
}

// assumesMemberRole says which handlers call ECS in member accounts.
func assumesMemberRole(handler string) bool {
	return handler == workflow.Discover || handler == workflow.Restart || handler == workflow.Verify
}

// table declares one of the engine's tables: on-demand, point-in-time
// recovery, encrypted with the pipeline key, expiring items by TTLAttribute.
func table(ctx *pulumi.Context, s store.TableSchema, a Args, keyARN pulumi.StringOutput, tags pulumi.StringMap, opts ...pulumi.ResourceOption) error {
	attrs := map[string]string{s.PartitionKey.Name: s.PartitionKey.Type, s.SortKey.Name: s.SortKey.Type}
	var gsis dynamodb.TableGlobalSecondaryIndexArray
	for _, ix := range s.Indexes {
		attrs[ix.PartitionKey.Name] = ix.PartitionKey.Type
		gsi := &dynamodb.TableGlobalSecondaryIndexArgs{
			Name:           pulumi.String(ix.Name),
			HashKey:        pulumi.String(ix.PartitionKey.Name),
			ProjectionType: pulumi.String("ALL"),
		}
		if ix.SortKey.Name != "" {
			attrs[ix.SortKey.Name] = ix.SortKey.Type
			gsi.RangeKey = pulumi.String(ix.SortKey.Name)
		}
		gsis = append(gsis, gsi)
	}
	var attributes dynamodb.TableAttributeArray
	for _, name := range sortedKeys(attrs) {
		attributes = append(attributes, &dynamodb.TableAttributeArgs{Name: pulumi.String(name), Type: pulumi.String(attrs[name])})
	}
	if _, err := dynamodb.NewTable(ctx, s.Name, &dynamodb.TableArgs{
		Name:                      pulumi.String(s.Name),
		BillingMode:               pulumi.String("PAY_PER_REQUEST"),
		HashKey:                   pulumi.String(s.PartitionKey.Name),
		RangeKey:                  pulumi.String(s.SortKey.Name),
		Attributes:                attributes,
		GlobalSecondaryIndexes:    gsis,
		PointInTimeRecovery:       &dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)},
		ServerSideEncryption:      &dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true), KmsKeyArn: keyARN},
		Ttl:                       &dynamodb.TableTtlArgs{AttributeName: pulumi.String(s.TTLAttribute), Enabled: pulumi.Bool(true)},
		DeletionProtectionEnabled: pulumi.Bool(a.DeletionProtection),
		Tags:                      tags,
	}, opts...); err != nil {
		return fmt.Errorf("table %s: %w", s.Name, err)
	}
	return nil
}

// Environment is the functions' environment, as setup.FromEnv reads it.
func (a Args) Environment(n names, handler string) map[string]string {
	env := map[string]string{
		"ACCOUNTS":        strings.Join(a.MemberAccounts, ","),
		"REGIONS":         strings.Join(a.Regions, ","),
		"ROLE_NAME":       a.MemberRole.Name,
		"ENROLLMENT":      a.Enrollment,
		"TIME_ZONE":       a.TimeZone,
		"WINDOW_START":    a.Window.SlotStart(0),
		"WINDOW_LENGTH":   a.Window.Length.String(),
		"BATCH_INTERVAL":  a.Window.Interval.String(),
		"MIN_INTERVAL":    a.MinInterval.String(),
		"OUTSIDE_WINDOW":  strconv.FormatBool(a.OutsideWindow),
		"RECORD_TTL_DAYS": strconv.Itoa(a.RecordTTLDays),
		"BUCKET_SHARE":    num(a.BucketShare),
		"INVENTORY_TABLE": n.inventory,
		"RUNS_TABLE":      n.runs,
		// Read by discover, restart and verify; the same everywhere, so
		// that a step never judges the night by other thresholds.
		"BREAKER_MAX_FAILED":                 strconv.Itoa(a.Breaker.MaxFailed),
		"BREAKER_MAX_FAILED_PERCENT":         num(a.Breaker.MaxFailedPercent),
		"BREAKER_ACCOUNT_MAX_FAILED":         strconv.Itoa(a.Breaker.AccountMaxFailed),
		"BREAKER_ACCOUNT_MAX_FAILED_PERCENT": num(a.Breaker.AccountMaxFailedPercent),
	}
	if a.AccountRate > 0 {
		env["UPDATE_RATE"] = num(a.AccountRate)
	}
	if len(a.AccountBucketShares) > 0 {
		var shares []string
		for _, acct := range sortedKeys(a.AccountBucketShares) {
			shares = append(shares, acct+"="+num(a.AccountBucketShares[acct]))
		}
		env["ACCOUNT_BUCKET_SHARES"] = strings.Join(shares, ",")
	}
	if a.MemberRole.ExternalID != "" {
		env["EXTERNAL_ID"] = a.MemberRole.ExternalID
	}
	if a.ExpectedDeploymentTime > 0 {
		env["EXPECTED_DEPLOYMENT_TIME"] = a.ExpectedDeploymentTime.String()
	}
	if len(a.Clusters) > 0 {
		env["CLUSTERS"] = strings.Join(a.Clusters, ",")
	}
	if a.Stack != "" {
		env["STACK"] = a.Stack
	}
	if handler == workflow.Report {
		env["SUMMARY_TOPIC_ARN"] = a.arn("sns", n.summary)
		env["OWNER_TOPIC_ARN"] = a.arn("sns", n.owners)
	}
	return env
}

// functionPolicy is what one function may do: write its logs, read and
// write the engine's tables (DynamoDBActions, with the table key through
// DynamoDB), dead-letter its failed asynchronous invocations; Report
// publishes to the pipeline's topics (and encrypts for them through SNS);
// the fleet steps assume the member role in the member accounts.
func functionPolicy(n names, h string, a Args, keyARN string) (iam.Policy, error) {
	lg := a.arn("logs", "log-group:"+n.functionLogGroup(h))
	var tables []string
	for _, t := range []string{n.inventory, n.runs} {
		tables = append(tables, a.arn("dynamodb", "table/"+t), a.arn("dynamodb", "table/"+t+"/index/*"))
	}
	via := []string{"dynamodb", "sqs"}
	st := []iam.Statement{
		iam.AllowStatement("WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, lg+":*"),
		iam.AllowStatement("ReadWriteEngineTables", DynamoDBActions, tables...),
		// Lambda sends a failed asynchronous event to the dead-letter
		// queue with the function's role (Lambda developer guide,
		// "Dead-letter queues": sqs:SendMessage on the queue).
		iam.AllowStatement("DeadLetterAsyncFailures", []string{"sqs:SendMessage"}, a.arn("sqs", n.dlq)),
	}
	if h == workflow.Report {
		st = append(st, iam.AllowStatement("PublishToPipelineTopics", SNSActions, a.arn("sns", n.summary), a.arn("sns", n.owners)))
		via = append(via, "sns")
	}
	// A publisher to a KMS-encrypted topic needs GenerateDataKey and
	// Decrypt on its key (SNS developer guide, "Encryption at rest": key
	// management); DynamoDB and SQS use the key with the caller's
	// permissions too.
	st = append(st, iam.AllowStatement("UseKeyThroughPipelineServices", []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"}, keyARN).
		If("StringEquals", "kms:ViaService", iam.ViaServices(a.Env, via...)))
	if assumesMemberRole(h) {
		var roles []string
		for _, acct := range a.MemberAccounts {
			roles = append(roles, a.Env.ARN("iam", "", acct, "role/"+a.MemberRole.Name))
		}
		st = append(st, iam.AllowStatement("AssumeMemberRoleOnly", STSActions, roles...))
	}
	if a.Tracing {
		// X-Ray's PutTraceSegments and PutTelemetryRecords take no
		// resource ARN (X-Ray developer guide, IAM).
		st = append(st, iam.AllowStatement("Tracing", []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "*"))
	}
	return iam.Identity(st...), nil
}

func (p *Pipeline) function(ctx *pulumi.Context, n names, h string, a Args, key *kms.Key, dlq *sqs.Queue, tags pulumi.StringMap, opts ...pulumi.ResourceOption) (*lambda.Function, *awsiam.Role, error) {
	fname := n.function(h)
	// Lambda assumes a function's role without a source to pin (Lambda
	// developer guide, "Defining Lambda function permissions with an
	// execution role": the trust names lambda.amazonaws.com only).
	trust, err := iam.Trust(iam.Statement{Effect: iam.Allow, Actions: []string{"sts:AssumeRole"}}.
		By(iam.ServicePrincipal(a.Env.ServicePrincipal("lambda")))).JSON()
	if err != nil {
		return nil, nil, err
	}
	role, err := awsiam.NewRole(ctx, fname, &awsiam.RoleArgs{
		Name:             pulumi.String(fname),
		Description:      pulumi.String("Nightly ECS restart, " + h + " step"),
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             tags,
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s role: %w", h, err)
	}
	doc := key.Arn.ApplyT(func(keyARN string) (string, error) {
		p, err := functionPolicy(n, h, a, keyARN)
		if err != nil {
			return "", err
		}
		return p.JSON()
	}).(pulumi.StringOutput)
	rp, err := awsiam.NewRolePolicy(ctx, fname, &awsiam.RolePolicyArgs{Role: role.Name, Name: pulumi.String(h), Policy: doc}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s role policy: %w", h, err)
	}
	lg, err := cloudwatch.NewLogGroup(ctx, fname, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(n.functionLogGroup(h)),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		KmsKeyId:        key.Arn,
		Tags:            tags,
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s log group: %w", h, err)
	}
	vars := pulumi.StringMap{}
	for k, v := range a.Environment(n, h) {
		vars[k] = pulumi.String(v)
	}
	tracing := "PassThrough"
	if a.Tracing {
		tracing = "Active"
	}
	fn, err := lambda.NewFunction(ctx, fname, &lambda.FunctionArgs{
		Name:        pulumi.String(fname),
		Description: pulumi.String("Nightly ECS restart: " + h),
		Runtime:     pulumi.String(Runtime),
		// One binary serves every step; the handler setting (_HANDLER)
		// picks it (cmd/restart-lambda).
		Handler:        pulumi.String(h),
		Architectures:  pulumi.StringArray{pulumi.String(Architecture)},
		Code:           pulumi.NewFileArchive(a.Code.Path),
		SourceCodeHash: pulumi.String(a.Code.SHA256),
		Role:           role.Arn,
		MemorySize:     pulumi.Int(a.MemoryMB),
		Timeout:        pulumi.Int(a.TimeoutSeconds),
		Environment:    &lambda.FunctionEnvironmentArgs{Variables: vars},
		DeadLetterConfig: &lambda.FunctionDeadLetterConfigArgs{
			TargetArn: dlq.Arn,
		},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{
			LogFormat: pulumi.String("Text"),
			LogGroup:  lg.Name,
		},
		TracingConfig: &lambda.FunctionTracingConfigArgs{Mode: pulumi.String(tracing)},
		Tags:          tags,
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{rp}))...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s function: %w", h, err)
	}
	return fn, role, nil
}

// Architecture is the functions' instruction set: Graviton, whose compute
// Lambda prices 20% below x86_64 (AWS Lambda pricing); the bootstrap is
// built for it (buildEnv's GOARCH=arm64).
const Architecture = "arm64"

// Runtime is the functions' runtime: Amazon Linux 2023 running a custom
// bootstrap, the runtime AWS recommends for Go.
const Runtime = "provided.al2023"

func stateMachine(ctx *pulumi.Context, n names, a Args, key *kms.Key, tags pulumi.StringMap, opts ...pulumi.ResourceOption) (*sfn.StateMachine, error) {
	functions := map[string]string{}
	var fnARNs []string
	for _, h := range workflow.Handlers {
		arn := a.arn("lambda", "function:"+n.function(h))
		functions[h] = arn
		fnARNs = append(fnARNs, arn, arn+":*")
	}
	def, err := workflow.New(workflow.Settings{Functions: functions, Window: a.Window})
	if err != nil {
		return nil, err
	}
	js, err := def.JSON()
	if err != nil {
		return nil, err
	}
	smARN := a.arn("states", "stateMachine:"+n.stateMachine)
	trust, err := iam.ServiceTrust(a.Env, "states", smARN).JSON()
	if err != nil {
		return nil, err
	}
	st := []iam.Statement{
		iam.AllowStatement("InvokePipelineFunctions", []string{"lambda:InvokeFunction"}, fnARNs...),
		// Log delivery's actions take no resource ARN (Step Functions
		// developer guide, "IAM policies for logging to CloudWatch Logs").
		iam.AllowStatement("DeliverExecutionLogs", []string{
			"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
			"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
		}, "*"),
	}
	if a.Tracing {
		st = append(st, iam.AllowStatement("Tracing", []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"}, "*"))
	}
	doc, err := iam.Identity(st...).JSON()
	if err != nil {
		return nil, err
	}
	role, err := awsiam.NewRole(ctx, n.stateMachine, &awsiam.RoleArgs{
		Name:             pulumi.String(n.stateMachine + "-sfn"),
		Description:      pulumi.String("Nightly ECS restart state machine"),
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             tags,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("state machine role: %w", err)
	}
	rp, err := awsiam.NewRolePolicy(ctx, n.stateMachine, &awsiam.RolePolicyArgs{Role: role.Name, Name: pulumi.String("invoke"), Policy: pulumi.String(doc)}, opts...)
	if err != nil {
		return nil, fmt.Errorf("state machine role policy: %w", err)
	}
	lg, err := cloudwatch.NewLogGroup(ctx, n.stateMachine, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(n.stateMachineLogGroup()),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		KmsKeyId:        key.Arn,
		Tags:            tags,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("state machine log group: %w", err)
	}
	sm, err := sfn.NewStateMachine(ctx, n.stateMachine, &sfn.StateMachineArgs{
		Name:       pulumi.String(n.stateMachine),
		Type:       pulumi.String("STANDARD"),
		Definition: pulumi.String(js),
		RoleArn:    role.Arn,
		LoggingConfiguration: &sfn.StateMachineLoggingConfigurationArgs{
			// Errors only, without the states' data: the payloads are ids
			// and counts, but a log line should not need them.
			Level:                pulumi.String("ERROR"),
			IncludeExecutionData: pulumi.Bool(false),
			LogDestination:       pulumi.Sprintf("%s:*", lg.Arn),
		},
		TracingConfiguration: &sfn.StateMachineTracingConfigurationArgs{Enabled: pulumi.Bool(a.Tracing)},
		Tags:                 tags,
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{rp}))...)
	if err != nil {
		return nil, fmt.Errorf("state machine: %w", err)
	}
	return sm, nil
}

// CronExpression is the schedule's expression: every day at the window's
// start, read in the schedule's time zone (EventBridge Scheduler cron
// fields: minutes hours day-of-month month day-of-week year).
func CronExpression(w fleet.Window) string {
	return fmt.Sprintf("cron(%d %d * * ? *)", int(w.Start%time.Hour/time.Minute), int(w.Start/time.Hour))
}

func schedule(ctx *pulumi.Context, n names, a Args, sm *sfn.StateMachine, dlq *sqs.Queue, key *kms.Key, opts ...pulumi.ResourceOption) error {
	trust, err := iam.ServiceTrust(a.Env, "scheduler", "").JSON()
	if err != nil {
		return err
	}
	role, err := awsiam.NewRole(ctx, n.schedule+"-scheduler", &awsiam.RoleArgs{
		Name:             pulumi.String(n.schedule + "-scheduler"),
		Description:      pulumi.String("Starts the nightly ECS restart"),
		AssumeRolePolicy: pulumi.String(trust),
	}, opts...)
	if err != nil {
		return fmt.Errorf("scheduler role: %w", err)
	}
	doc := iam.Output(func(v []string) iam.Policy {
		return iam.Identity(
			iam.AllowStatement("StartTheRestart", []string{"states:StartExecution"}, a.arn("states", "stateMachine:"+n.stateMachine)),
			iam.AllowStatement("DeadLetterFailedStarts", []string{"sqs:SendMessage"}, a.arn("sqs", n.scheduleDLQ)),
			iam.AllowStatement("EncryptDeadLetters", []string{"kms:Decrypt", "kms:GenerateDataKey"}, v[0]).
				If("StringEquals", "kms:ViaService", iam.ViaService(a.Env, "sqs")),
		)
	}, key.Arn)
	rp, err := awsiam.NewRolePolicy(ctx, n.schedule+"-scheduler", &awsiam.RolePolicyArgs{Role: role.Name, Name: pulumi.String("start"), Policy: doc}, opts...)
	if err != nil {
		return fmt.Errorf("scheduler role policy: %w", err)
	}
	// Scheduler's context attribute: the time the run was due, kept in the
	// execution's input for whoever reads its history. Scheduler replaces
	// the literal text, so it must not be JSON-escaped (json.Marshal would
	// write < as \u003c).
	input := `{"source":"schedule","scheduledTime":"<aws.scheduler.scheduled-time>"}`
	if _, err := scheduler.NewSchedule(ctx, n.schedule, &scheduler.ScheduleArgs{
		Name:                       pulumi.String(n.schedule),
		Description:                pulumi.String("Starts the nightly ECS restart at the window's start, local time"),
		ScheduleExpression:         pulumi.String(CronExpression(a.Window)),
		ScheduleExpressionTimezone: pulumi.String(a.TimeZone),
		FlexibleTimeWindow:         &scheduler.ScheduleFlexibleTimeWindowArgs{Mode: pulumi.String("OFF")},
		// Stack config (restart.schedule), so that the next `pulumi up`
		// keeps it: to stop one night, `restartctl pause`.
		State: pulumi.String(scheduleState(a.ScheduleDisabled)),
		Target: &scheduler.ScheduleTargetArgs{
			Arn:     sm.Arn,
			RoleArn: role.Arn,
			Input:   pulumi.String(input),
			// A start that keeps failing for 30 minutes is dropped into
			// the dead-letter queue: a later start would begin too far
			// into the window (and the engine's window guard decides what
			// a late run may still do).
			RetryPolicy: &scheduler.ScheduleTargetRetryPolicyArgs{
				MaximumRetryAttempts:     pulumi.Int(10),
				MaximumEventAgeInSeconds: pulumi.Int(1800),
			},
			DeadLetterConfig: &scheduler.ScheduleTargetDeadLetterConfigArgs{Arn: dlq.Arn},
		},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{rp}))...); err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// scheduleState is EventBridge Scheduler's State of the schedule
// (ENABLED or DISABLED, Scheduler API Reference, CreateSchedule).
func scheduleState(disabled bool) string {
	if disabled {
		return "DISABLED"
	}
	return "ENABLED"
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
