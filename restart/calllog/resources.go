package calllog

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

type arnBuilder struct{ partition, region, account string }

func (b arnBuilder) arn(service, resource string) string {
	p := b.partition
	if p == "" {
		p = "aws"
	}
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", p, service, b.region, b.account, resource)
}

// table is a DynamoDB table's ARN; the API takes a name or an ARN.
func (b arnBuilder) table(name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return b.arn("dynamodb", "table/"+name)
}

// cluster is an ECS cluster's ARN from its name or ARN.
func (b arnBuilder) cluster(c string) string {
	if strings.HasPrefix(c, "arn:") {
		return c
	}
	if c == "" {
		c = "default" // ECS's own default when no cluster is given
	}
	return b.arn("ecs", "cluster/"+c)
}

// service is an ECS service's ARN in the long format ECS has used since
// 2021 (service/<cluster>/<service>: "Amazon Resource Names (ARNs) and
// IDs", ECS developer guide), from the names or ARNs the request holds.
func (b arnBuilder) service(cluster, s string) string {
	if strings.HasPrefix(s, "arn:") {
		return s
	}
	c := b.cluster(cluster)
	return b.arn("ecs", "service/"+c[strings.LastIndex(c, "/")+1:]+"/"+s)
}

// resources returns what an action is authorized against, by the Service
// Authorization Reference of its service ("Actions defined by ..."):
// DynamoDB's item and batch actions take the table (a Query on an index,
// the index); ECS's ListClusters and ListServices take no resource, the
// service actions the service; STS AssumeRole the role; SNS Publish the
// topic. It also returns the action's condition keys that the request
// sets. ok is false for an action this table does not know.
func resources(b arnBuilder, action string, params any) (res []string, cond map[string]any, ok bool) {
	cond = map[string]any{}
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		return []string{b.table(deref(in.TableName))}, cond, true
	case *dynamodb.PutItemInput:
		return []string{b.table(deref(in.TableName))}, cond, true
	case *dynamodb.UpdateItemInput:
		return []string{b.table(deref(in.TableName))}, cond, true
	case *dynamodb.DeleteItemInput:
		return []string{b.table(deref(in.TableName))}, cond, true
	case *dynamodb.QueryInput:
		t := b.table(deref(in.TableName))
		if in.IndexName != nil {
			t += "/index/" + *in.IndexName
		}
		return []string{t}, cond, true
	case *dynamodb.BatchWriteItemInput:
		// IAM checks the action against every table of the batch.
		return tables(b, slices.Sorted(maps.Keys(in.RequestItems))), cond, true
	case *dynamodb.BatchGetItemInput:
		return tables(b, slices.Sorted(maps.Keys(in.RequestItems))), cond, true
	case *dynamodb.CreateTableInput:
		return []string{b.table(deref(in.TableName))}, cond, true
	case *dynamodb.DescribeTableInput:
		return []string{b.table(deref(in.TableName))}, cond, true

	case *ecs.ListClustersInput:
		return []string{"*"}, cond, true
	case *ecs.ListServicesInput:
		cond["ecs:cluster"] = b.cluster(deref(in.Cluster))
		return []string{"*"}, cond, true
	case *ecs.DescribeServicesInput:
		cond["ecs:cluster"] = b.cluster(deref(in.Cluster))
		out := make([]string, len(in.Services))
		for i, s := range in.Services {
			out[i] = b.service(deref(in.Cluster), s)
		}
		return out, cond, true
	case *ecs.UpdateServiceInput:
		cond["ecs:cluster"] = b.cluster(deref(in.Cluster))
		return []string{b.service(deref(in.Cluster), deref(in.Service))}, cond, true
	case *ecs.ListServiceDeploymentsInput:
		cond["ecs:cluster"] = b.cluster(deref(in.Cluster))
		return []string{b.service(deref(in.Cluster), deref(in.Service))}, cond, true
	case *ecs.DescribeServiceDeploymentsInput:
		return slices.Clone(in.ServiceDeploymentArns), cond, true
	case *ecs.TagResourceInput:
		// aws:TagKeys and aws:RequestTag/<key>, which the member policy
		// limits TagResource with ("Controlling access to AWS resources
		// using tags", IAM User Guide).
		var keys []string
		for _, t := range in.Tags {
			keys = append(keys, deref(t.Key))
			cond["aws:RequestTag/"+deref(t.Key)] = deref(t.Value)
		}
		cond["aws:TagKeys"] = keys
		return []string{deref(in.ResourceArn)}, cond, true

	case *sts.AssumeRoleInput:
		if in.ExternalId != nil {
			cond["sts:ExternalId"] = *in.ExternalId
		}
		if in.RoleSessionName != nil {
			cond["sts:RoleSessionName"] = *in.RoleSessionName
		}
		return []string{deref(in.RoleArn)}, cond, true
	case *sts.GetCallerIdentityInput:
		// No permission is needed ("GetCallerIdentity", STS API
		// Reference); the judge allows it as AWS does.
		return []string{"*"}, cond, true

	case *sns.PublishInput:
		t := deref(in.TopicArn)
		if t == "" {
			t = deref(in.TargetArn)
		}
		return []string{t}, cond, true
	}
	return []string{"*"}, cond, false
}

func tables(b arnBuilder, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = b.table(n)
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
