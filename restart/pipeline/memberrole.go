package pipeline

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudformation"
	awsiam "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Parameters of the member role's CloudFormation template.
const (
	ParamRoleName       = "RoleName"
	ParamHubRoleArns    = "HubRoleArns"
	ParamOrganizationID = "OrganizationId"
	ParamExternalID     = "ExternalId"
	ParamRegions        = "Regions"
)

// MemberRoleTemplate is the CloudFormation template the StackSet deploys
// to every member account: the role the hub assumes, with the member
// policy and trust built from the same Go values as the single-account
// role. Its parameters carry everything that varies per stack, so the
// template itself is constant (and linted as such by cfn-lint).
func MemberRoleTemplate() (string, error) {
	ref := func(name string) map[string]any { return map[string]any{"Ref": name} }
	arn := func(service, resource string) any {
		return map[string]any{"Fn::Sub": fmt.Sprintf("arn:${AWS::Partition}:%s:*:${AWS::AccountId}:%s", service, resource)}
	}
	externalID := map[string]any{"Fn::If": []any{"HasExternalId", ref(ParamExternalID), ref("AWS::NoValue")}}
	policy, err := memberPolicy(arn, ref(ParamRegions), []any{arn("ecs", "service/*")})
	if err != nil {
		return "", err
	}
	t := map[string]any{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              "Role the nightly ECS restart assumes in this account: list, restart and verify ECS services, and write their restart tag.",
		"Parameters": map[string]any{
			ParamRoleName: map[string]any{
				"Type": "String", "Description": "Name of the member role (the engine's ROLE_NAME).",
				"AllowedPattern": `[\w+=,.@-]{1,64}`,
			},
			ParamHubRoleArns: map[string]any{
				"Type": "CommaDelimitedList", "Description": "ARNs of the hub's Lambda roles that may assume the member role.",
			},
			ParamOrganizationID: map[string]any{
				"Type": "String", "Description": "The AWS Organization the hub's roles belong to (aws:PrincipalOrgID).",
				"AllowedPattern": `o-[a-z0-9]{10,32}`,
			},
			ParamExternalID: map[string]any{
				"Type": "String", "Default": "", "Description": "External id the hub passes to AssumeRole; empty for none.",
			},
			ParamRegions: map[string]any{
				"Type": "CommaDelimitedList", "Description": "Regions whose ECS services the hub may restart.",
			},
		},
		"Conditions": map[string]any{
			"HasExternalId": map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{ref(ParamExternalID), ""}}}},
		},
		"Resources": map[string]any{
			"MemberRole": map[string]any{
				"Type": "AWS::IAM::Role",
				"Properties": map[string]any{
					"RoleName":                 ref(ParamRoleName),
					"Description":              "Assumed by the nightly ECS restart's hub Lambda roles",
					"MaxSessionDuration":       3600,
					"AssumeRolePolicyDocument": memberTrust(ref(ParamHubRoleArns), ref(ParamOrganizationID), externalID),
					"Policies": []any{map[string]any{
						"PolicyName":     "ecs-daily-restart",
						"PolicyDocument": policy,
					}},
				},
			},
		},
		"Outputs": map[string]any{
			"RoleArn": map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"MemberRole", "Arn"}}},
		},
	}
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode the member role template: %w", err)
	}
	return string(b), nil
}

