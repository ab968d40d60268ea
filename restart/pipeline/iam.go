package pipeline

import (
	"encoding/json"
	"fmt"
)

// Policy is an IAM policy document. Fields are `any` so that the same
// statements can carry CloudFormation intrinsics (the member role's
// StackSet template) or plain strings (every role in the hub).
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Policy.
type Statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    []string       `json:"Action"`
	Resource  any            `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

func policy(statements ...Statement) Policy {
	return Policy{Version: "2012-10-17", Statement: statements}
}

func allow(sid string, actions []string, resource any) Statement {
	return Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resource}
}

// JSON encodes the document.
func (p Policy) JSON() (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode policy: %w", err)
	}
	return string(b), nil
}

// RestartTagKey is the only tag the member role may write (the engine's
// fleet.RestartTag, repeated here so that the Pulumi program does not
// import the engine).
const RestartTagKey = "ecs_task_daily_restart"

// MemberECSActions are the ECS calls the engine makes in a member account
// (restart/awsfleet: discovery lists clusters and services and describes
// them with their tags, the restart forces a new deployment, the verifier
// reads deployments and stamps the restart tag). ListServiceDeployments
// and DescribeServiceDeployments are the deployment APIs the verifier
// judges completion with.
var MemberECSActions = []string{
	"ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices",
	"ecs:UpdateService", "ecs:TagResource",
	"ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments",
}

// memberPolicy is what the member role may do, in the account it lives
// in. arn builds an ARN of that account for a service and resource; regions
// is the list of Regions the engine restarts (or a template reference to
// it); restartable are the services the role may update and tag (every
// service of the account, or a stack's own clusters' services). ECS's Service Authorization Reference: ListClusters and
// ListServices take no resource ARN ("*"); DescribeServices, UpdateService,
// TagResource and ListServiceDeployments take the service's ARN;
// DescribeServiceDeployments takes the service deployment's ARN. Every
// statement is limited to the configured Regions, and TagResource to the
// restart tag.
func memberPolicy(arn func(service, resource string) any, regions, restartable any) Policy {
	inRegions := map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": regions}}
	list := allow("ListClustersAndServices", []string{"ecs:ListClusters", "ecs:ListServices"}, "*")
	list.Condition = inRegions
	services := allow("ReadServices",
		[]string{"ecs:DescribeServices", "ecs:ListServiceDeployments"},
		arn("ecs", "service/*"))
	services.Condition = inRegions
	restart := allow("RestartServices", []string{"ecs:UpdateService"}, restartable)
	restart.Condition = inRegions
	deployments := allow("ReadServiceDeployments", []string{"ecs:DescribeServiceDeployments"}, arn("ecs", "service-deployment/*"))
	deployments.Condition = inRegions
	tag := allow("StampTheRestartTagOnly", []string{"ecs:TagResource"}, restartable)
	tag.Condition = map[string]any{
		"StringEquals":              map[string]any{"aws:RequestedRegion": regions},
		"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []string{RestartTagKey}},
		"Null":                      map[string]any{"aws:TagKeys": "false"},
	}
	return policy(list, services, restart, deployments, tag)
}

// memberTrust lets only the hub's Lambda roles assume the member role, and
// only with the organization and/or external id conditions.
func memberTrust(hubRoles any, orgID, externalID any) Policy {
	cond := map[string]any{}
	if orgID != nil {
		cond["aws:PrincipalOrgID"] = orgID
	}
	if externalID != nil {
		cond["sts:ExternalId"] = externalID
	}
	return policy(Statement{
		Sid:       "HubLambdaRolesOnly",
		Effect:    "Allow",
		Principal: map[string]any{"AWS": hubRoles},
		Action:    []string{"sts:AssumeRole"},
		Condition: map[string]any{"StringEquals": cond},
	})
}

// serviceTrust lets an AWS service assume a role; conditions, when given,
// pin the caller (aws:SourceAccount / aws:SourceArn, against the confused
// deputy problem).
func serviceTrust(service string, conditions map[string]any) Policy {
	return policy(Statement{
		Effect:    "Allow",
		Principal: map[string]any{"Service": service},
		Action:    []string{"sts:AssumeRole"},
		Condition: conditions,
	})
}
