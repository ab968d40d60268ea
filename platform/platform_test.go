package platform_test

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

const (
	typeSubnet     = "aws:ec2/subnet:Subnet"
	typeNAT        = "aws:ec2/natGateway:NatGateway"
	typeRoute      = "aws:ec2/route:Route"
	typeAssoc      = "aws:ec2/routeTableAssociation:RouteTableAssociation"
	typeFlowLog    = "aws:ec2/flowLog:FlowLog"
	typeLogGroup   = "aws:cloudwatch/logGroup:LogGroup"
	typeEndpoint   = "aws:ec2/vpcEndpoint:VpcEndpoint"
	typeSG         = "aws:ec2/securityGroup:SecurityGroup"
	typeDefaultSG  = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
	typeVPC        = "aws:ec2/vpc:Vpc"
	typeKey        = "aws:kms/key:Key"
	typeNetwork    = "wordpress:network:Network"
	internetRoute  = "0.0.0.0/0"
	tierTag        = "Tier"
	expectedRegion = "us-east-1"
)

func subnetsOfTier(p *plan.Plan, tier string) []plan.Resource {
	var out []plan.Resource
	for _, s := range p.OfType(typeSubnet) {
		if s.Tag(tierTag) == tier {
			out = append(out, s)
		}
	}
	return out
}

// egress returns the internet route of the subnet's route table, if any.
func egress(t *testing.T, p *plan.Plan, subnet plan.Resource) (plan.Resource, bool) {
	t.Helper()
	var rtID string
	for _, a := range p.OfType(typeAssoc) {
		if a.String("subnetId") == subnet.ID {
			rtID = a.String("routeTableId")
		}
	}
	if rtID == "" {
		t.Fatalf("subnet %s has no route table association", subnet.Name)
	}
	for _, r := range p.OfType(typeRoute) {
		if r.String("routeTableId") == rtID && r.String("destinationCidrBlock") == internetRoute {
			return r, true
		}
	}
	return plan.Resource{}, false
}

func TestDevHasSixSubnetsInTwoAZsAndOneNAT(t *testing.T) {
	p := stacktest.Stack(t, "dev")
	if got := len(p.OfType(typeSubnet)); got != 6 {
		t.Errorf("dev subnets = %d, want 6 (3 tiers x 2 AZs)", got)
	}
	if got := len(p.OfType(typeNAT)); got != 1 {
		t.Errorf("dev NAT gateways = %d, want 1", got)
	}
	for _, tier := range []string{"public", "private", "data"} {
		azs := map[string]bool{}
		for _, s := range subnetsOfTier(p, tier) {
			azs[s.String("availabilityZone")] = true
		}
		if len(azs) != 2 {
			t.Errorf("dev %s tier spans %d AZs, want 2 distinct", tier, len(azs))
		}
	}
	// The single NAT serves every private subnet.
	nat := p.OfType(typeNAT)[0]
	for _, s := range subnetsOfTier(p, "private") {
		r, ok := egress(t, p, s)
		if !ok || r.String("natGatewayId") != nat.ID {
			t.Errorf("dev private subnet %s does not egress through the single NAT", s.Name)
		}
	}
}

func TestProdHasNineSubnetsAndANATPerAZ(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	if got := len(p.OfType(typeSubnet)); got != 9 {
		t.Errorf("prod subnets = %d, want 9 (3 tiers x 3 AZs)", got)
	}
	nats := p.OfType(typeNAT)
	if len(nats) != 3 {
		t.Fatalf("prod NAT gateways = %d, want 3", len(nats))
	}
	azs := map[string]bool{}
	for _, n := range nats {
		sub, ok := p.ByID(n.String("subnetId"))
		if !ok || sub.Tag(tierTag) != "public" {
			t.Errorf("NAT %s is not in a public subnet", n.Name)
		}
		azs[sub.String("availabilityZone")] = true
	}
	if len(azs) != 3 {
		t.Errorf("prod NATs span %d AZs, want 3", len(azs))
	}
}

