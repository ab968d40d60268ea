package platform_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/compute"
	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/platform"
)

const (
	typeTaskDef      = "aws:ecs/taskDefinition:TaskDefinition"
	typeService      = "aws:ecs/service:Service"
	typeALB          = "aws:lb/loadBalancer:LoadBalancer"
	typeListener     = "aws:lb/listener:Listener"
	typeIngress      = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeWebACL       = "aws:wafv2/webAcl:WebAcl"
	typeWebACLAssoc  = "aws:wafv2/webAclAssociation:WebAclAssociation"
	typeScaling      = "aws:appautoscaling/policy:Policy"
	typeScaleTarget  = "aws:appautoscaling/target:Target"
	typeCertificate  = "aws:acm/certificate:Certificate"
	typeRecord       = "aws:route53/record:Record"
	typeBucketPolicy = "aws:s3/bucketPolicy:BucketPolicy"
	typeInstance     = "aws:ec2/instance:Instance"
	typeMountTarget  = "aws:efs/mountTarget:MountTarget"
	typeAccessPoint  = "aws:efs/accessPoint:AccessPoint"
	typeFileSystem   = "aws:efs/fileSystem:FileSystem"
	typeParameter    = "aws:ssm/parameter:Parameter"
)

// containerDef is what the tests read of the WordPress container.
type containerDef struct {
	Name        string
	Image       string
	Privileged  bool
	Environment []struct{ Name, Value string }
	Secrets     []struct{ Name, ValueFrom string }
	MountPoints []struct{ SourceVolume, ContainerPath string }
}

func wordpressContainer(t *testing.T, p *plan.Plan) containerDef {
	t.Helper()
	tds := p.OfType(typeTaskDef)
	if len(tds) != 1 {
		t.Fatalf("task definitions = %d, want 1", len(tds))
	}
	var cs []containerDef
	if err := json.Unmarshal([]byte(tds[0].String("containerDefinitions")), &cs); err != nil {
		t.Fatalf("container definitions %q: %v", tds[0].String("containerDefinitions"), err)
	}
	if len(cs) != 1 {
		t.Fatalf("containers = %d, want 1", len(cs))
	}
	return cs[0]
}

func stacks(t *testing.T) map[string]*plan.Plan {
	return map[string]*plan.Plan{"dev": stacktest.Stack(t, "dev"), "prod": stacktest.Stack(t, "prod")}
}

func TestNoPlaintextSecretReachesATask(t *testing.T) {
	for name, p := range stacks(t) {
		c := wordpressContainer(t, p)
		params := map[string]plan.Resource{}
		for _, prm := range p.OfType(typeParameter) {
			params[prm.ARN] = prm
		}
		got := map[string]string{}
		for _, s := range c.Secrets {
			got[s.Name] = s.ValueFrom
		}
		for _, v := range compute.DatabaseVariables {
			prm, ok := params[got[v]]
			if !ok {
				t.Errorf("%s: %s comes from %q, not one of the stack's SSM parameters", name, v, got[v])
				continue
			}
			if prm.String("type") != "SecureString" {
				t.Errorf("%s: %s comes from a %s parameter, want SecureString", name, v, prm.String("type"))
			}
			if v == "WORDPRESS_DB_PASSWORD" && prm.String("value") != plan.SecretPlaceholder {
				t.Errorf("%s: the password parameter's value is not a secret: %q", name, prm.String("value"))
			}
		}
		for _, e := range c.Environment {
			if strings.HasPrefix(e.Name, "WORDPRESS_DB_") || strings.Contains(e.Value, plan.SecretPlaceholder) {
				t.Errorf("%s: environment variable %s carries a database setting or a secret", name, e.Name)
			}
		}
	}
}

func TestRDSManagedPasswordReachesTheTaskFromSecretsManager(t *testing.T) {
	raw := stacktest.RawConfig(t, "dev")
	var d map[string]any
	if err := json.Unmarshal([]byte(raw["wordpress:data"]), &d); err != nil {
		t.Fatal(err)
	}
	d["manageMasterUserPassword"] = true
	b, _ := json.Marshal(d)
	raw["wordpress:data"] = string(b)
	p, _ := stacktest.Record(t, "dev", raw)
	c := wordpressContainer(t, p)
	var from string
	for _, s := range c.Secrets {
		if s.Name == "WORDPRESS_DB_PASSWORD" {
			from = s.ValueFrom
		}
	}
	if !strings.HasPrefix(from, "arn:aws:secretsmanager:") || !strings.HasSuffix(from, ":password::") {
		t.Fatalf("password comes from %q, want the RDS-managed secret's password key", from)
	}
	exec, _ := p.Named(typeRolePolicy, "wordpress-dev-task-execution")
	if !strings.Contains(exec.String("policy"), strings.TrimSuffix(from, ":password::")+`"`) {
		t.Errorf("execution role cannot read the secret %s: %s", from, exec.String("policy"))
	}
}

