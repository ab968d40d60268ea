// Package setup builds a restart engine from settings: one aws.Config for
// the hub (credentials, Region, retryer, endpoint), the DynamoDB store, the
// member-account fleet and the notifier. The Lambda bootstrap fills the
// settings from the environment, restartctl from its flags.
package setup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/calllog"
	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/meter"
	"github.com/nequi-platform/wordpress-ecs/restart/report"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// Settings configure a restart engine.
type Settings struct {
	// Endpoint overrides the ECS and STS endpoint (a local fleet); empty
	// for AWS.
	Endpoint string
	// DynamoDBEndpoint overrides the DynamoDB endpoint (dynalite); empty
	// for AWS.
	DynamoDBEndpoint string
	// SNSEndpoint overrides the SNS endpoint (moto); empty for AWS.
	SNSEndpoint string
	// Region is the hub's Region (STS, DynamoDB, SNS); default from the
	// environment, else us-east-1.
	Region string
	// StaticKeyID and StaticSecret, when set, are the hub credentials
	// (a local fleet); otherwise the default credential chain is used.
	StaticKeyID, StaticSecret string

	Accounts []string
	Regions  []string
	Roles    awsfleet.Roles

	Enrollment fleet.Enrollment
	Window     fleet.Window
	Location   *time.Location
	// OutsideWindow lets the engine restart outside the window
	// (engine.Config.OutsideWindow).
	OutsideWindow bool
	// MinInterval is the least time between two restarts of a service
	// (engine.DefaultMinInterval when zero).
	MinInterval time.Duration
	// RecordTTL is how long the DynamoDB items live (store.DefaultRecordTTL
	// when zero).
	RecordTTL time.Duration

	InventoryTable, RunsTable string
	// CreateTables creates the tables when missing (local use only).
	CreateTables bool

	SummaryTopic, OwnerTopic string

	// RateScale multiplies the client-side request limits (1 when zero),
	// for a local fleet whose throttling is scaled the same way.
	RateScale float64
	// BucketShare is the part of each of ECS's per-account buckets the
	// engine takes, reads and UpdateService alike
	// (awsfleet.DefaultBucketShare, half, when zero; 1 is the whole
	// bucket, as if the engine were the account's only caller).
	// AccountShares overrides it for the accounts it names.
	BucketShare   float64
	AccountShares map[string]float64
	// UpdateRate, when set, is the most UpdateService calls per second the
	// engine makes in one account and Region, kept over any 10 seconds,
	// whatever the shares (at most ECS's 5). The engine slows down further
	// by itself when ECS throttles.
	UpdateRate float64
	// Breaker is when the circuit breakers stop the night, MaxDeferrals
	// how often a service with a deployment of its own in progress moves
	// to the next batch (the engine's defaults where zero).
	Breaker      engine.Breaker
	MaxDeferrals int
	// DeploymentTime is the deployment time the plan's window fit assumes
	// until a night has observed one (fleet.DefaultDeploymentTime when
	// zero).
	DeploymentTime time.Duration
	// Retry is the SDK retry policy (awsfleet.DefaultRetryPolicy when
	// zero).
	Retry awsfleet.RetryPolicy
	// Clusters, when set, are the only clusters (ARNs) the engine restarts
	// (engine.Config.Clusters).
	Clusters []string
	// Stack is the Stack dimension of the metrics (engine.Config.Stack).
	Stack string

	// Messages receives the notifications that are not published (no
	// topic) and Metrics the EMF lines.
	Messages io.Writer
	Metrics  io.Writer
	// CallLog, when set, receives one JSON line per AWS request the engine
	// sends (calllog.Entry), for the IAM evaluator to judge.
	CallLog io.Writer
	// HubAccount is the account of the hub's credentials, for the call
	// log's ARNs; asked of STS (GetCallerIdentity) when the call log is on
	// and it is empty.
	HubAccount string

	// Meter, when set, counts the invocation's DynamoDB request units,
	// SNS publishes and log bytes. Without topics the messages are then
	// published to the meter, which writes them to Messages: a local
	// night counts the publishes a deployed one makes.
	Meter *meter.Meter
}