func TestProdRoutesEachPrivateSubnetToItsOwnAZsNAT(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	private := subnetsOfTier(p, "private")
	if len(private) != 3 {
		t.Fatalf("prod private subnets = %d, want 3", len(private))
	}
	used := map[string]bool{}
	for _, s := range private {
		r, ok := egress(t, p, s)
		if !ok {
			t.Errorf("private subnet %s has no egress route", s.Name)
			continue
		}
		nat, ok := p.ByID(r.String("natGatewayId"))
		if !ok {
			t.Errorf("private subnet %s egresses through %q, not a NAT", s.Name, r.String("natGatewayId"))
			continue
		}
		natSubnet, _ := p.ByID(nat.String("subnetId"))
		if natSubnet.String("availabilityZone") != s.String("availabilityZone") {
			t.Errorf("private subnet in %s uses NAT in %s", s.String("availabilityZone"), natSubnet.String("availabilityZone"))
		}
		used[nat.ID] = true
	}
	if len(used) != 3 {
		t.Errorf("private subnets share NATs: %d distinct, want 3", len(used))
	}
}

func TestDataTierHasNoRouteToTheInternet(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stacktest.Stack(t, stack)
		data := subnetsOfTier(p, "data")
		if len(data) == 0 {
			t.Fatalf("%s has no data subnets", stack)
		}
		for _, s := range data {
			if r, ok := egress(t, p, s); ok {
				t.Errorf("%s data subnet %s routes to the internet via %s", stack, s.Name, r.Name)
			}
		}
	}
}

func TestPublicSubnetsRouteToTheInternetGateway(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	for _, s := range subnetsOfTier(p, "public") {
		r, ok := egress(t, p, s)
		if !ok {
			t.Fatalf("public subnet %s has no internet route", s.Name)
		}
		igw, _ := p.ByID(r.String("gatewayId"))
		if igw.Type != "aws:ec2/internetGateway:InternetGateway" {
			t.Errorf("public subnet %s egresses through %s, want the internet gateway", s.Name, igw.Type)
		}
	}
}

func TestSubnetsFitTheVPCAndNeverOverlap(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stacktest.Stack(t, stack)
		vpc := netip.MustParsePrefix(p.OfType(typeVPC)[0].String("cidrBlock"))
		var blocks []netip.Prefix
		for _, s := range p.OfType(typeSubnet) {
			b := netip.MustParsePrefix(s.String("cidrBlock"))
			if !vpc.Contains(b.Addr()) || b.Bits() < vpc.Bits() {
				t.Errorf("%s subnet %s %s is outside the VPC %s", stack, s.Name, b, vpc)
			}
			for _, o := range blocks {
				if o.Overlaps(b) {
					t.Errorf("%s subnet %s %s overlaps %s", stack, s.Name, b, o)
				}
			}
			blocks = append(blocks, b)
		}
	}
}

func TestNoSubnetAssignsPublicIPsAndDefaultSecurityGroupIsEmpty(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	for _, s := range p.OfType(typeSubnet) {
		if on, set := s.Bool("mapPublicIpOnLaunch"); on || !set {
			t.Errorf("subnet %s: mapPublicIpOnLaunch = %v (set %v), want explicitly false", s.Name, on, set)
		}
	}
	sgs := p.OfType(typeDefaultSG)
	if len(sgs) != 1 {
		t.Fatalf("default security groups managed = %d, want 1", len(sgs))
	}
	if len(sgs[0].List("ingress"))+len(sgs[0].List("egress")) != 0 {
		t.Errorf("default security group has rules: %v", sgs[0].Inputs)
	}
	vpc := p.OfType(typeVPC)[0]
	if on, _ := vpc.Bool("enableDnsHostnames"); !on {
		t.Error("VPC DNS hostnames are off; interface endpoints with private DNS need them")
	}
}

