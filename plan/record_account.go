package plan

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Account is what the account and Region the offline plan deploys to
// already have, as the lookups of the account-wide services a stack adopts
// (mode existing) and of its organization see it. The zero value is the
// account a stack usually lands in: a member account of an AWS
// Organization (Control Tower or not) whose delegated administrators run
// Security Hub, GuardDuty (runtime monitoring with the Fargate agent) and
// AWS Config, with account-wide S3 Block Public Access and Session Manager
// preferences that log every session.
type Account struct {
	// NoSecurityHub, NoGuardDuty, NoPublicAccessBlock and
	// NoSessionPreferences take the service out of the account: its
	// lookup fails the way AWS's does.
	NoSecurityHub        bool
	NoGuardDuty          bool
	NoPublicAccessBlock  bool
	NoSessionPreferences bool
	// NoOrganization is an account outside any organization.
	NoOrganization bool
	// OrganizationID is the account's organization; when empty, the one
	// the stack's config names (restart.organizationId: the offline plan
	// cannot know the real one, a real preview compares them), else a
	// stand-in.
	OrganizationID string
	// ManagementAccountID is the organization's management account
	// (210987654321 when empty; the plan's own account is 123456789012,
	// a delegated administrator).
	ManagementAccountID string
}

// offlineManagementAccount is the organization's management account when
// Account names none: not the plan's own account, which is therefore a
// member (a delegated administrator, for StackSets).
const offlineManagementAccount = "210987654321"

// accountLookup answers the data sources that read the account's
// account-wide services and its organization; ok is false for any other
// invoke.
func (r *recorder) accountLookup(token string, in resource.PropertyMap) (out resource.PropertyMap, ok bool, err error) {
	a := r.opts.Account
	part, _, _ := partitionOf(r.region)
	acct := r.opts.AccountID
	switch token {
	case "aws:guardduty/getDetector:getDetector":
		if a.NoGuardDuty {
			// The provider's message when ListDetectors returns none.
			return nil, true, fmt.Errorf("reading GuardDuty Detector: no results found")
		}
		id := offlineID("guardduty-detector", acct+r.region)[len("offline-"):] + "0000000000000000"
		id = id[:32]
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": id, "arn": fmt.Sprintf("arn:%s:guardduty:%s:%s:detector/%s", part, r.region, acct, id),
			"status": "ENABLED", "findingPublishingFrequency": "SIX_HOURS",
			"serviceRoleArn": fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty", part, acct),
			"features": []any{
				map[string]any{"name": "S3_DATA_EVENTS", "status": "ENABLED", "additionalConfigurations": []any{}},
				map[string]any{"name": "RUNTIME_MONITORING", "status": "ENABLED", "additionalConfigurations": []any{
					map[string]any{"name": "ECS_FARGATE_AGENT_MANAGEMENT", "status": "ENABLED"},
					map[string]any{"name": "EC2_AGENT_MANAGEMENT", "status": "DISABLED"},
					map[string]any{"name": "EKS_ADDON_MANAGEMENT", "status": "DISABLED"},
				}},
			},
		}), true, nil
	case "aws:securityhub/getStandardsControlAssociations:getStandardsControlAssociations":
		if a.NoSecurityHub {
			return nil, true, fmt.Errorf("listing Security Hub Standards Control Associations: InvalidAccessException: Account %s is not subscribed to AWS Security Hub", acct)
		}
		control := in["securityControlId"].StringValue()
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": control, "securityControlId": control,
			"standardsControlAssociations": []any{map[string]any{
				"associationStatus":  "ENABLED",
				"securityControlId":  control,
				"securityControlArn": fmt.Sprintf("arn:%s:securityhub:%s:%s:security-control/%s", part, r.region, acct, control),
				"standardsArn":       fmt.Sprintf("arn:%s:securityhub:%s::standards/aws-foundational-security-best-practices/v/1.0.0", part, r.region),
			}},
		}), true, nil
	case "aws:s3/getAccountPublicAccessBlock:getAccountPublicAccessBlock":
		if a.NoPublicAccessBlock {
			return nil, true, fmt.Errorf("reading S3 Account Public Access Block (%s): NoSuchPublicAccessBlockConfiguration: The public access block configuration was not found", acct)
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": acct, "accountId": acct,
			"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true,
		}), true, nil
	case "aws:ssm/getDocument:getDocument":
		name := in["name"].StringValue()
		if name != "SSM-SessionManagerRunShell" || a.NoSessionPreferences {
			return nil, true, fmt.Errorf("reading SSM Document (%s): InvalidDocument: Document with name %s does not exist", name, name)
		}
		content := `{"schemaVersion":"1.0","description":"Session Manager preferences of the account's owner","sessionType":"Standard_Stream",` +
			`"inputs":{"cloudWatchLogGroupName":"aws-controltower/ssm-sessions","cloudWatchEncryptionEnabled":true,"cloudWatchStreamingEnabled":true,"s3BucketName":"","kmsKeyId":"","runAsEnabled":false}}`
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": name, "name": name, "arn": fmt.Sprintf("arn:%s:ssm:%s:%s:document/%s", part, r.region, acct, name),
			"content": content, "documentFormat": "JSON", "documentType": "Session", "documentVersion": "1",
		}), true, nil
	case "aws:organizations/getOrganization:getOrganization":
		if a.NoOrganization {
			return nil, true, fmt.Errorf("reading Organization: AWSOrganizationsNotInUseException: Your account is not a member of an organization")
		}
		id := a.OrganizationID
		if id == "" {
			id = r.stackOrganization()
		}
		if id == "" {
			id = "o-" + strings.ToLower(offlineID("organization", acct)[len("offline-"):])[:10]
		}
		mgmt := a.ManagementAccountID
		if mgmt == "" {
			mgmt = offlineManagementAccount
		}
		// A member account sees the organization, not its account list.
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": id, "arn": fmt.Sprintf("arn:%s:organizations::%s:organization/%s", part, mgmt, id),
			"featureSet": "ALL", "masterAccountId": mgmt,
			"masterAccountArn":   fmt.Sprintf("arn:%s:organizations::%s:account/%s/%s", part, mgmt, id, mgmt),
			"masterAccountEmail": "aws-management@offline.invalid", "masterAccountName": "management",
			"accounts": []any{}, "nonMasterAccounts": []any{}, "roots": []any{}, "awsServiceAccessPrincipals": []any{}, "enabledPolicyTypes": []any{},
		}), true, nil
	}
	return nil, false, nil
}

// stackOrganization is the organization the stack's config names for its
// member role's trust, "" when none.
func (r *recorder) stackOrganization() string {
	var restart struct {
		OrganizationID string `json:"organizationId"`
	}
	_ = json.Unmarshal([]byte(r.opts.Config[r.opts.Project+":restart"]), &restart)
	return restart.OrganizationID
}