// Build returns the engine for the settings.
func Build(ctx context.Context, s Settings, opts ...engine.Option) (*engine.Engine, error) {
	if s.Roles.Name == "" {
		return nil, errors.New("setup: no member role name")
	}
	cfg, err := AWSConfig(ctx, s)
	if err != nil {
		return nil, err
	}
	// Every request is counted for access denials; with a call log, it is
	// also written down.
	calls := calllog.New(s.CallLog)
	partition := Partition(cfg.Region)
	hub := calllog.Caller{Principal: calllog.Hub, Account: s.HubAccount, Partition: partition}
	if s.CallLog != nil && hub.Account == "" {
		id, err := sts.NewFromConfig(cfg, func(o *sts.Options) {
			if s.Endpoint != "" {
				o.BaseEndpoint = aws.String(s.Endpoint)
			}
		}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("setup: the call log needs the hub's account: %w", err)
		}
		hub.Account = aws.ToString(id.Account)
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, calls.Options(hub))
		o.Retryer = store.SDKRetryer()
		if s.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(s.DynamoDBEndpoint)
		}
		if s.Meter != nil {
			s.Meter.DynamoDB(o)
		}
	})
	st := store.New(db, store.WithTables(orDefault(s.InventoryTable, store.DefaultInventoryTable), orDefault(s.RunsTable, store.DefaultRunsTable)),
		store.WithRecordTTL(s.RecordTTL))
	if s.CreateTables {
		// Local tables only (a deployed stack's are Pulumi's): made with a
		// client of their own, so that the call log holds the engine's
		// requests alone.
		tables := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			o.Retryer = store.SDKRetryer()
			if s.DynamoDBEndpoint != "" {
				o.BaseEndpoint = aws.String(s.DynamoDBEndpoint)
			}
		})
		if err := st.EnsureTables(ctx, tables); err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
	}
	ecsCfg := cfg.Copy()
	if s.Endpoint != "" {
		ecsCfg.BaseEndpoint = aws.String(s.Endpoint)
	}
	limitsAt := func(share float64) awsfleet.Limits {
		if share <= 0 {
			share = awsfleet.DefaultBucketShare
		}
		l := awsfleet.LimitsAt(share)
		if s.UpdateRate > 0 {
			l = l.WithUpdateRate(s.UpdateRate)
		}
		if s.RateScale > 0 {
			l = l.Scaled(s.RateScale)
		}
		return l
	}
	limits := limitsAt(s.BucketShare)
	accountLimits := map[string]awsfleet.Limits{}
	for acct, share := range s.AccountShares {
		accountLimits[acct] = limitsAt(share)
	}
	newFleet := func(runID string) engine.Fleet {
		roles := s.Roles
		roles.CallLog, roles.Hub = calls, hub
		if roles.Partition == "" {
			roles.Partition = partition
		}
		if roles.SessionName == "" {
			roles.SessionName = "daily-restart-" + runID
		}
		return awsfleet.New(awsfleet.AssumeRoleClients(ecsCfg, roles), awsfleet.WithLimits(limits), awsfleet.WithAccountLimits(accountLimits))
	}
	n := report.Notifier{SummaryTopic: s.SummaryTopic, OwnerTopic: s.OwnerTopic, Out: s.Messages, Ledger: st}
	if s.SummaryTopic != "" || s.OwnerTopic != "" {
		n.SNS = sns.NewFromConfig(cfg, func(o *sns.Options) {
			if s.SNSEndpoint != "" {
				o.BaseEndpoint = aws.String(s.SNSEndpoint)
			}
			o.APIOptions = append(o.APIOptions, calls.Options(hub))
		})
	}
	metrics := s.Metrics
	if s.Meter != nil {
		p := meter.Publisher{Meter: s.Meter, Out: s.Messages}
		if n.SNS != nil {
			p.Next = n.SNS
		} else {
			n.SummaryTopic, n.OwnerTopic = "local-summary", "local-owners"
		}
		n.SNS = p
		metrics = s.Meter.Log(s.Metrics)
	}
	ecfg := engine.Config{
		Accounts: s.Accounts, Regions: s.Regions, Enrollment: s.Enrollment,
		Window: s.Window, Location: s.Location,
		OutsideWindow: s.OutsideWindow, MinInterval: s.MinInterval,
		// The fit counts the pace the fleet's limiter holds to.
		DeploymentTime: s.DeploymentTime, IssueRate: limits.Modify.PerSecond,
		Breaker: s.Breaker, MaxDeferrals: s.MaxDeferrals,
		Clusters: s.Clusters, Stack: s.Stack,
	}
	all := append([]engine.Option{engine.WithNotifier(n), engine.WithMetrics(metrics), engine.WithAccessDenied(calls)}, opts...)
	return engine.New(ecfg, newFleet, st, all...), nil
}

