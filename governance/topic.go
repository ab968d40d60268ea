// Package governance holds the stack's governance and observability: the
// alarm topic every tier notifies, the account-level security services
// (Security Hub, GuardDuty, AWS Config) and the CloudWatch alarms and
// dashboard over the stack. Components take what they watch as arguments;
// they never read stack config.
package governance

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/iam"
)

// AlarmTopicArgs configure the alarm topic.
type AlarmTopicArgs struct {
	// AccountID, Region and Partition scope the topic and key policies.
	AccountID string
	Region    string
	Partition string
	// KMSKeyARN encrypts the topic; nil creates a key for it. A given key's
	// policy must let cloudwatch.amazonaws.com and events.amazonaws.com use
	// kms:Decrypt and kms:GenerateDataKey*.
	KMSKeyARN pulumi.StringInput
	// Emails are subscribed to the topic.
	Emails []string
	Tags   map[string]string
}

// AlarmTopic is the stack's KMS-encrypted SNS topic for alarms and security
// findings.
type AlarmTopic struct {
	pulumi.ResourceState

	// TopicARN is what alarms and EventBridge rules notify.
	TopicARN pulumi.StringOutput
	// KeyARN encrypts the topic. Publishers other than CloudWatch and
	// EventBridge (Lambdas, Step Functions) need kms:GenerateDataKey* and
	// kms:Decrypt on it in their IAM policy, besides sns:Publish.
	KeyARN pulumi.StringOutput
}

// NewAlarmTopic declares the alarm topic, its key (unless one is given), its
// policy and the email subscriptions.
func NewAlarmTopic(ctx *pulumi.Context, name string, args AlarmTopicArgs, opts ...pulumi.ResourceOption) (*AlarmTopic, error) {
	t := &AlarmTopic{}
	if err := ctx.RegisterComponentResource("wordpress:governance:AlarmTopic", name, t, opts...); err != nil {
		return nil, err
	}
	keyARN := args.KMSKeyARN
	if keyARN == nil {
		policy, err := topicKeyPolicy(args.Partition, args.AccountID)
		if err != nil {
			return nil, err
		}
		key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
			Description:          pulumi.String("SNS alarm topic encryption for " + name),
			EnableKeyRotation:    pulumi.Bool(true),
			DeletionWindowInDays: pulumi.Int(30),
			Policy:               pulumi.String(policy),
			Tags:                 pulumi.ToStringMap(args.Tags),
		}, pulumi.Parent(t))
		if err != nil {
			return nil, fmt.Errorf("alarm topic key: %w", err)
		}
		if _, err := kms.NewAlias(ctx, name, &kms.AliasArgs{
			Name:        pulumi.String("alias/" + name),
			TargetKeyId: key.KeyId,
		}, pulumi.Parent(t)); err != nil {
			return nil, fmt.Errorf("alarm topic key alias: %w", err)
		}
		keyARN = key.Arn
	}

	topic, err := sns.NewTopic(ctx, name, &sns.TopicArgs{
		Name:           pulumi.String(name),
		KmsMasterKeyId: keyARN,
		Tags:           pulumi.ToStringMap(args.Tags),
	}, pulumi.Parent(t))
	if err != nil {
		return nil, fmt.Errorf("alarm topic: %w", err)
	}
	policy := topic.Arn.ApplyT(func(arn string) (string, error) {
		return topicPolicy(arn, args.Partition, args.Region, args.AccountID)
	}).(pulumi.StringOutput)
	if _, err := sns.NewTopicPolicy(ctx, name, &sns.TopicPolicyArgs{
		Arn:    topic.Arn,
		Policy: policy,
	}, pulumi.Parent(t)); err != nil {
		return nil, fmt.Errorf("alarm topic policy: %w", err)
	}

	seen := map[string]string{}
	for _, email := range args.Emails {
		slug := emailSlug(email)
		if other, dup := seen[slug]; dup {
			return nil, fmt.Errorf("alarm topic %s: emails %q and %q would share the subscription name %s; list each address once", name, other, email, name+"-"+slug)
		}
		seen[slug] = email
		// Email endpoints stay "pending confirmation" until the person
		// clicks the link AWS sends; Pulumi does not wait for it.
		if _, err := sns.NewTopicSubscription(ctx, name+"-"+slug, &sns.TopicSubscriptionArgs{
			Topic:    topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(email),
		}, pulumi.Parent(t)); err != nil {
			return nil, fmt.Errorf("alarm topic subscription %s: %w", email, err)
		}
	}

	t.TopicARN = topic.Arn
	t.KeyARN = keyARN.ToStringOutput()
	return t, ctx.RegisterResourceOutputs(t, pulumi.Map{"topicArn": t.TopicARN, "keyArn": t.KeyARN})
}

var notSlug = regexp.MustCompile(`[^a-z0-9]+`)

// emailSlug names a subscription after its address, so that adding or
// removing one address never replaces the others.
func emailSlug(email string) string {
	return strings.Trim(notSlug.ReplaceAllString(strings.ToLower(email), "-"), "-")
}

// topicKeyPolicy lets the account administer the key through IAM, and lets
// CloudWatch alarms and EventBridge rules publish to the topic it encrypts:
// SNS calls KMS with the publisher's service identity, so each publishing
// service needs kms:Decrypt and kms:GenerateDataKey* in the key policy (AWS
// docs: "Encrypting SNS topics" for CloudWatch alarms; EventBridge "Amazon
// SNS permissions" for encrypted topics).
func topicKeyPolicy(partition, accountID string) (string, error) {
	env := envOf(accountID, "", partition)
	return iam.Resource(
		iam.AllowStatement("AccountAdministersKeyThroughIAM", []string{"kms:*"}, "*").By(iam.AWSPrincipal(env.RootARN())),
		iam.AllowStatement("AlarmsAndRulesPublishToEncryptedTopic", []string{"kms:Decrypt", "kms:GenerateDataKey*"}, "*").
			By(iam.ServicePrincipal(env.ServicePrincipal("cloudwatch"), env.ServicePrincipal("events"))),
	).JSON()
}

// topicPolicy lets only this account's CloudWatch alarms and EventBridge
// rules publish as services (aws:SourceAccount and aws:SourceArn guard
// against the confused deputy), leaves the account's own IAM principals to
// their IAM policies, and refuses publishing over plain HTTP.
func topicPolicy(topicARN, partition, region, accountID string) (string, error) {
	env := envOf(accountID, region, partition)
	publish := func(sid, service, resource string) iam.Statement {
		return iam.AllowStatement(sid, []string{"sns:Publish"}, topicARN).
			By(iam.ServicePrincipal(env.ServicePrincipal(service))).
			If("StringEquals", "aws:SourceAccount", accountID).
			If("ArnLike", "aws:SourceArn", env.ARN(service, region, accountID, resource))
	}
	return iam.Resource(
		iam.AllowStatement("AccountManagesTopic", []string{"sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
			"sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish"}, topicARN).By(iam.AWSPrincipal(env.RootARN())),
		publish("CloudWatchAlarmsPublish", "cloudwatch", "alarm:*"),
		publish("EventBridgeRulesPublish", "events", "rule/*"),
		// Security Hub SNS.2's companion: no publish without TLS.
		iam.DenyStatement("DenyPublishWithoutTLS", []string{"sns:Publish"}, topicARN).By(iam.Anyone()).
			If("Bool", "aws:SecureTransport", "false"),
	).JSON()
}
