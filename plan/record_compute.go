package plan

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// albZoneIDs are the Route 53 hosted zones of Application Load Balancers
// per Region (Elastic Load Balancing endpoints, AWS General Reference), for
// the alias records the program points at a load balancer.
var albZoneIDs = map[string]string{
	"us-east-1":      "Z35SXDOTRQ7X7K",
	"us-east-2":      "Z3AADJGX6KTTL2",
	"us-west-1":      "Z368ELLRRE2KJ0",
	"us-west-2":      "Z1H1FL5HABSF5",
	"eu-west-1":      "Z32O12XQLNTSW2",
	"eu-central-1":   "Z215JYRZR1TBD5",
	"ap-northeast-1": "Z14GRHDCWA56QT",
	"sa-east-1":      "Z2P70J7HTTTPLU",
}

// computeTier fills in what AWS computes for the compute tier's resources
// (load balancer names and suffixes, certificate validation records, file
// system and bucket names) and returns the resource's ARN when the
// generic one would not look like AWS's.
func (r *recorder) computeTier(_ resource.PropertyMap, typ, name, id string, state resource.PropertyMap) string {
	part, suffix, _ := partitionOf(r.region)
	str := func(k string) string {
		if v, ok := state[resource.PropertyKey(k)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	nameOr := func() string {
		if n := str("name"); n != "" {
			return n
		}
		return name
	}
	hexID := id[len(id)-16:]
	switch typ {
	case "aws:lb/loadBalancer:LoadBalancer":
		n := nameOr()
		state["arnSuffix"] = resource.NewProperty(fmt.Sprintf("app/%s/%s", n, hexID))
		state["dnsName"] = resource.NewProperty(fmt.Sprintf("%s-%d.%s.elb.%s", n, len(hexID)*7919, r.region, suffix))
		zone := albZoneIDs[r.region]
		if zone == "" {
			zone = "Z00OFFLINEALBZONE"
		}
		state["zoneId"] = resource.NewProperty(zone)
		return fmt.Sprintf("arn:%s:elasticloadbalancing:%s:%s:loadbalancer/app/%s/%s", part, r.region, r.opts.AccountID, n, hexID)
	case "aws:lb/targetGroup:TargetGroup":
		n := nameOr()
		state["arnSuffix"] = resource.NewProperty(fmt.Sprintf("targetgroup/%s/%s", n, hexID))
		return fmt.Sprintf("arn:%s:elasticloadbalancing:%s:%s:targetgroup/%s/%s", part, r.region, r.opts.AccountID, n, hexID)
	case "aws:lb/listener:Listener":
		return fmt.Sprintf("arn:%s:elasticloadbalancing:%s:%s:listener/app/%s", part, r.region, r.opts.AccountID, hexID)
	case "aws:acm/certificate:Certificate":
		domain := str("domainName")
		state["domainValidationOptions"] = resource.NewProperty([]resource.PropertyValue{resource.NewProperty(resource.NewPropertyMapFromMap(map[string]any{
			"domainName":          domain,
			"resourceRecordName":  fmt.Sprintf("_%s.%s.", hexID, domain),
			"resourceRecordType":  "CNAME",
			"resourceRecordValue": fmt.Sprintf("_%s.offline.acm-validations.aws.", hexID),
		}))})
		return fmt.Sprintf("arn:%s:acm:%s:%s:certificate/%s-0000-4000-8000-%s", part, r.region, r.opts.AccountID, hexID[:8], hexID[4:16])
	case "aws:route53/record:Record":
		state["fqdn"] = resource.NewProperty(strings.TrimSuffix(str("name"), "."))
	case "aws:s3/bucketV2:BucketV2":
		bucket := str("bucket")
		if bucket == "" {
			// Pulumi names a bucket after the resource with a random
			// suffix; offline the id stands in for it.
			bucket = name + "-" + hexID[:7]
			state["bucket"] = resource.NewProperty(bucket)
		}
		return fmt.Sprintf("arn:%s:s3:::%s", part, bucket)
	case "aws:efs/fileSystem:FileSystem":
		return fmt.Sprintf("arn:%s:elasticfilesystem:%s:%s:file-system/%s", part, r.region, r.opts.AccountID, id)
	case "aws:efs/accessPoint:AccessPoint":
		return fmt.Sprintf("arn:%s:elasticfilesystem:%s:%s:access-point/%s", part, r.region, r.opts.AccountID, id)
	case "aws:ecs/cluster:Cluster":
		return fmt.Sprintf("arn:%s:ecs:%s:%s:cluster/%s", part, r.region, r.opts.AccountID, nameOr())
	case "aws:ecs/taskDefinition:TaskDefinition":
		return fmt.Sprintf("arn:%s:ecs:%s:%s:task-definition/%s:1", part, r.region, r.opts.AccountID, str("family"))
	case "aws:ecs/service:Service":
		return fmt.Sprintf("arn:%s:ecs:%s:%s:service/%s", part, r.region, r.opts.AccountID, nameOr())
	case "aws:wafv2/webAcl:WebAcl":
		return fmt.Sprintf("arn:%s:wafv2:%s:%s:regional/webacl/%s/%s", part, r.region, r.opts.AccountID, nameOr(), hexID)
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		if str("vpcEndpointType") == "Gateway" {
			// A gateway endpoint routes the service's AWS-managed prefix
			// list (pl- and 8 hex digits, one per service and Region).
			state["prefixListId"] = resource.NewProperty("pl-" + offlineID("prefix-list", r.region+str("serviceName"))[len("offline-"):][:8])
		}
	case "aws:ec2/instance:Instance":
		return fmt.Sprintf("arn:%s:ec2:%s:%s:instance/%s", part, r.region, r.opts.AccountID, id)
	}
	return ""
}

// ssmParameter answers GetParameter for the public parameters AWS
// publishes; the program reads no parameter of its own at deploy time.
func (r *recorder) ssmParameter(in resource.PropertyMap) (resource.PropertyMap, error) {
	name := ""
	if v, ok := in["name"]; ok && v.IsString() {
		name = v.StringValue()
	}
	const amiPrefix = "/aws/service/ami-amazon-linux-latest/"
	if !strings.HasPrefix(name, amiPrefix) {
		return nil, fmt.Errorf("the offline plan answers getParameter only for %s*, not %q (plan/record_compute.go)", amiPrefix, name)
	}
	// An AMI id is "ami-" and 17 hex digits, and differs per Region.
	ami := "ami-" + offlineID("ami", r.region+name)[len("offline-"):]
	part, _, _ := partitionOf(r.region)
	return resource.NewPropertyMapFromMap(map[string]any{
		"name": name, "id": name, "type": "String", "value": ami, "insecureValue": ami, "version": 1,
		"arn": fmt.Sprintf("arn:%s:ssm:%s::parameter%s", part, r.region, name),
	}), nil
}