// AWSConfig loads the hub's aws.Config once: Region, credentials and the
// throttling-tuned retryer shared by every client built from it.
func AWSConfig(ctx context.Context, s Settings) (aws.Config, error) {
	var lopts []func(*config.LoadOptions) error
	if s.Region != "" {
		lopts = append(lopts, config.WithRegion(s.Region))
	}
	if s.StaticKeyID != "" {
		lopts = append(lopts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(s.StaticKeyID, orDefault(s.StaticSecret, "local"), "")))
	}
	lopts = append(lopts, config.WithRetryer(awsfleet.NewRetryer(s.Retry)))
	cfg, err := config.LoadDefaultConfig(ctx, lopts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}

// Partition is the partition of a Region ("Regions and zones", AWS
// General Reference: the China Regions are aws-cn, GovCloud aws-us-gov).
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// FromEnv reads the Lambda functions' settings from the environment:
//
//	ACCOUNTS            member account ids, comma separated (required)
//	REGIONS             Regions, comma separated (required)
//	ROLE_NAME           member role name (required)
//	EXTERNAL_ID         AssumeRole external id (optional)
//	ENROLLMENT          tagged (default) or all
//	WINDOW_START        HH:MM (00:00), WINDOW_LENGTH (6h), BATCH_INTERVAL (10m)
//	TIME_ZONE           IANA zone of the window (UTC)
//	MIN_INTERVAL        least time between two restarts of a service (20h)
//	OUTSIDE_WINDOW      true to restart outside the window (false)
//	RECORD_TTL_DAYS     days the DynamoDB items are kept (90)
//	INVENTORY_TABLE, RUNS_TABLE
//	SUMMARY_TOPIC_ARN, OWNER_TOPIC_ARN
//	BUCKET_SHARE        part of each ECS bucket per account and Region the engine takes (0.5; up to 1)
//	ACCOUNT_BUCKET_SHARES  per-account shares, ACCOUNT=SHARE comma separated (none)
//	UPDATE_RATE         UpdateService calls per second per account and Region, whatever the shares (unset; at most 5)
//	BREAKER_MAX_FAILED, BREAKER_MAX_FAILED_PERCENT                  the fleet's circuit breaker (10, 20)
//	BREAKER_ACCOUNT_MAX_FAILED, BREAKER_ACCOUNT_MAX_FAILED_PERCENT  an account's (3, 50)
//	EXPECTED_DEPLOYMENT_TIME  deployment time the window fit assumes until one is observed (10m)
//	CLUSTERS            the only cluster ARNs restarted, comma separated (all when empty)
//	STACK               the Stack dimension of the metrics (none when empty)
//	ECS_ENDPOINT, DYNAMODB_ENDPOINT   endpoint overrides (local runs)
func FromEnv(getenv func(string) string) (Settings, error) {
	s := Settings{
		Endpoint:         getenv("ECS_ENDPOINT"),
		DynamoDBEndpoint: getenv("DYNAMODB_ENDPOINT"),
		Accounts:         List(getenv("ACCOUNTS")),
		Regions:          List(getenv("REGIONS")),
		Roles:            awsfleet.Roles{Name: getenv("ROLE_NAME"), ExternalID: getenv("EXTERNAL_ID")},
		InventoryTable:   getenv("INVENTORY_TABLE"),
		RunsTable:        getenv("RUNS_TABLE"),
		SummaryTopic:     getenv("SUMMARY_TOPIC_ARN"),
		OwnerTopic:       getenv("OWNER_TOPIC_ARN"),
		Stack:            getenv("STACK"),
		Messages:         os.Stdout,
		Metrics:          os.Stdout,
	}
	var errs []error
	if len(s.Accounts) == 0 {
		errs = append(errs, errors.New("ACCOUNTS is empty: set it to the member account ids, comma separated"))
	}
	if len(s.Regions) == 0 {
		errs = append(errs, errors.New("REGIONS is empty: set it to the Regions to restart, comma separated"))
	}
	if s.Roles.Name == "" {
		errs = append(errs, errors.New("ROLE_NAME is empty: set it to the member role's name"))
	}
	var err error
	if s.Clusters, err = ParseClusters(getenv("CLUSTERS")); err != nil {
		errs = append(errs, fmt.Errorf("CLUSTERS: %w", err))
	}
	if s.Enrollment, err = fleet.ParseEnrollment(getenv("ENROLLMENT")); err != nil {
		errs = append(errs, fmt.Errorf("ENROLLMENT: %w", err))
	}
	dur := func(name, def string) time.Duration {
		v := orDefault(getenv(name), def)
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want a duration like %s", name, v, def))
		}
		return d
	}
	length, interval := dur("WINDOW_LENGTH", "6h"), dur("BATCH_INTERVAL", "10m")
	if s.Window, err = fleet.ParseWindow(orDefault(getenv("WINDOW_START"), "00:00"), length, interval); err != nil {
		errs = append(errs, fmt.Errorf("WINDOW_*: %w", err))
	}
	if v := getenv("UPDATE_RATE"); v != "" {
		if s.UpdateRate, err = ParseUpdateRate(v); err != nil {
			errs = append(errs, fmt.Errorf("UPDATE_RATE: %w", err))
		}
	}
	if v := getenv("BUCKET_SHARE"); v != "" {
		if s.BucketShare, err = ParseBucketShare(v); err != nil {
			errs = append(errs, fmt.Errorf("BUCKET_SHARE: %w", err))
		}
	}
	if v := getenv("ACCOUNT_BUCKET_SHARES"); v != "" {
		if s.AccountShares, err = ParseAccountShares(v); err != nil {
			errs = append(errs, fmt.Errorf("ACCOUNT_BUCKET_SHARES: %w", err))
		}
	}
	count := func(name string, p *int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				errs = append(errs, fmt.Errorf("%s=%q: want a whole number of failures, 1 or more", name, v))
			}
			*p = n
		}
	}
	percent := func(name string, p *float64) {
		if v := getenv(name); v != "" {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || n <= 0 || n > 100 {
				errs = append(errs, fmt.Errorf("%s=%q: want a percentage above 0 and at most 100", name, v))
			}
			*p = n / 100
		}
	}
	count("BREAKER_MAX_FAILED", &s.Breaker.MaxFailed)
	percent("BREAKER_MAX_FAILED_PERCENT", &s.Breaker.MaxFailedShare)
	count("BREAKER_ACCOUNT_MAX_FAILED", &s.Breaker.AccountMaxFailed)
	percent("BREAKER_ACCOUNT_MAX_FAILED_PERCENT", &s.Breaker.AccountMaxFailedShare)
	if v := getenv("EXPECTED_DEPLOYMENT_TIME"); v != "" {
		if s.DeploymentTime, err = ParseDeploymentTime(v); err != nil {
			errs = append(errs, fmt.Errorf("EXPECTED_DEPLOYMENT_TIME: %w", err))
		}
	}
	if s.Location, err = time.LoadLocation(orDefault(getenv("TIME_ZONE"), "UTC")); err != nil {
		errs = append(errs, fmt.Errorf("TIME_ZONE: %w", err))
	}
	if s.MinInterval = dur("MIN_INTERVAL", "20h"); s.MinInterval <= 0 && getenv("MIN_INTERVAL") != "" {
		errs = append(errs, fmt.Errorf("MIN_INTERVAL=%q: want a positive duration like 20h", getenv("MIN_INTERVAL")))
	}
	switch v := strings.ToLower(getenv("OUTSIDE_WINDOW")); v {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		s.OutsideWindow = true
	default:
		errs = append(errs, fmt.Errorf("OUTSIDE_WINDOW=%q: want true or false", getenv("OUTSIDE_WINDOW")))
	}
	if s.RecordTTL, err = ParseTTLDays(orDefault(getenv("RECORD_TTL_DAYS"), "90")); err != nil {
		errs = append(errs, fmt.Errorf("RECORD_TTL_DAYS: %w", err))
	}
	return s, errors.Join(errs...)
}

