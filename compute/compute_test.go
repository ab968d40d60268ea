package compute_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/compute"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

// args are a tier built on stand-in ids, as another stack would pass them.
func args() compute.Args {
	secrets := map[string]pulumi.StringInput{}
	for _, v := range compute.DatabaseVariables {
		secrets[v] = pulumi.String("arn:aws:ssm:us-east-1:123456789012:parameter/test/db/" + strings.ToLower(v))
	}
	keys := map[string]pulumi.StringInput{}
	for _, v := range compute.AuthKeyVariables {
		keys[v] = pulumi.String("arn:aws:ssm:us-east-1:123456789012:parameter/test/wordpress/" + strings.ToLower(v))
	}
	ids := func(prefix string) pulumi.StringArray {
		return pulumi.StringArray{pulumi.String(prefix + "-a"), pulumi.String(prefix + "-b")}
	}
	return compute.Args{
		Env:               account.Env{AccountID: "123456789012", Region: "us-east-1", Partition: "aws", DNSSuffix: "amazonaws.com", ReverseDNSPrefix: "com.amazonaws"},
		VpcID:             pulumi.String("vpc-test"),
		AvailabilityZones: []string{"us-east-1a", "us-east-1b"},
		PublicSubnetIDs:   ids("subnet-public"),
		PrivateSubnetIDs:  ids("subnet-private"),
		DataSubnetIDs:     ids("subnet-data"),
		SecurityGroups: compute.SecurityGroups{
			LoadBalancer: pulumi.String("sg-alb"), Tasks: pulumi.String("sg-tasks"),
			Bastion: pulumi.String("sg-bastion"), FileSystem: pulumi.String("sg-efs"),
		},
		LogsKeyARN:     pulumi.String("arn:aws:kms:us-east-1:123456789012:key/logs"),
		LogGroupPrefix: "/test/t/",
		AppPort:        80,
		LoadBalancer: compute.LoadBalancerArgs{
			HealthCheckPath: "/",
			AccessLogs:      &compute.AccessLogArgs{RetentionDays: 30, ServerAccessLogBucket: pulumi.String("test-server-access-logs")},
		},
		Service: compute.ServiceArgs{
			Image: "wordpress:6", CPU: 256, Memory: 512, CPUArchitecture: "ARM64", DesiredCount: 1, LogRetentionDays: 7,
			Database:  compute.DatabaseArgs{Secrets: secrets, ParameterPathARN: "arn:aws:ssm:us-east-1:123456789012:parameter/test/db/*"},
			AuthKeys:  compute.AuthKeysArgs{Secrets: keys, ParameterPathARN: "arn:aws:ssm:us-east-1:123456789012:parameter/test/wordpress/*"},
			WordPress: compute.WordPressArgs{DisallowFileEdit: true, UploadMaxMB: 64},
		},
		FileSystem: compute.FileSystemArgs{KeyARN: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/efs"), ThroughputMode: "bursting", TransitionToIA: "AFTER_7_DAYS"},
	}
}

func record(t *testing.T, a compute.Args) (*plan.Plan, error) {
	t.Helper()
	return plan.Record(func(ctx *pulumi.Context) error {
		_, err := compute.NewWordPress(ctx, "test", a)
		return err
	}, plan.Options{Project: "test", Stack: "t", Config: map[string]string{"aws:region": "us-east-1"}})
}

func TestTheAccessLogBucketLogsItsOwnAccessWhereTold(t *testing.T) {
	p, err := record(t, args())
	if err != nil {
		t.Fatal(err)
	}
	logging := p.OfType("aws:s3/bucketLoggingV2:BucketLoggingV2")
	bucket := p.OfType("aws:s3/bucketV2:BucketV2")
	if len(logging) != 1 || len(bucket) != 1 || logging[0].String("targetBucket") != "test-server-access-logs" || logging[0].String("bucket") != bucket[0].ID {
		t.Errorf("server access logging = %v", logging)
	}
	// Without a bastion or WAF in the arguments, neither is built.
	for _, typ := range []string{"aws:ec2/instance:Instance", "aws:wafv2/webAcl:WebAcl"} {
		if n := len(p.OfType(typ)); n != 0 {
			t.Errorf("%d %s without asking", n, typ)
		}
	}
}

func TestArgumentsAWSWouldRejectAreErrors(t *testing.T) {
	for name, change := range map[string]func(a *compute.Args){
		"one AZ": func(a *compute.Args) { a.AvailabilityZones = a.AvailabilityZones[:1] },
		"HTTPS without a cert": func(a *compute.Args) {
			a.LoadBalancer.HTTPS = &compute.HTTPSArgs{SSLPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06"}
		},
		"no database password":        func(a *compute.Args) { delete(a.Service.Database.Secrets, "WORDPRESS_DB_PASSWORD") },
		"no way to read the settings": func(a *compute.Args) { a.Service.Database.ParameterPathARN = "" },
		"no nonce salt":               func(a *compute.Args) { delete(a.Service.AuthKeys.Secrets, "WORDPRESS_NONCE_SALT") },
		"no way to read the keys":     func(a *compute.Args) { a.Service.AuthKeys.ParameterPathARN = "" },
	} {
		a := args()
		change(&a)
		if _, err := record(t, a); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