func TestProdFlowLogsGoToAnEncryptedLogGroupWithRetention(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	fls := p.OfType(typeFlowLog)
	if len(fls) != 1 {
		t.Fatalf("prod flow logs = %d, want 1", len(fls))
	}
	fl := fls[0]
	if fl.String("vpcId") != p.OfType(typeVPC)[0].ID || fl.String("trafficType") != "ALL" {
		t.Errorf("flow log does not record ALL traffic of the VPC: %v", fl.Inputs)
	}
	g, ok := p.ByARN(fl.String("logDestination"))
	if !ok || g.Type != typeLogGroup {
		t.Fatalf("the flow log's destination %q is not a log group of the stack", fl.String("logDestination"))
	}
	if g.Inputs["retentionInDays"] != float64(365) {
		t.Errorf("flow log retention = %v, want 365", g.Inputs["retentionInDays"])
	}
	key, ok := p.Named(typeKey, "wordpress-prod-logs")
	if !ok {
		t.Fatal("prod has no logs key")
	}
	if g.String("kmsKeyId") == "" || g.String("kmsKeyId") != "arn:aws:kms:us-east-1:123456789012:key/"+key.ID {
		t.Errorf("log group kmsKeyId = %q, want the stack's logs key", g.String("kmsKeyId"))
	}
	if fl.String("logDestination") != "arn:aws:logs:us-east-1:123456789012:log-group:"+g.String("name") {
		t.Errorf("flow log destination = %q, not the encrypted group", fl.String("logDestination"))
	}
	// The key admits CloudWatch Logs only for this stack's log groups.
	var policy struct {
		Statement []struct {
			Principal map[string]any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(key.String("policy")), &policy); err != nil {
		t.Fatal(err)
	}
	scoped := false
	for _, s := range policy.Statement {
		if s.Principal["Service"] == "logs.us-east-1.amazonaws.com" {
			// The stack's own groups, and the groups RDS exports the
			// database's logs to.
			scoped = reflect.DeepEqual(s.Condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"], []any{
				"arn:aws:logs:us-east-1:123456789012:log-group:/wordpress/prod/*",
				"arn:aws:logs:us-east-1:123456789012:log-group:/aws/rds/instance/wordpress-prod-db*",
			})
		}
	}
	if !scoped {
		t.Errorf("logs key policy does not scope CloudWatch Logs to the stack's groups: %s", key.String("policy"))
	}
}

func TestDevHasNoFlowLogsAndNoInterfaceEndpoints(t *testing.T) {
	p := stacktest.Stack(t, "dev")
	if n := len(p.OfType(typeFlowLog)); n != 0 {
		t.Errorf("dev flow logs = %d, want 0 (off in Pulumi.dev.yaml)", n)
	}
	for _, e := range p.OfType(typeEndpoint) {
		if e.String("vpcEndpointType") != "Gateway" {
			t.Errorf("dev has interface endpoint %s; they are off in Pulumi.dev.yaml", e.Name)
		}
	}
}

func TestProdInterfaceEndpointsAdmitOnlyHTTPSFromTheVPC(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	want := map[string]bool{}
	for _, svc := range []string{"ssm", "ssmmessages", "ec2messages", "ecr.api", "ecr.dkr", "logs"} {
		want["com.amazonaws."+expectedRegion+"."+svc] = true
	}
	private := map[string]bool{}
	for _, s := range subnetsOfTier(p, "private") {
		private[s.ID] = true
	}
	var sgs []plan.Resource
	for _, sg := range p.OfType(typeSG) {
		if sg.Name == "wordpress-prod-endpoints" {
			sgs = append(sgs, sg)
		}
	}
	if len(sgs) != 1 {
		t.Fatalf("endpoint security groups = %d, want 1", len(sgs))
	}
	for _, e := range p.OfType(typeEndpoint) {
		svc := e.String("serviceName")
		if e.String("vpcEndpointType") == "Gateway" {
			continue
		}
		if !want[svc] {
			t.Errorf("unexpected interface endpoint %s", svc)
		}
		delete(want, svc)
		if on, _ := e.Bool("privateDnsEnabled"); !on {
			t.Errorf("endpoint %s has private DNS off; SDKs would bypass it", svc)
		}
		for _, id := range e.List("subnetIds") {
			if !private[id.(string)] {
				t.Errorf("endpoint %s is in a non-private subnet %v", svc, id)
			}
		}
		if got := e.List("securityGroupIds"); len(got) != 1 || got[0] != sgs[0].ID {
			t.Errorf("endpoint %s security groups = %v", svc, got)
		}
	}
	if len(want) != 0 {
		t.Errorf("missing interface endpoints: %v", want)
	}
	ingress := sgs[0].List("ingress")
	if len(ingress) != 1 {
		t.Fatalf("endpoint SG ingress rules = %d, want 1", len(ingress))
	}
	rule := ingress[0].(map[string]any)
	if rule["fromPort"] != float64(443) || rule["toPort"] != float64(443) || !reflect.DeepEqual(rule["cidrBlocks"], []any{"10.20.0.0/16"}) {
		t.Errorf("endpoint SG admits %v, want HTTPS from 10.20.0.0/16 only", rule)
	}
}