// clusterARN is an ECS cluster's ARN (ECS API reference, Cluster.clusterArn).
var clusterARN = regexp.MustCompile(`^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster/[A-Za-z0-9_-]{1,255}$`)

// ParseClusters reads a cluster allow-list: cluster ARNs, comma
// separated; empty for every cluster.
func ParseClusters(v string) ([]string, error) {
	out := List(v)
	for _, c := range out {
		if !clusterARN.MatchString(c) {
			return nil, fmt.Errorf("%q is not a cluster ARN such as arn:aws:ecs:us-east-1:123456789012:cluster/name", c)
		}
	}
	return out, nil
}

// ParseTTLDays parses a number of days (1 to 3650) into a duration.
func ParseTTLDays(v string) (time.Duration, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), "d"))
	if err != nil || n < 1 || n > 3650 {
		return 0, fmt.Errorf("%q: want a whole number of days between 1 and 3650, like 90", v)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// List splits a comma- or space-separated list, dropping empty entries.
func List(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
}

// MaxUpdateRate is ECS's sustained UpdateService rate per account and
// Region ("Request throttling for the Amazon ECS API": CreateService,
// DeleteService and UpdateService share a bucket refilled at 5 per
// second).
const MaxUpdateRate = 5

// ParseUpdateRate reads an UpdateService rate: a number of calls per
// second in (0, MaxUpdateRate].
func ParseUpdateRate(v string) (float64, error) {
	r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || r <= 0 || r > MaxUpdateRate {
		return 0, fmt.Errorf("%q: want calls per second per account and Region, more than 0 and at most %d (ECS refills UpdateService's bucket at %d/s)", v, MaxUpdateRate, MaxUpdateRate)
	}
	return r, nil
}

// ParseDeploymentTime reads the deployment time the window fit assumes: a
// duration from 1s to 24h.
func ParseDeploymentTime(v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < time.Second || d > 24*time.Hour {
		return 0, fmt.Errorf("%q: want a duration from 1s to 24h, such as 10m (how long a service's restart takes to complete)", v)
	}
	return d, nil
}

// ParseBucketShare reads the part of each ECS bucket the engine takes: a
// number above 0 and at most 1.
func ParseBucketShare(v string) (float64, error) {
	r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || r <= 0 || r > 1 {
		return 0, fmt.Errorf("%q: want the part of each ECS bucket per account and Region the engine takes, above 0 and at most 1, such as 0.5", v)
	}
	return r, nil
}

// ParseAccountShares reads per-account bucket shares,
// "111111111111=0.25,222222222222=0.8".
func ParseAccountShares(v string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, kv := range List(v) {
		acct, share, ok := strings.Cut(kv, "=")
		if !ok || len(acct) != 12 || strings.Trim(acct, "0123456789") != "" {
			return nil, fmt.Errorf("%q: want ACCOUNT=SHARE, a 12-digit account id and its share, such as 111111111111=0.25", kv)
		}
		r, err := ParseBucketShare(share)
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", acct, err)
		}
		out[acct] = r
	}
	return out, nil
}

// Controls returns the store of the pipeline's pause switch and circuit
// breakers (its runs table), for `restartctl pause` and `resume`: the
// hub's credentials and DynamoDB only, no member account.
func Controls(ctx context.Context, s Settings) (*store.Store, error) {
	cfg, err := AWSConfig(ctx, s)
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.Retryer = store.SDKRetryer()
		if s.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(s.DynamoDBEndpoint)
		}
	})
	st := store.New(db, store.WithTables(orDefault(s.InventoryTable, store.DefaultInventoryTable), orDefault(s.RunsTable, store.DefaultRunsTable)),
		store.WithRecordTTL(s.RecordTTL))
	if s.CreateTables {
		if err := st.EnsureTables(ctx, db); err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
	}
	return st, nil
}

// CallerARN is who the hub's credentials are (STS GetCallerIdentity,
// which needs no permission): the "who" of a pause.
func CallerARN(ctx context.Context, s Settings) (string, error) {
	cfg, err := AWSConfig(ctx, s)
	if err != nil {
		return "", err
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("who is pausing (sts:GetCallerIdentity): %w", err)
	}
	return aws.ToString(id.Arn), nil
}
