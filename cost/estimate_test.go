package cost_test

import (
	"math"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/cost"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

func prices(t *testing.T) *cost.Prices {
	t.Helper()
	p, err := cost.LoadPrices("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func res(typ, name string, inputs map[string]any) plan.Resource {
	return plan.Resource{URN: "urn:" + typ + "::" + name, Type: typ, Name: name, ID: name, ARN: "arn:" + name, Inputs: inputs}
}

func TestEachPricedTypeIsBilledByItsDimension(t *testing.T) {
	usage := cost.DefaultUsage()
	taskDef := res("aws:ecs/taskDefinition:TaskDefinition", "td", map[string]any{"cpu": "512", "memory": "1024"})
	cases := []struct {
		name string
		r    []plan.Resource
		want float64
	}{
		{"NAT gateway: hours and its share of the data", []plan.Resource{res("aws:ec2/natGateway:NatGateway", "nat", nil)}, 730*0.045 + 50*0.045},
		{"elastic IP: public IPv4 hours", []plan.Resource{res("aws:ec2/eip:Eip", "eip", nil)}, 730 * 0.005},
		{"interface endpoint: one hour per AZ", []plan.Resource{res("aws:ec2/vpcEndpoint:VpcEndpoint", "ssm", map[string]any{"vpcEndpointType": "Interface", "subnetIds": []any{"a", "b"}})}, 2*730*0.01 + 5*0.01},
		{"gateway endpoint is free", []plan.Resource{res("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", map[string]any{"vpcEndpointType": "Gateway"})}, 0},
		{"KMS key", []plan.Resource{res("aws:kms/key:Key", "k", nil)}, 1},
		{"log group: ingestion and a year kept", []plan.Resource{res("aws:cloudwatch/logGroup:LogGroup", "lg", map[string]any{"retentionInDays": 365.0})}, 0.5 + 12*0.03},
		{"ALB: hours and LCUs", []plan.Resource{res("aws:lb/loadBalancer:LoadBalancer", "alb", map[string]any{"loadBalancerType": "application"})}, 730*0.0225 + 730*0.008},
		{"Fargate service: tasks x vCPU and GB", []plan.Resource{taskDef, res("aws:ecs/service:Service", "svc", map[string]any{"desiredCount": 3.0, "taskDefinition": "arn:td", "launchType": "FARGATE"})}, 3 * 730 * (0.5*0.04048 + 1*0.004445)},
		{"RDS Multi-AZ doubles class and storage", []plan.Resource{res("aws:rds/instance:Instance", "db", map[string]any{"instanceClass": "db.t4g.micro", "allocatedStorage": 20.0, "multiAz": true})}, 2*730*0.016 + 2*20*0.115},
		{"EC2 instance and its root volume", []plan.Resource{res("aws:ec2/instance:Instance", "bastion", map[string]any{"instanceType": "t4g.nano", "rootBlockDevice": map[string]any{"volumeSize": 8.0}})}, 730*0.0042 + 8*0.08},
		{"WAF: ACL, rules, requests", []plan.Resource{res("aws:wafv2/webAcl:WebAcl", "waf", map[string]any{"rules": []any{1, 2, 3}})}, 5 + 3 + 5*0.6},
		{"alarm", []plan.Resource{res("aws:cloudwatch/metricAlarm:MetricAlarm", "a", nil)}, 0.1},
		{"standard SSM parameter is free", []plan.Resource{res("aws:ssm/parameter:Parameter", "p", map[string]any{"tier": "Standard"})}, 0},
		{"arm64 function: the night's calls and GB-s", []plan.Resource{res("aws:lambda/function:Function", "fn", map[string]any{"memorySize": 1024.0, "architectures": []any{"arm64"}})}, 4500*0.2/1e6 + 4500*5*0.0000133334},
		{"function without architectures runs on x86_64", []plan.Resource{res("aws:lambda/function:Function", "fn", map[string]any{"memorySize": 1024.0})}, 4500*0.2/1e6 + 4500*5*0.0000166667},
		{"MWAA small environment", []plan.Resource{res("aws:mwaa/environment:Environment", "mwaa", map[string]any{"environmentClass": "mw1.small"})}, 730 * 0.49},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			est := cost.Compute(&plan.Plan{Stack: "t", Resources: c.r}, prices(t), usage)
			if math.Abs(est.MonthlyUSD-c.want) > 0.02 {
				t.Errorf("monthly = $%.2f, want $%.2f (lines %+v)", est.MonthlyUSD, c.want, est.Lines)
			}
			if est.NotPriced != 0 {
				t.Errorf("not priced: %+v", est.Lines)
			}
		})
	}
}

func TestAnUnknownTypeIsListedAsNotPricedNeverAsZero(t *testing.T) {
	p := &plan.Plan{Stack: "t", Resources: []plan.Resource{
		res("aws:opensearch/domain:Domain", "search", nil),
		res("aws:kms/key:Key", "k", nil),
		res("aws:ec2/vpc:Vpc", "vpc", nil),
	}}
	est := cost.Compute(p, prices(t), cost.DefaultUsage())
	if est.NotPriced != 1 || est.Free != 1 || est.MonthlyUSD != 1 {
		t.Fatalf("not priced %d, free %d, total %.2f; want 1, 1, $1.00", est.NotPriced, est.Free, est.MonthlyUSD)
	}
	for _, l := range est.Lines {
		if l.Type == "aws:opensearch/domain:Domain" && (l.Priced || l.Note == "") {
			t.Errorf("unknown type line = %+v, want unpriced with a note", l)
		}
	}
}

func TestAPriceMissingFromTheFileIsNotPriced(t *testing.T) {
	p := &plan.Plan{Stack: "t", Resources: []plan.Resource{res("aws:rds/instance:Instance", "db", map[string]any{"instanceClass": "db.x2iedn.32xlarge"})}}
	est := cost.Compute(p, prices(t), cost.DefaultUsage())
	if est.NotPriced != 1 || est.MonthlyUSD != 0 {
		t.Errorf("an unknown instance class: not priced %d, total %.2f", est.NotPriced, est.MonthlyUSD)
	}
}

func TestEveryPriceNamesItsPageAndUnit(t *testing.T) {
	for _, region := range cost.Regions() {
		p, err := cost.LoadPrices(region)
		if err != nil {
			t.Fatal(err)
		}
		if p.AsOf == "" || p.Currency != "USD" {
			t.Errorf("%s: asOf %q currency %q", region, p.AsOf, p.Currency)
		}
	}
	if _, err := cost.LoadPrices("xx-nowhere-1"); err == nil {
		t.Error("an unknown region has prices")
	}
}

func TestDiffShowsWhatAChangeAddsOrRemoves(t *testing.T) {
	before := cost.Compute(&plan.Plan{Resources: []plan.Resource{res("aws:kms/key:Key", "a", nil)}}, prices(t), cost.DefaultUsage())
	after := cost.Compute(&plan.Plan{Resources: []plan.Resource{res("aws:kms/key:Key", "b", nil), res("aws:kms/key:Key", "c", nil)}}, prices(t), cost.DefaultUsage())
	deltas := cost.Diff(before, after)
	sum := 0.0
	for _, d := range deltas {
		sum += d.MonthlyUSD
	}
	if len(deltas) != 3 || sum != 1 {
		t.Errorf("deltas = %+v, want a removed and two added keys (+$1.00)", deltas)
	}
}