func TestNATStrategyNoneLeavesPrivateSubnetsWithoutEgress(t *testing.T) {
	raw := stacktest.RawConfig(t, "dev")
	stacktest.SetNetwork(t, raw, map[string]any{"natStrategy": "none", "interfaceEndpoints": true})
	// Without the internet the tasks pull from the account's private ECR.
	raw["wordpress:compute"] = `{"image":"123456789012.dkr.ecr.us-east-1.amazonaws.com/wordpress"}`
	p, _ := stacktest.Record(t, "dev", raw)
	if n := len(p.OfType(typeNAT)); n != 0 {
		t.Errorf("NATs = %d, want 0", n)
	}
	exec, _ := p.Named("aws:iam/rolePolicy:RolePolicy", "wordpress-dev-task-execution")
	if !strings.Contains(exec.String("policy"), `"Resource":"arn:aws:ecr:us-east-1:123456789012:repository/wordpress"`) {
		t.Errorf("the execution role cannot pull the private image: %s", exec.String("policy"))
	}
	for _, s := range subnetsOfTier(p, "private") {
		if _, ok := egress(t, p, s); ok {
			t.Errorf("private subnet %s still has an internet route", s.Name)
		}
	}
}

func TestAddingAnAZOnlyAddsResources(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	before, _ := stacktest.Record(t, "prod", raw)
	stacktest.SetNetwork(t, raw, map[string]any{"azCount": 4})
	after, _ := stacktest.Record(t, "prod", raw)
	kept := map[string]plan.Resource{}
	for _, r := range after.Resources {
		kept[r.URN] = r
	}
	for _, r := range before.Resources {
		a, ok := kept[r.URN]
		if !ok {
			t.Errorf("adding an AZ removes %s", r.Label())
			continue
		}
		if r.Type == typeSubnet && a.String("cidrBlock") != r.String("cidrBlock") {
			t.Errorf("adding an AZ renumbers %s from %s to %s", r.Name, r.String("cidrBlock"), a.String("cidrBlock"))
		}
	}
	if len(after.OfType(typeSubnet)) != 12 {
		t.Errorf("subnets with 4 AZs = %d, want 12", len(after.OfType(typeSubnet)))
	}
}

func TestTwoRecordingsOfTheSameStackAreIdentical(t *testing.T) {
	// Stable names and inputs mean `pulumi preview` shows no diff between
	// two runs of unchanged code.
	a, err := json.Marshal(stacktest.Stack(t, "prod"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(stacktest.Stack(t, "prod"))
	if string(a) != string(b) {
		t.Error("two recordings of prod differ")
	}
}

func TestEveryResourceIsParentedToAComponent(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	for _, r := range p.Resources {
		if r.Parent == "" && !strings.HasPrefix(r.Type, "wordpress:") {
			t.Errorf("%s sits at the top of the stack; parent it to its component", r.Label())
		}
		if r.Tag("ManagedBy") == "" && r.Inputs["tags"] != nil {
			t.Errorf("%s lacks the stack tags", r.Label())
		}
	}
}

func policyDoc(t *testing.T, raw string) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("policy %q: %v", raw, err)
	}
	return doc
}

