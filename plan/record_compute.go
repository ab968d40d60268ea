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
