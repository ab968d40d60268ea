package pipeline

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"

	"github.com/nequi-platform/wordpress-ecs/iam"
	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/report"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// RestartTagKey is the only tag the member role may write.
const RestartTagKey = fleet.RestartTag

// The actions the engine's adapters can call, read from the interfaces
// they call AWS through: a method added to one of them is granted with it,
// and nothing is granted that no method calls.
var (
	// DynamoDBActions are store.API's methods, on the engine's tables.
	DynamoDBActions = iam.ActionsOf("dynamodb", reflect.TypeFor[store.API]())
	// MemberECSActions are awsfleet.ECS's methods, in member accounts.
	MemberECSActions = iam.ActionsOf("ecs", reflect.TypeFor[awsfleet.ECS]())
	// STSActions are what the credentials provider calls to reach a member
	// account (stscreds.AssumeRoleAPIClient).
	STSActions = iam.ActionsOf("sts", reflect.TypeFor[stscreds.AssumeRoleAPIClient]())
	// SNSActions are report.Publisher's methods, on the pipeline's topics.
	SNSActions = iam.ActionsOf("sns", reflect.TypeFor[report.Publisher]())
)

// memberResource says what each member ECS action is granted on, from the
// Service Authorization Reference for Amazon ECS: ListClusters and
// ListServices take no resource ("*"); DescribeServices, UpdateService,
// TagResource and ListServiceDeployments take the service's ARN
// (service/<cluster>/<service>); DescribeServiceDeployments and
// DescribeServiceRevisions take the service and its service deployment
// (service-deployment/<cluster>/<service>/<id>) or service revision
// (service-revision/<cluster>/<service>/<id>), both required. An action
// of MemberECSActions missing here stops the plan, so that a new call is
// placed on purpose.
var memberResource = map[string]string{
	"ecs:ListClusters":               "*",
	"ecs:ListServices":               "*",
	"ecs:DescribeServices":           "service",
	"ecs:UpdateService":              "service",
	"ecs:ListServiceDeployments":     "service",
	"ecs:TagResource":                "service",
	"ecs:DescribeServiceDeployments": "revisions",
	"ecs:DescribeServiceRevisions":   "revisions",
}

// memberPolicy is what the member role may do, in the account it lives
// in. arn builds an ARN of that account for a service and resource; regions
// is the list of Regions the engine restarts (or a template reference to
// it); restartable are the services the role may update and tag (every
// service of the account, or a stack's own clusters' services). Every
// statement is limited to the configured Regions, and TagResource to the
// restart tag.
func memberPolicy(arn func(service, resource string) any, regions any, restartable []any) (iam.Policy, error) {
	var list, read, restart, revisions []string
	for _, a := range MemberECSActions {
		switch memberResource[a] {
		case "*":
			list = append(list, a)
		case "service":
			switch a {
			case "ecs:TagResource":
			case "ecs:UpdateService":
				restart = append(restart, a)
			default:
				read = append(read, a)
			}
		case "revisions":
			revisions = append(revisions, a)
		default:
			return iam.Policy{}, fmt.Errorf("member policy: the engine calls %s, which memberResource does not place", a)
		}
	}
	var st []iam.Statement
	if len(list) > 0 {
		st = append(st, iam.AllowStatement("ListClustersAndServices", list, "*").
			If("StringEquals", "aws:RequestedRegion", regions))
	}
	if len(read) > 0 {
		st = append(st, iam.Statement{Sid: "ReadServices", Effect: iam.Allow, Actions: read}.
			On(arn("ecs", "service/*")).
			If("StringEquals", "aws:RequestedRegion", regions))
	}
	if len(revisions) > 0 {
		// What a restart changed: the service deployment it started and
		// the revisions it went from and to.
		st = append(st, iam.Statement{Sid: "ReadWhatRestartsChanged", Effect: iam.Allow, Actions: revisions}.
			On(arn("ecs", "service/*"), arn("ecs", "service-deployment/*"), arn("ecs", "service-revision/*")).
			If("StringEquals", "aws:RequestedRegion", regions))
	}
	// Reading stays account-wide (discovery lists every cluster); what
	// changes a service is limited to restartable.
	if len(restart) > 0 {
		st = append(st, iam.Statement{Sid: "RestartServices", Effect: iam.Allow, Actions: restart}.
			On(restartable...).
			If("StringEquals", "aws:RequestedRegion", regions))
	}
	if slices.Contains(MemberECSActions, "ecs:TagResource") {
		st = append(st, iam.Statement{Sid: "StampTheRestartTagOnly", Effect: iam.Allow, Actions: []string{"ecs:TagResource"}}.
			On(restartable...).
			If("StringEquals", "aws:RequestedRegion", regions).
			If("ForAllValues:StringEquals", "aws:TagKeys", []string{RestartTagKey}).
			If("Null", "aws:TagKeys", "false"))
	}
	return iam.Identity(st...), nil
}

// memberTrust lets only the hub's fleet roles assume the member role, and
// only with the organization and/or external id conditions.
func memberTrust(hubRoles any, orgID, externalID any) iam.Policy {
	principals := []any{hubRoles}
	if arns, ok := hubRoles.([]string); ok {
		principals = make([]any, len(arns))
		for i, a := range arns {
			principals[i] = a
		}
	}
	st := iam.Statement{Sid: "HubFleetRolesOnly", Effect: iam.Allow, Actions: STSActions}.
		By(iam.AWSPrincipal(principals...))
	if orgID != nil {
		st = st.If("StringEquals", "aws:PrincipalOrgID", orgID)
	}
	if externalID != nil {
		st = st.If("StringEquals", "sts:ExternalId", externalID)
	}
	return iam.Trust(st)
}