// memberRoleByStackSet deploys the member role to every account of the OUs
// with a service-managed StackSet, auto-deployed to accounts that join
// them later and removed from accounts that leave.
func (p *Pipeline) memberRoleByStackSet(ctx *pulumi.Context, name string, a Args, hubRoles pulumi.StringArrayOutput, opts ...pulumi.ResourceOption) error {
	m := a.MemberRole
	template, err := MemberRoleTemplate()
	if err != nil {
		return err
	}
	params := pulumi.StringMap{
		ParamRoleName:       pulumi.String(m.Name),
		ParamHubRoleArns:    hubRoles.ApplyT(func(arns []string) string { return strings.Join(arns, ",") }).(pulumi.StringOutput),
		ParamOrganizationID: pulumi.String(m.OrganizationID),
		ParamExternalID:     pulumi.String(m.ExternalID),
		ParamRegions:        pulumi.String(strings.Join(a.Regions, ",")),
	}
	callAs := m.CallAs
	if callAs == "" {
		callAs = "SELF"
	}
	set, err := cloudformation.NewStackSet(ctx, name+"-member-role", &cloudformation.StackSetArgs{
		Name:            pulumi.String(name + "-member-role"),
		Description:     pulumi.String("The nightly ECS restart's member role, in every account of the fleet's OUs"),
		PermissionModel: pulumi.String("SERVICE_MANAGED"),
		AutoDeployment: &cloudformation.StackSetAutoDeploymentArgs{
			Enabled:                      pulumi.Bool(true),
			RetainStacksOnAccountRemoval: pulumi.Bool(false),
		},
		CallAs:       pulumi.String(callAs),
		Capabilities: pulumi.StringArray{pulumi.String("CAPABILITY_NAMED_IAM")},
		ManagedExecution: &cloudformation.StackSetManagedExecutionArgs{
			Active: pulumi.Bool(true),
		},
		TemplateBody: pulumi.String(template),
		Parameters:   params,
		Tags:         pulumi.ToStringMap(a.Tags),
	}, append(opts,
		// AWS fills administrationRoleArn for service-managed StackSets;
		// without this every preview would show a diff (pulumi-aws docs).
		pulumi.IgnoreChanges([]string{"administrationRoleArn"}))...)
	if err != nil {
		return fmt.Errorf("member role stack set: %w", err)
	}
	ous := pulumi.ToStringArray(m.OrganizationalUnits)
	// IAM is global: one stack instance per account, in the stack's Region.
	if _, err := cloudformation.NewStackSetInstance(ctx, name+"-member-role", &cloudformation.StackSetInstanceArgs{
		StackSetName:      set.Name,
		CallAs:            pulumi.String(callAs),
		Region:            pulumi.String(a.Env.Region),
		DeploymentTargets: &cloudformation.StackSetInstanceDeploymentTargetsArgs{OrganizationalUnitIds: ous},
		OperationPreferences: &cloudformation.StackSetInstanceOperationPreferencesArgs{
			FailureTolerancePercentage: pulumi.Int(10),
			MaxConcurrentPercentage:    pulumi.Int(25),
			RegionConcurrencyType:      pulumi.String("PARALLEL"),
		},
	}, opts...); err != nil {
		return fmt.Errorf("member role stack set instances: %w", err)
	}
	p.MemberRoleStackSet = set.Name
	return nil
}

// memberRoleDirect creates the member role in the stack's own account, for
// a single-account stack, from the same policy and trust as the template.
func (p *Pipeline) memberRoleDirect(ctx *pulumi.Context, name string, a Args, hubRoles pulumi.StringArrayOutput, opts ...pulumi.ResourceOption) error {
	m := a.MemberRole
	var orgID, externalID any
	if m.OrganizationID != "" {
		orgID = m.OrganizationID
	}
	if m.ExternalID != "" {
		externalID = m.ExternalID
	}
	trust := hubRoles.ApplyT(func(arns []string) (string, error) {
		return memberTrust(arns, orgID, externalID).JSON()
	}).(pulumi.StringOutput)
	arn := func(service, resource string) any {
		return fmt.Sprintf("arn:%s:%s:*:%s:%s", a.Env.Partition, service, a.Env.AccountID, resource)
	}
	// Only the stack's own clusters' services: another stack in this
	// account (prod beside dev) is out of reach. Service ARNs are
	// service/<cluster>/<service> (the long ARN format; a short-ARN
	// service cannot be tagged, and the engine skips it).
	var own []any
	for _, c := range a.Clusters {
		region, name := clusterRegionAndName(c)
		own = append(own, a.Env.ARN("ecs", region, a.Env.AccountID, "service/"+name+"/*"))
	}
	policy, err := memberPolicy(arn, a.Regions, own)
	if err != nil {
		return err
	}
	doc, err := policy.JSON()
	if err != nil {
		return err
	}
	role, err := awsiam.NewRole(ctx, name+"-member", &awsiam.RoleArgs{
		Name:               pulumi.String(m.Name),
		Description:        pulumi.String("Assumed by the nightly ECS restart's hub Lambda roles"),
		AssumeRolePolicy:   trust,
		MaxSessionDuration: pulumi.Int(3600),
		Tags:               pulumi.ToStringMap(a.Tags),
	}, opts...)
	if err != nil {
		return fmt.Errorf("member role: %w", err)
	}
	if _, err := awsiam.NewRolePolicy(ctx, name+"-member", &awsiam.RolePolicyArgs{
		Role:   role.Name,
		Name:   pulumi.String("ecs-daily-restart"),
		Policy: pulumi.String(doc),
	}, opts...); err != nil {
		return fmt.Errorf("member role policy: %w", err)
	}
	return nil
}

// clusterRegionAndName reads arn:<partition>:ecs:<region>:<account>:cluster/<name>.
func clusterRegionAndName(clusterARN string) (region, name string) {
	parts := strings.SplitN(clusterARN, ":", 6)
	if len(parts) < 6 {
		return "", ""
	}
	return parts[3], strings.TrimPrefix(parts[5], "cluster/")
}