func TestEveryIngressComesFromASecurityGroupButTheLoadBalancersWebPorts(t *testing.T) {
	for name, p := range stacks(t) {
		alb, _ := p.Named("aws:ec2/securityGroup:SecurityGroup", "wordpress-"+name+"-alb")
		open := map[float64]bool{}
		for _, r := range p.OfType(typeIngress) {
			if r.String("referencedSecurityGroupId") != "" {
				continue
			}
			port, _ := r.Inputs["fromPort"].(float64)
			if r.String("securityGroupId") != alb.ID || r.Inputs["toPort"] != port || (port != 80 && port != 443) {
				t.Errorf("%s: %s admits %s/%s on %v-%v, not from a security group", name, r.Name, r.String("cidrIpv4"), r.String("cidrIpv6"), r.Inputs["fromPort"], r.Inputs["toPort"])
			}
			open[port] = true
		}
		want := map[float64]bool{80: true}
		if name == "prod" {
			want[443] = true
		}
		if len(open) != len(want) || !open[80] || open[443] != want[443] {
			t.Errorf("%s: the load balancer is open on %v, want %v", name, open, want)
		}
		for _, sg := range p.OfType("aws:ec2/securityGroup:SecurityGroup") {
			if len(sg.List("ingress")) > 0 {
				if sg.Name != "wordpress-"+name+"-endpoints" {
					t.Errorf("%s: group %s declares inline ingress", name, sg.Name)
				}
			}
		}
	}
}

func TestProdServesHTTPSBehindTheWAFAndScales(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	alb := p.OfType(typeALB)[0]
	listeners := map[string]plan.Resource{}
	for _, l := range p.OfType(typeListener) {
		listeners[l.String("protocol")] = l
	}
	https, ok := listeners["HTTPS"]
	if !ok {
		t.Fatal("prod has no HTTPS listener")
	}
	if https.Inputs["port"] != float64(443) || !strings.HasPrefix(https.String("sslPolicy"), "ELBSecurityPolicy-TLS13-1-2") {
		t.Errorf("HTTPS listener: port %v policy %q", https.Inputs["port"], https.String("sslPolicy"))
	}
	if !strings.Contains(https.String("certificateArn"), ":acm:us-east-1:") {
		t.Errorf("HTTPS listener certificate = %q", https.String("certificateArn"))
	}
	action, _ := listeners["HTTP"].List("defaultActions")[0].(map[string]any)
	redirect, _ := action["redirect"].(map[string]any)
	if action["type"] != "redirect" || redirect["protocol"] != "HTTPS" || redirect["statusCode"] != "HTTP_301" {
		t.Errorf("HTTP listener does not redirect permanently to HTTPS: %v", action)
	}
	if on, _ := alb.Bool("enableDeletionProtection"); !on {
		t.Error("prod load balancer has no deletion protection")
	}

	acls := p.OfType(typeWebACL)
	assoc := p.OfType(typeWebACLAssoc)
	if len(acls) != 1 || len(assoc) != 1 {
		t.Fatalf("web ACLs %d, associations %d, want 1 and 1", len(acls), len(assoc))
	}
	if !strings.Contains(assoc[0].String("resourceArn"), ":loadbalancer/app/"+alb.String("name")+"/") {
		t.Errorf("web ACL is associated with %q, not the load balancer", assoc[0].String("resourceArn"))
	}
	var groups []string
	rate := false
	for _, r := range acls[0].List("rules") {
		st, _ := r.(map[string]any)["statement"].(map[string]any)
		if m, ok := st["managedRuleGroupStatement"].(map[string]any); ok {
			groups = append(groups, m["name"].(string))
		}
		if _, ok := st["rateBasedStatement"]; ok {
			rate = true
		}
	}
	for _, g := range compute.ManagedRuleGroups {
		if !slices.Contains(groups, g) {
			t.Errorf("web ACL lacks managed rule group %s", g)
		}
	}
	if !rate {
		t.Error("web ACL has no rate-based rule")
	}

	metrics := map[string]bool{}
	for _, pol := range p.OfType(typeScaling) {
		cfg, _ := pol.Inputs["targetTrackingScalingPolicyConfiguration"].(map[string]any)
		spec, _ := cfg["predefinedMetricSpecification"].(map[string]any)
		metric, _ := spec["predefinedMetricType"].(string)
		metrics[metric] = true
		if metric == "ALBRequestCountPerTarget" && !strings.HasPrefix(spec["resourceLabel"].(string), "app/"+alb.String("name")+"/") {
			t.Errorf("requests policy label %v does not name the load balancer and target group", spec["resourceLabel"])
		}
	}
	if !metrics["ECSServiceAverageCPUUtilization"] || !metrics["ALBRequestCountPerTarget"] {
		t.Errorf("prod scaling policies track %v, want CPU and requests per target", metrics)
	}
	target := p.OfType(typeScaleTarget)
	if len(target) != 1 || target[0].String("resourceId") != "service/wordpress-prod/wordpress" || target[0].Inputs["minCapacity"] != float64(3) {
		t.Errorf("scaling target = %v", target)
	}
}