func TestFlowLogRoleHasWhatTheVPCGuideListsAndOnlyOurFlowLogsMayUseIt(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	rp, ok := p.Named("aws:iam/rolePolicy:RolePolicy", "wordpress-prod-flow-logs")
	if !ok {
		t.Fatal("no flow-log role policy")
	}
	b, _ := json.Marshal(policyDoc(t, rp.String("policy")))
	for _, action := range []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"} {
		if !strings.Contains(string(b), `"`+action+`"`) {
			t.Errorf("flow-log role policy lacks %s: %s", action, b)
		}
	}
	role, _ := p.Named("aws:iam/role:Role", "wordpress-prod-flow-logs")
	trust := role.String("assumeRolePolicy")
	for _, want := range []string{`"aws:SourceAccount":"123456789012"`, `"aws:SourceArn":"arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/*"`, `"Service":"vpc-flow-logs.amazonaws.com"`} {
		if !strings.Contains(trust, want) {
			t.Errorf("flow-log trust lacks %s: %s", want, trust)
		}
	}
	fl := p.OfType(typeFlowLog)[0]
	if !slices.Contains(fl.DependsOn, rp.URN) {
		t.Errorf("the flow log does not wait for its role policy: depends on %v", fl.DependsOn)
	}
}

func TestInterfaceEndpointsSkipZonesThatLackTheService(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	p, _ := stacktest.Record(t, "prod", raw, func(o *plan.Options) {
		o.EndpointGaps = map[string][]string{"ssmmessages": {"us-east-1b"}}
	})
	private := map[string]string{}
	for _, s := range subnetsOfTier(p, "private") {
		private[s.ID] = s.String("availabilityZone")
	}
	for _, e := range p.OfType(typeEndpoint) {
		if e.String("vpcEndpointType") != "Interface" {
			continue
		}
		var zones []string
		for _, id := range e.List("subnetIds") {
			zones = append(zones, private[id.(string)])
		}
		slices.Sort(zones)
		want := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
		if e.Name == "wordpress-prod-ssmmessages" {
			want = []string{"us-east-1a", "us-east-1c"}
		}
		if !slices.Equal(zones, want) {
			t.Errorf("%s is in %v, want %v", e.Name, zones, want)
		}
	}
}

func TestS3GatewayServesOnlyThePrivateTierAndThisAccountsBuckets(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	ep, ok := p.Named(typeEndpoint, "wordpress-prod-s3")
	if !ok {
		t.Fatal("no S3 gateway endpoint")
	}
	privateRTs := map[string]bool{}
	for _, s := range subnetsOfTier(p, "private") {
		for _, a := range p.OfType(typeAssoc) {
			if a.String("subnetId") == s.ID {
				privateRTs[a.String("routeTableId")] = true
			}
		}
	}
	for _, rt := range ep.List("routeTableIds") {
		if !privateRTs[rt.(string)] {
			t.Errorf("the S3 endpoint is attached to %v, which is not a private route table", rt)
		}
	}
	if len(ep.List("routeTableIds")) != len(privateRTs) {
		t.Errorf("S3 endpoint route tables = %d, want the %d private ones", len(ep.List("routeTableIds")), len(privateRTs))
	}
	policy := ep.String("policy")
	if !strings.Contains(policy, `"aws:ResourceAccount":"123456789012"`) || !strings.Contains(policy, "prod-us-east-1-starport-layer-bucket") {
		t.Errorf("S3 endpoint policy = %s", policy)
	}
}

func TestAnotherPartitionGetsItsOwnARNsAndServiceNames(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	raw["aws:region"] = "cn-north-1"
	stacktest.SetNetwork(t, raw, map[string]any{"azCount": 3})
	p, _ := stacktest.Record(t, "prod", raw)
	b, _ := json.Marshal(p)
	plain := string(b)
	if strings.Contains(plain, "arn:aws:") {
		t.Error("a cn-north-1 plan contains arn:aws: ARNs")
	}
	// Service principals are <service>.amazonaws.com in aws-cn too, but
	// for the few the provider's aws_service_principal lists (logs among
	// them); endpoint names and kms:ViaService values use the partition's
	// suffix.
	for _, want := range []string{"arn:aws-cn:", "cn.com.amazonaws.cn-north-1.s3", "vpc-flow-logs.amazonaws.com", "logs.cn-north-1.amazonaws.com.cn", "ssm.cn-north-1.amazonaws.com.cn"} {
		if !strings.Contains(plain, want) {
			t.Errorf("the cn-north-1 plan lacks %s", want)
		}
	}
	if strings.Contains(plain, "vpc-flow-logs.amazonaws.com.cn") {
		t.Error("the flow-log role trusts vpc-flow-logs.amazonaws.com.cn, a principal AWS does not use in aws-cn")
	}
}
