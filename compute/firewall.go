package compute

import (
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// WAFArgs configure the web ACL.
type WAFArgs struct {
	// RateLimit is the most requests one IP may send in 5 minutes.
	RateLimit        int
	LogRetentionDays int
}

// ManagedRuleGroups are the AWS managed rule groups the web ACL runs, in
// priority order after the IP reputation list and the rate limit. Their
// capacity (700 + 200 + 200 + 100 + 100 + 25 WCU, plus 2 for the rate
// rule) stays under the 1,500 WCU a web ACL gets without extra charge.
var ManagedRuleGroups = []string{
	"AWSManagedRulesAmazonIpReputationList",
	"AWSManagedRulesCommonRuleSet",
	"AWSManagedRulesKnownBadInputsRuleSet",
	"AWSManagedRulesSQLiRuleSet",
	"AWSManagedRulesPHPRuleSet",
	"AWSManagedRulesWordPressRuleSet",
}

type firewall struct {
	pulumi.ResourceState

	WebACLName pulumi.StringOutput
}

// newFirewall declares a regional web ACL on the load balancer, with
// CloudWatch metrics and sampled requests on every rule and its request
// logs in a log group (WAF requires the aws-waf-logs- prefix).
func newFirewall(ctx *pulumi.Context, name string, args Args, albARN pulumi.StringInput, opts ...pulumi.ResourceOption) (*firewall, error) {
	f := &firewall{}
	if err := ctx.RegisterComponentResource("wordpress:compute:Firewall", name, f, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(f)
	visibility := func(metric string) *wafv2.WebAclRuleVisibilityConfigArgs {
		return &wafv2.WebAclRuleVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true),
			SampledRequestsEnabled:   pulumi.Bool(true),
			MetricName:               pulumi.String(metric),
		}
	}

	rules := wafv2.WebAclRuleArray{}
	priority := 0
	addManaged := func(group string, overrides wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray) {
		rules = append(rules, &wafv2.WebAclRuleArgs{
			Name:     pulumi.String(group),
			Priority: pulumi.Int(priority),
			// The group's own actions (block) apply.
			OverrideAction: &wafv2.WebAclRuleOverrideActionArgs{None: &wafv2.WebAclRuleOverrideActionNoneArgs{}},
			Statement: &wafv2.WebAclRuleStatementArgs{
				ManagedRuleGroupStatement: &wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
					VendorName:          pulumi.String("AWS"),
					Name:                pulumi.String(group),
					RuleActionOverrides: overrides,
				},
			},
			VisibilityConfig: visibility(strings.TrimPrefix(group, "AWSManagedRules")),
		})
		priority++
	}
	addManaged(ManagedRuleGroups[0], nil)
	rules = append(rules, &wafv2.WebAclRuleArgs{
		Name:     pulumi.String("RateLimitPerIP"),
		Priority: pulumi.Int(priority),
		Action:   &wafv2.WebAclRuleActionArgs{Block: &wafv2.WebAclRuleActionBlockArgs{}},
		Statement: &wafv2.WebAclRuleStatementArgs{
			RateBasedStatement: &wafv2.WebAclRuleStatementRateBasedStatementArgs{
				Limit:            pulumi.Int(args.WAF.RateLimit),
				AggregateKeyType: pulumi.String("IP"),
			},
		},
		VisibilityConfig: visibility("RateLimitPerIP"),
	})
	priority++
	for _, g := range ManagedRuleGroups[1:] {
		var overrides wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray
		if g == "AWSManagedRulesCommonRuleSet" {
			// SizeRestrictions_BODY blocks request bodies over 8 KB, which
			// is every media upload and long post in wp-admin: count it
			// instead of blocking, keep the rest of the group.
			overrides = wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray{
				&wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs{
					Name: pulumi.String("SizeRestrictions_BODY"),
					ActionToUse: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs{
						Count: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs{},
					},
				},
			}
		}
		addManaged(g, overrides)
	}

	acl, err := wafv2.NewWebAcl(ctx, name, &wafv2.WebAclArgs{
		Name:          pulumi.String(name),
		Description:   pulumi.String("WordPress load balancer: AWS managed rules and a per-IP rate limit"),
		Scope:         pulumi.String("REGIONAL"),
		DefaultAction: &wafv2.WebAclDefaultActionArgs{Allow: &wafv2.WebAclDefaultActionAllowArgs{}},
		Rules:         rules,
		VisibilityConfig: &wafv2.WebAclVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true),
			SampledRequestsEnabled:   pulumi.Bool(true),
			MetricName:               pulumi.String(name),
		},
		Tags: tagged(args.Tags, name),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := wafv2.NewWebAclAssociation(ctx, name, &wafv2.WebAclAssociationArgs{
		ResourceArn: albARN,
		WebAclArn:   acl.Arn,
	}, parent); err != nil {
		return nil, err
	}

	// The logs key admits only the stack's /<project>/<stack>/ groups, and
	// WAF needs this prefix, so these logs use CloudWatch Logs' own
	// encryption at rest.
	logs, err := cloudwatch.NewLogGroup(ctx, name+"-waf", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("aws-waf-logs-" + name),
		RetentionInDays: pulumi.Int(args.WAF.LogRetentionDays),
		Tags:            tagged(args.Tags, "aws-waf-logs-"+name),
	}, parent)
	if err != nil {
		return nil, err
	}
	redact := func(header string) *wafv2.WebAclLoggingConfigurationRedactedFieldArgs {
		return &wafv2.WebAclLoggingConfigurationRedactedFieldArgs{
			SingleHeader: &wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs{Name: pulumi.String(header)},
		}
	}
	if _, err := wafv2.NewWebAclLoggingConfiguration(ctx, name, &wafv2.WebAclLoggingConfigurationArgs{
		ResourceArn:           acl.Arn,
		LogDestinationConfigs: pulumi.StringArray{logs.Arn},
		// WordPress's login cookies and any basic-auth header stay out of
		// the logs.
		RedactedFields: wafv2.WebAclLoggingConfigurationRedactedFieldArray{redact("authorization"), redact("cookie")},
	}, parent); err != nil {
		return nil, err
	}
	f.WebACLName = acl.Name
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{"webAclName": acl.Name, "webAclArn": acl.Arn})
}