func TestDevHasNoneOfProdsExtras(t *testing.T) {
	p := stacktest.Stack(t, "dev")
	for _, typ := range []string{typeWebACL, typeWebACLAssoc, typeScaling, typeScaleTarget, typeCertificate, typeRecord, typeBucket} {
		if n := len(p.OfType(typ)); n != 0 {
			t.Errorf("dev declares %d %s", n, typ)
		}
	}
	for _, l := range p.OfType(typeListener) {
		if l.String("protocol") != "HTTP" {
			t.Errorf("dev has a %s listener", l.String("protocol"))
		}
	}
	alb := p.OfType(typeALB)[0]
	if on, _ := alb.Bool("enableDeletionProtection"); on {
		t.Error("dev load balancer has deletion protection")
	}
	svc := p.OfType(typeService)[0]
	if svc.Inputs["desiredCount"] != float64(3) {
		t.Errorf("dev runs %v tasks, want 3", svc.Inputs["desiredCount"])
	}
}

func TestTheBastionHasNoWayInButSessionManager(t *testing.T) {
	for name, p := range stacks(t) {
		insts := p.OfType(typeInstance)
		if len(insts) != 1 {
			t.Fatalf("%s: instances = %d, want the bastion", name, len(insts))
		}
		b := insts[0]
		if on, set := b.Bool("associatePublicIpAddress"); on || !set {
			t.Errorf("%s: bastion associatePublicIpAddress = %v (set %v), want false", name, on, set)
		}
		if sn, _ := p.ByID(b.String("subnetId")); sn.Tag("Tier") != "private" {
			t.Errorf("%s: bastion is in a %q subnet", name, sn.Tag("Tier"))
		}
		if md, _ := b.Inputs["metadataOptions"].(map[string]any); md["httpTokens"] != "required" {
			t.Errorf("%s: bastion accepts IMDSv1", name)
		}
		if rb, _ := b.Inputs["rootBlockDevice"].(map[string]any); rb["encrypted"] != true {
			t.Errorf("%s: bastion root volume not encrypted", name)
		}
		if !strings.HasPrefix(b.String("ami"), "ami-") {
			t.Errorf("%s: bastion AMI = %q", name, b.String("ami"))
		}
		sgs := b.List("vpcSecurityGroupIds")
		if len(sgs) != 1 {
			t.Fatalf("%s: bastion groups = %v", name, sgs)
		}
		for _, r := range p.OfType(typeIngress) {
			if r.String("securityGroupId") == sgs[0] {
				t.Errorf("%s: the bastion's group admits %s", name, r.Name)
			}
		}
		sg, _ := p.ByID(sgs[0].(string))
		if len(sg.List("ingress")) != 0 {
			t.Errorf("%s: the bastion's group has inline ingress", name)
		}
	}
}

// The Session Manager preferences are one document per account and
// Region: no stack declares it unless its config says create, so two
// stacks (or one and the console) never both do.
func TestOnlyAStackThatSaysCreateDeclaresTheSessionPreferences(t *testing.T) {
	for name, p := range stacks(t) {
		if docs := p.OfType("aws:ssm/document:Document"); len(docs) != 0 {
			t.Errorf("%s declares %d Session Manager documents; its config does not say create", name, len(docs))
		}
	}
	raw := stacktest.RawConfig(t, "dev")
	raw["wordpress:governance"] = `{"sessionManagerPreferences":{"mode":"create"},"securityHub":{"mode":"off"},"guardDuty":{"mode":"off"},"awsConfig":{"mode":"off"},"s3AccountPublicAccessBlock":{"mode":"off"}}`
	p, _ := stacktest.Record(t, "dev", raw)
	doc, ok := p.Named("aws:ssm/document:Document", "wordpress-dev-session-preferences")
	if !ok || doc.String("name") != compute.SessionPreferencesDocument || !strings.Contains(doc.String("content"), `"cloudWatchEncryptionEnabled":true`) ||
		!strings.Contains(doc.String("content"), `"cloudWatchLogGroupName":"/wordpress/dev/ssm-sessions"`) {
		t.Fatalf("create: no Session Manager preferences logging to the bastion's encrypted group: %+v", doc)
	}
	if !doc.RetainOnDelete {
		t.Error("the account's Session Manager preferences go with the stack on destroy")
	}
}

// Adopting the preferences of an account that has none stops the plan
// with the key and both ways out.
func TestAdoptingSessionPreferencesTheAccountLacksNamesTheKey(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	_, err := plan.Record(platform.DeployOffline, plan.Options{Project: config.Namespace, Stack: "prod", Config: raw, RootDirectory: stacktest.Root(t),
		Account: plan.Account{NoSessionPreferences: true}})
	if err == nil || !strings.Contains(err.Error(), "governance.sessionManagerPreferences.mode is existing, but the account has no Session Manager preferences in this Region") ||
		!strings.Contains(err.Error(), "set it to create") {
		t.Errorf("err = %v", err)
	}
}

func TestWpContentIsOnEncryptedEFSInEveryDataSubnet(t *testing.T) {
	for name, p := range stacks(t) {
		fs := p.OfType(typeFileSystem)[0]
		efsKey, ok := p.Named(typeKey, "wordpress-"+name+"-efs")
		if !ok || fs.String("kmsKeyId") != "arn:aws:kms:us-east-1:123456789012:key/"+efsKey.ID {
			t.Errorf("%s: file system key %q, want the stack's EFS key", name, fs.String("kmsKeyId"))
		}
		data := map[string]bool{}
		for _, s := range subnetsOfTier(p, "data") {
			data[s.ID] = true
		}
		for _, mt := range p.OfType(typeMountTarget) {
			if !data[mt.String("subnetId")] {
				t.Errorf("%s: mount target %s is not in a data subnet", name, mt.Name)
			}
			delete(data, mt.String("subnetId"))
		}
		if len(data) != 0 {
			t.Errorf("%s: data subnets without a mount target: %v", name, data)
		}
		ap := p.OfType(typeAccessPoint)[0]
		user, _ := ap.Inputs["posixUser"].(map[string]any)
		if user["uid"] != float64(33) || user["gid"] != float64(33) {
			t.Errorf("%s: access point user %v, want www-data 33:33", name, user)
		}
		td := p.OfType(typeTaskDef)[0]
		vol, _ := td.List("volumes")[0].(map[string]any)
		efs, _ := vol["efsVolumeConfiguration"].(map[string]any)
		auth, _ := efs["authorizationConfig"].(map[string]any)
		if efs["transitEncryption"] != "ENABLED" || auth["iam"] != "ENABLED" || auth["accessPointId"] != ap.ID {
			t.Errorf("%s: task volume %v does not mount the access point with TLS and IAM", name, efs)
		}
		c := wordpressContainer(t, p)
		if len(c.MountPoints) != 1 || c.MountPoints[0].ContainerPath != "/var/www/html/wp-content" {
			t.Errorf("%s: mounts %v", name, c.MountPoints)
		}
	}
}

func TestTheServiceIsPrivateEnrolledAndRollsBack(t *testing.T) {
	for name, p := range stacks(t) {
		svc := p.OfType(typeService)[0]
		if svc.Tag("ecs_task_daily_restart") == "" {
			t.Errorf("%s: the service is not enrolled in the nightly restart", name)
		}
		netCfg, _ := svc.Inputs["networkConfiguration"].(map[string]any)
		if netCfg["assignPublicIp"] != false {
			t.Errorf("%s: tasks get public IPs", name)
		}
		private := map[string]bool{}
		for _, s := range subnetsOfTier(p, "private") {
			private[s.ID] = true
		}
		for _, s := range netCfg["subnets"].([]any) {
			if !private[s.(string)] {
				t.Errorf("%s: tasks run in non-private subnet %v", name, s)
			}
		}
		cb, _ := svc.Inputs["deploymentCircuitBreaker"].(map[string]any)
		if cb["enable"] != true || cb["rollback"] != true {
			t.Errorf("%s: circuit breaker %v", name, cb)
		}
		exec, _ := svc.Bool("enableExecuteCommand")
		if exec != (name == "dev") {
			t.Errorf("%s: enableExecuteCommand = %v", name, exec)
		}
	}
}

func TestTheExecutionRoleReadsOnlyThisStacksSettings(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	exec, _ := p.Named(typeRolePolicy, "wordpress-prod-task-execution")
	var doc struct {
		Statement []struct {
			Action    any
			Resource  any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(exec.String("policy")), &doc); err != nil {
		t.Fatal(err)
	}
	var readable []string
	for _, s := range doc.Statement {
		res, _ := json.Marshal(s.Resource)
		// The registry token is account-wide: ECR takes no resource for it.
		if strings.Contains(string(res), `"*"`) && s.Action != "ecr:GetAuthorizationToken" {
			t.Errorf("statement %v grants on every resource", s.Action)
		}
		if s.Action == "kms:Decrypt" && s.Condition["StringEquals"]["kms:ViaService"] == nil {
			t.Error("kms:Decrypt is not limited to use through SSM")
		}
		if s.Action == "ssm:GetParameters" {
			readable = append(readable, string(res))
		}
	}
	slices.Sort(readable)
	if want := []string{
		`"arn:aws:ssm:us-east-1:123456789012:parameter/wordpress/prod/db/*"`,
		`"arn:aws:ssm:us-east-1:123456789012:parameter/wordpress/prod/wordpress/*"`,
	}; !slices.Equal(readable, want) {
		t.Errorf("parameters readable: %v, want %v", readable, want)
	}
}

func TestHTTPSWithAnExistingCertificateRequestsNone(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	const arn = "arn:aws:acm:us-east-1:123456789012:certificate/0b0b0b0b-1111-4222-8333-444444444444"
	raw["wordpress:compute"] = `{"https":{"enabled":true,"certificateArn":"` + arn + `"}}`
	p, _ := stacktest.Record(t, "prod", raw)
	if n := len(p.OfType(typeCertificate)) + len(p.OfType(typeRecord)); n != 0 {
		t.Errorf("%d certificates and records made for an existing certificate", n)
	}
	for _, l := range p.OfType(typeListener) {
		if l.String("protocol") == "HTTPS" && l.String("certificateArn") != arn {
			t.Errorf("HTTPS listener uses %q", l.String("certificateArn"))
		}
	}
}

func TestAccessLogsAreDeliveredByTheRegionsLogWriter(t *testing.T) {
	for region, principal := range map[string]string{
		"us-east-1":    `"AWS":"arn:aws:iam::127311923021:root"`,
		"eu-central-2": `"Service":"logdelivery.elasticloadbalancing.amazonaws.com"`,
	} {
		raw := stacktest.RawConfig(t, "prod")
		raw["aws:region"] = region
		raw["wordpress:compute"] = `{"https":{"enabled":true,"certificateArn":"arn:aws:acm:` + region + `:123456789012:certificate/0b0b0b0b-1111-4222-8333-444444444444"}}`
		p, _ := stacktest.Record(t, "prod", raw)
		var pol []plan.Resource
		for _, bp := range p.OfType(typeBucketPolicy) {
			if strings.Contains(bp.URN, "wordpress:compute:") {
				pol = append(pol, bp)
			}
		}
		if len(pol) != 1 || !strings.Contains(pol[0].String("policy"), principal) {
			t.Errorf("%s: access log bucket policy %v, want %s", region, pol, principal)
		}
	}
}

// GuardDuty runtime monitoring adds its agent to every task, pulled with
// the execution role from GuardDuty's repository: prod's role may pull
// that image (and only that one besides WordPress's); a stack whose
// account runs no GuardDuty and says so grants nothing of ECR.
func TestTheExecutionRoleMayPullGuardDutysAgentWhereGuardDutyMayAddIt(t *testing.T) {
	pulls := func(p *plan.Plan, stack string) (token, layers string) {
		exec, _ := p.Named(typeRolePolicy, "wordpress-"+stack+"-task-execution")
		var doc struct {
			Statement []struct {
				Sid      string
				Action   any
				Resource any
			}
		}
		if err := json.Unmarshal([]byte(exec.String("policy")), &doc); err != nil {
			t.Fatal(err)
		}
		for _, s := range doc.Statement {
			res, _ := json.Marshal(s.Resource)
			act, _ := json.Marshal(s.Action)
			switch {
			case string(act) == `"ecr:GetAuthorizationToken"`:
				token = string(res)
			case strings.Contains(string(act), "ecr:BatchGetImage"):
				layers = string(act) + " on " + string(res)
			}
		}
		return token, layers
	}
	token, layers := pulls(stacktest.Stack(t, "prod"), "prod")
	want := `["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"] on "arn:aws:ecr:us-east-1:*:repository/aws-guardduty-agent-fargate"`
	if token != `"*"` || layers != want {
		t.Errorf("prod: token %s, layers %s; want the agent's repository", token, layers)
	}
	raw := stacktest.RawConfig(t, "dev")
	raw["wordpress:governance"] = `{"guardDuty":{"mode":"off","fargateAgent":false},"securityHub":{"mode":"off"},"awsConfig":{"mode":"off"},"s3AccountPublicAccessBlock":{"mode":"off"},"sessionManagerPreferences":{"mode":"off"}}`
	p, _ := stacktest.Record(t, "dev", raw)
	if token, layers := pulls(p, "dev"); token != "" || layers != "" {
		t.Errorf("dev without GuardDuty: token %s, layers %s", token, layers)
	}
}

// The service's first tasks start as soon as it exists: its roles hold
// their policies by then (the order is not left to RDS being slower).
func TestTheServiceWaitsForItsRolesPolicies(t *testing.T) {
	for name, p := range stacks(t) {
		svc := p.OfType(typeService)[0]
		for _, policy := range []string{"-task-execution", "-task"} {
			rp, ok := p.Named(typeRolePolicy, "wordpress-"+name+policy)
			if !ok || !slices.Contains(svc.DependsOn, rp.URN) {
				t.Errorf("%s: the service does not wait for %s", name, rp.Name)
			}
		}
	}
}

// Where the network has interface endpoints, the bastion leaves only to
// them and to S3's prefix list (the package repositories), never to the
// internet.
func TestTheBastionLeavesThroughTheEndpointsWhereThereAreSome(t *testing.T) {
	for name, p := range stacks(t) {
		bastionSG := p.OfType(typeInstance)[0].List("vpcSecurityGroupIds")[0].(string)
		endpoints, hasEndpoints := p.Named("aws:ec2/securityGroup:SecurityGroup", "wordpress-"+name+"-endpoints")
		gateway, _ := p.Named("aws:ec2/vpcEndpoint:VpcEndpoint", "wordpress-"+name+"-s3")
		var to []string
		for _, r := range p.OfType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") {
			if r.String("securityGroupId") != bastionSG {
				continue
			}
			switch {
			case r.String("cidrIpv4") == "0.0.0.0/0":
				to = append(to, "internet")
			case hasEndpoints && r.String("referencedSecurityGroupId") == endpoints.ID:
				to = append(to, "endpoints")
			case r.String("prefixListId") != "" && strings.HasPrefix(r.String("prefixListId"), "pl-"):
				to = append(to, "s3")
			case r.String("referencedSecurityGroupId") != "":
				to = append(to, "db")
			}
		}
		slices.Sort(to)
		want := []string{"db", "internet"}
		if hasEndpoints {
			want = []string{"db", "endpoints", "s3"}
		}
		if !slices.Equal(to, want) {
			t.Errorf("%s: the bastion leaves to %v, want %v", name, to, want)
		}
		if hasEndpoints && gateway.String("vpcEndpointType") != "Gateway" {
			t.Errorf("%s: no S3 gateway endpoint to route the prefix list", name)
		}
	}
}
