package policy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/plan"
)

// computeChecks cover the WordPress tier: ECS, the load balancer, EFS, the
// bastion, Session Manager, WAF and the security groups' open ports.
var computeChecks = []Check{
	{ID: "ECS.2", Title: "ECS services should not have public IP addresses assigned to them automatically", Run: checkServicePublicIP},
	{ID: "ECS.4", Title: "ECS containers should run as non-privileged", Run: checkContainersNotPrivileged},
	{ID: "ECS.5", Title: "ECS task definitions should configure containers to be limited to read-only access to root filesystems", Run: checkReadOnlyRoot},
	{ID: "ECS.8", Title: "Secrets should not be passed as container environment variables", Run: checkNoSecretsInEnvironment},
	{ID: "ECS.9", Title: "ECS task definitions should have a logging configuration", Run: checkContainerLogging},
	{ID: "ECS.10", Title: "ECS Fargate services should run on the latest Fargate platform version", Run: checkFargatePlatform},
	{ID: "ECS.12", Title: "ECS clusters should use Container Insights", Run: checkContainerInsights},
	{ID: "ECS.16", Title: "ECS task sets should not automatically assign public IP addresses", Run: checkTaskSetPublicIP},
	{ID: "ELB.1", Title: "Application Load Balancer should be configured to redirect all HTTP requests to HTTPS", Run: checkHTTPRedirect},
	{ID: "ELB.4", Title: "Application Load Balancer should be configured to drop invalid http headers", Run: checkDropInvalidHeaders},
	{ID: "ELB.5", Title: "Application and Classic Load Balancers logging should be enabled", Run: checkLoadBalancerLogs},
	{ID: "ELB.6", Title: "Application, Gateway, and Network Load Balancers should have deletion protection enabled", Run: checkLoadBalancerDeletionProtection},
	{ID: "ELB.12", Title: "Application Load Balancer should be configured with defensive or strictest desync mitigation mode", Run: checkDesyncMitigation},
	{ID: "ELB.13", Title: "Application, Network and Gateway Load Balancers should span multiple Availability Zones", Run: checkLoadBalancerAZs},
	{ID: "EFS.1", Title: "Elastic File System should be configured to encrypt file data at-rest using AWS KMS", Run: checkFileSystemEncrypted},
	{ID: "EFS.2", Title: "Amazon EFS volumes should be in backup plans", Run: checkFileSystemBackups},
	{ID: "EFS.3", Title: "EFS access points should enforce a root directory", Run: checkAccessPointRoot},
	{ID: "EFS.4", Title: "EFS access points should enforce a user identity", Run: checkAccessPointUser},
	{ID: "EFS.6", Title: "EFS mount targets should not be associated with a public subnet", Run: checkMountTargetsPrivate},
	{ID: "EC2.8", Title: "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)", Run: checkIMDSv2},
	{ID: "EC2.9", Title: "Amazon EC2 instances should not have a public IPv4 address", Run: checkInstancePublicIP},
	{ID: "EC2.18", Title: "Security groups should only allow unrestricted incoming traffic for authorized ports", Run: checkUnrestrictedPorts},
	{ID: "EC2.19", Title: "Security groups should not allow unrestricted access to ports with high risk", Run: checkHighRiskPorts},
	{ID: "SSM.1", Title: "Amazon EC2 instances should be managed by AWS Systems Manager", Run: checkInstancesManaged},
	{ID: "WAF.10", Title: "AWS WAF web ACLs should have at least one rule or rule group", Run: checkWebACLRules},
	{ID: "WAF.12", Title: "AWS WAF rules should have CloudWatch metrics enabled", Run: checkWebACLMetrics},
}

func init() { Checks = append(Checks, computeChecks...) }

const (
	typeECSService      = "aws:ecs/service:Service"
	typeECSCluster      = "aws:ecs/cluster:Cluster"
	typeTaskDefinition  = "aws:ecs/taskDefinition:TaskDefinition"
	typeTaskSet         = "aws:ecs/taskSet:TaskSet"
	typeLoadBalancer    = "aws:lb/loadBalancer:LoadBalancer"
	typeListener        = "aws:lb/listener:Listener"
	typeFileSystem      = "aws:efs/fileSystem:FileSystem"
	typeBackupPolicy    = "aws:efs/backupPolicy:BackupPolicy"
	typeAccessPoint     = "aws:efs/accessPoint:AccessPoint"
	typeMountTarget     = "aws:efs/mountTarget:MountTarget"
	typeInstance        = "aws:ec2/instance:Instance"
	typeInstanceProfile = "aws:iam/instanceProfile:InstanceProfile"
	typePolicyAttach    = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	typeSecurityGroup   = "aws:ec2/securityGroup:SecurityGroup"
	typeIngressRule     = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeWebACL          = "aws:wafv2/webAcl:WebAcl"
)

// obj reads a nested object input; nil when absent.
func obj(v any, key string) map[string]any {
	m, _ := v.(map[string]any)
	o, _ := m[key].(map[string]any)
	return o
}

// each runs f over every resource of typ, or reports n/a with why.
func each(p *plan.Plan, typ, none string, f func(r plan.Resource) Result) []Result {
	rs := p.OfType(typ)
	if len(rs) == 0 {
		return []Result{notApplicable("%s", none)}
	}
	out := make([]Result, 0, len(rs))
	for _, r := range rs {
		out = append(out, f(r))
	}
	return out
}

// container is the part of an ECS container definition the checks read.
type container struct {
	Name                   string `json:"name"`
	Privileged             *bool  `json:"privileged"`
	ReadonlyRootFilesystem *bool  `json:"readonlyRootFilesystem"`
	Environment            []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"environment"`
	Secrets []struct {
		Name      string `json:"name"`
		ValueFrom string `json:"valueFrom"`
	} `json:"secrets"`
	LogConfiguration *struct {
		LogDriver string `json:"logDriver"`
	} `json:"logConfiguration"`
}

// containers reads a task definition's containers; an error when the
// definitions are not readable offline (unknown or secret), which fails
// the check rather than passing it blind.
func containers(td plan.Resource) ([]container, error) {
	raw := td.String("containerDefinitions")
	if raw == "" || raw == plan.SecretPlaceholder {
		return nil, fmt.Errorf("task definition %s has container definitions the offline plan cannot read (%q)", td.Name, raw)
	}
	var cs []container
	if err := json.Unmarshal([]byte(raw), &cs); err != nil {
		return nil, fmt.Errorf("task definition %s: container definitions are not JSON: %w", td.Name, err)
	}
	return cs, nil
}

// eachContainer runs f over every container of every task definition.
func eachContainer(p *plan.Plan, f func(td plan.Resource, c container) (bool, string)) []Result {
	return each(p, typeTaskDefinition, "the stack has no ECS task definitions", func(td plan.Resource) Result {
		cs, err := containers(td)
		if err != nil {
			return fail(td, "%v", err)
		}
		var bad, good []string
		for _, c := range cs {
			ok, why := f(td, c)
			if ok {
				good = append(good, why)
			} else {
				bad = append(bad, why)
			}
		}
		if len(bad) > 0 {
			return fail(td, "%s", strings.Join(bad, "; "))
		}
		return pass(td, "%s", strings.Join(good, "; "))
	})
}

func checkServicePublicIP(p *plan.Plan) []Result {
	return each(p, typeECSService, "the stack has no ECS services", func(s plan.Resource) Result {
		if on, _ := obj(s.Inputs, "networkConfiguration")["assignPublicIp"].(bool); on {
			return fail(s, "service %s gives its tasks public IPs; set assignPublicIp false and reach them through the load balancer", s.Name)
		}
		return pass(s, "service %s assigns no public IPs", s.Name)
	})
}

func checkContainersNotPrivileged(p *plan.Plan) []Result {
	return eachContainer(p, func(_ plan.Resource, c container) (bool, string) {
		if c.Privileged != nil && *c.Privileged {
			return false, fmt.Sprintf("container %s runs privileged; remove privileged", c.Name)
		}
		return true, fmt.Sprintf("container %s is not privileged", c.Name)
	})
}

func checkReadOnlyRoot(p *plan.Plan) []Result {
	return eachContainer(p, func(_ plan.Resource, c container) (bool, string) {
		if c.ReadonlyRootFilesystem == nil || !*c.ReadonlyRootFilesystem {
			return false, fmt.Sprintf("container %s can write to its root filesystem; set readonlyRootFilesystem and give the paths it writes volumes", c.Name)
		}
		return true, fmt.Sprintf("container %s has a read-only root filesystem", c.Name)
	})
}

// credentialVariables are what AWS's ECS.8 looks for; secretLike extends
// it to names that say they hold a secret.
var (
	credentialVariables = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA"}
	secretLike          = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|ACCESS_KEY)`)
)

func checkNoSecretsInEnvironment(p *plan.Plan) []Result {
	return eachContainer(p, func(_ plan.Resource, c container) (bool, string) {
		for _, e := range c.Environment {
			switch {
			case slices.Contains(credentialVariables, e.Name) || secretLike.MatchString(e.Name):
				return false, fmt.Sprintf("container %s gets %s as a plain environment variable; inject it from SSM or Secrets Manager under secrets", c.Name, e.Name)
			case strings.Contains(e.Value, plan.SecretPlaceholder):
				return false, fmt.Sprintf("container %s gets a stack secret in environment variable %s; use secrets with valueFrom", c.Name, e.Name)
			}
		}
		return true, fmt.Sprintf("container %s has no secret in its environment (%d injected as secrets)", c.Name, len(c.Secrets))
	})
}

func checkContainerLogging(p *plan.Plan) []Result {
	return eachContainer(p, func(_ plan.Resource, c container) (bool, string) {
		if c.LogConfiguration == nil || c.LogConfiguration.LogDriver == "" {
			return false, fmt.Sprintf("container %s has no logConfiguration; its output is lost", c.Name)
		}
		return true, fmt.Sprintf("container %s logs through %s", c.Name, c.LogConfiguration.LogDriver)
	})
}

func checkFargatePlatform(p *plan.Plan) []Result {
	var out []Result
	for _, s := range p.OfType(typeECSService) {
		if s.String("launchType") != "FARGATE" {
			continue
		}
		switch v := s.String("platformVersion"); v {
		case "", "LATEST", "1.4.0":
			out = append(out, pass(s, "service %s runs on the latest Fargate platform (%s)", s.Name, orDefault(v, "LATEST by default")))
		default:
			out = append(out, fail(s, "service %s pins Fargate platform %s; use LATEST", s.Name, v))
		}
	}
	if len(out) == 0 {
		return []Result{notApplicable("the stack has no Fargate services")}
	}
	return out
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func checkContainerInsights(p *plan.Plan) []Result {
	return each(p, typeECSCluster, "the stack has no ECS clusters", func(c plan.Resource) Result {
		for _, s := range c.List("settings") {
			m, _ := s.(map[string]any)
			if m["name"] == "containerInsights" && (m["value"] == "enabled" || m["value"] == "enhanced") {
				return pass(c, "cluster %s has Container Insights %s", c.Name, m["value"])
			}
		}
		return fail(c, "cluster %s has Container Insights off; add the setting containerInsights = enabled", c.Name)
	})
}

func checkTaskSetPublicIP(p *plan.Plan) []Result {
	return each(p, typeTaskSet, "the stack has no ECS task sets: its services use the ECS deployment controller, whose tasks ECS.2 covers", func(ts plan.Resource) Result {
		if on, _ := obj(ts.Inputs, "networkConfiguration")["assignPublicIp"].(bool); on {
			return fail(ts, "task set %s assigns public IPs", ts.Name)
		}
		return pass(ts, "task set %s assigns no public IPs", ts.Name)
	})
}

// albs are the Application Load Balancers of the plan.
func albs(p *plan.Plan) []plan.Resource {
	var out []plan.Resource
	for _, lb := range p.OfType(typeLoadBalancer) {
		if t := lb.String("loadBalancerType"); t == "" || t == "application" {
			out = append(out, lb)
		}
	}
	return out
}

func eachALB(p *plan.Plan, f func(lb plan.Resource) Result) []Result {
	all := albs(p)
	if len(all) == 0 {
		return []Result{notApplicable("the stack has no Application Load Balancers")}
	}
	var out []Result
	for _, lb := range all {
		out = append(out, f(lb))
	}
	return out
}

// listenersOf are the listeners whose load balancer ARN names lb.
func listenersOf(p *plan.Plan, lb plan.Resource) []plan.Resource {
	var out []plan.Resource
	for _, l := range p.OfType(typeListener) {
		if strings.Contains(l.String("loadBalancerArn"), "/"+lb.String("name")+"/") {
			out = append(out, l)
		}
	}
	return out
}

func checkHTTPRedirect(p *plan.Plan) []Result {
	return eachALB(p, func(lb plan.Resource) Result {
		ls := listenersOf(p, lb)
		if len(ls) == 0 {
			return fail(lb, "load balancer %s has no listeners the plan can find", lb.Name)
		}
		for _, l := range ls {
			if l.String("protocol") != "HTTP" {
				continue
			}
			redirects := false
			for _, a := range l.List("defaultActions") {
				m, _ := a.(map[string]any)
				if m["type"] == "redirect" && obj(m, "redirect")["protocol"] == "HTTPS" {
					redirects = true
				}
			}
			if !redirects {
				return fail(lb, "load balancer %s serves plain HTTP on listener %s; add an HTTPS listener (compute.https) and redirect HTTP to it", lb.Name, l.Name)
			}
		}
		return pass(lb, "load balancer %s answers HTTP only with a redirect to HTTPS", lb.Name)
	})
}

func checkDropInvalidHeaders(p *plan.Plan) []Result {
	return eachALB(p, func(lb plan.Resource) Result {
		if on, _ := lb.Bool("dropInvalidHeaderFields"); !on {
			return fail(lb, "load balancer %s forwards invalid header fields; set dropInvalidHeaderFields", lb.Name)
		}
		return pass(lb, "load balancer %s drops invalid header fields", lb.Name)
	})
}

func checkLoadBalancerLogs(p *plan.Plan) []Result {
	return eachALB(p, func(lb plan.Resource) Result {
		logs := obj(lb.Inputs, "accessLogs")
		if on, _ := logs["enabled"].(bool); !on || logs["bucket"] == nil {
			return fail(lb, "load balancer %s writes no access logs; set compute.accessLogs", lb.Name)
		}
		return pass(lb, "load balancer %s logs to bucket %v", lb.Name, logs["bucket"])
	})
}

func checkLoadBalancerDeletionProtection(p *plan.Plan) []Result {
	return eachALB(p, func(lb plan.Resource) Result {
		if on, _ := lb.Bool("enableDeletionProtection"); !on {
			return fail(lb, "load balancer %s can be deleted by mistake; set compute.deletionProtection", lb.Name)
		}
		return pass(lb, "load balancer %s has deletion protection", lb.Name)
	})
}

func checkDesyncMitigation(p *plan.Plan) []Result {
	return eachALB(p, func(lb plan.Resource) Result {
		switch m := lb.String("desyncMitigationMode"); m {
		case "defensive", "strictest":
			return pass(lb, "load balancer %s mitigates HTTP desync (%s)", lb.Name, m)
		case "":
			return pass(lb, "load balancer %s mitigates HTTP desync (defensive, AWS's default)", lb.Name)
		default:
			return fail(lb, "load balancer %s desync mitigation is %q; use defensive or strictest", lb.Name, m)
		}
	})
}

func checkLoadBalancerAZs(p *plan.Plan) []Result {
	return eachALB(p, func(lb plan.Resource) Result {
		azs := map[string]bool{}
		for _, id := range lb.List("subnets") {
			s, _ := id.(string)
			if sn, ok := p.ByID(s); ok {
				azs[sn.String("availabilityZone")] = true
			}
		}
		if len(azs) < 2 {
			return fail(lb, "load balancer %s spans %d availability zone(s); give it subnets in at least two", lb.Name, len(azs))
		}
		return pass(lb, "load balancer %s spans %d availability zones", lb.Name, len(azs))
	})
}

func checkFileSystemEncrypted(p *plan.Plan) []Result {
	return each(p, typeFileSystem, "the stack has no EFS file systems", func(fs plan.Resource) Result {
		if on, _ := fs.Bool("encrypted"); !on {
			return fail(fs, "file system %s is not encrypted at rest; set encrypted with the stack's EFS key", fs.Name)
		}
		if fs.String("kmsKeyId") == "" {
			return pass(fs, "file system %s is encrypted with the AWS managed key", fs.Name)
		}
		return pass(fs, "file system %s is encrypted with KMS key %s", fs.Name, fs.String("kmsKeyId"))
	})
}

func checkFileSystemBackups(p *plan.Plan) []Result {
	return each(p, typeFileSystem, "the stack has no EFS file systems", func(fs plan.Resource) Result {
		for _, b := range p.OfType(typeBackupPolicy) {
			if b.String("fileSystemId") == fs.ID && obj(b.Inputs, "backupPolicy")["status"] == "ENABLED" {
				return pass(fs, "file system %s is backed up by AWS Backup's default plan", fs.Name)
			}
		}
		return fail(fs, "file system %s has no backup policy; declare an aws:efs/backupPolicy with status ENABLED", fs.Name)
	})
}

func checkAccessPointRoot(p *plan.Plan) []Result {
	return each(p, typeAccessPoint, "the stack has no EFS access points", func(ap plan.Resource) Result {
		path, _ := obj(ap.Inputs, "rootDirectory")["path"].(string)
		if path == "" || path == "/" {
			return fail(ap, "access point %s exposes the file system's root; set rootDirectory.path", ap.Name)
		}
		return pass(ap, "access point %s is confined to %s", ap.Name, path)
	})
}

func checkAccessPointUser(p *plan.Plan) []Result {
	return each(p, typeAccessPoint, "the stack has no EFS access points", func(ap plan.Resource) Result {
		u := obj(ap.Inputs, "posixUser")
		if u == nil || u["uid"] == nil || u["gid"] == nil {
			return fail(ap, "access point %s takes the client's identity; set posixUser", ap.Name)
		}
		return pass(ap, "access point %s acts as uid %v gid %v", ap.Name, u["uid"], u["gid"])
	})
}

func checkMountTargetsPrivate(p *plan.Plan) []Result {
	return each(p, typeMountTarget, "the stack has no EFS mount targets", func(mt plan.Resource) Result {
		sn, ok := p.ByID(mt.String("subnetId"))
		if !ok {
			return fail(mt, "mount target %s is in a subnet the plan does not declare", mt.Name)
		}
		if on, _ := sn.Bool("mapPublicIpOnLaunch"); on || sn.Tag("Tier") == "public" {
			return fail(mt, "mount target %s is in public subnet %s; use the data tier", mt.Name, sn.Name)
		}
		return pass(mt, "mount target %s is in %s subnet %s", mt.Name, orDefault(sn.Tag("Tier"), "a private"), sn.Name)
	})
}

func checkIMDSv2(p *plan.Plan) []Result {
	return each(p, typeInstance, "the stack has no EC2 instances", func(i plan.Resource) Result {
		if obj(i.Inputs, "metadataOptions")["httpTokens"] != "required" {
			return fail(i, "instance %s accepts IMDSv1; set metadataOptions.httpTokens required", i.Name)
		}
		return pass(i, "instance %s requires IMDSv2 tokens", i.Name)
	})
}

func checkInstancePublicIP(p *plan.Plan) []Result {
	return each(p, typeInstance, "the stack has no EC2 instances", func(i plan.Resource) Result {
		if on, _ := i.Bool("associatePublicIpAddress"); on {
			return fail(i, "instance %s gets a public IPv4 address; set associatePublicIpAddress false", i.Name)
		}
		if sn, ok := p.ByID(i.String("subnetId")); ok {
			if on, _ := sn.Bool("mapPublicIpOnLaunch"); on {
				return fail(i, "instance %s is in subnet %s, which gives every instance a public address", i.Name, sn.Name)
			}
		}
		return pass(i, "instance %s has no public IPv4 address", i.Name)
	})
}

// openRule is an ingress rule from anywhere: its group's id and ports.
type openRule struct {
	group    string
	from, to int
	protocol string
}

// openIngress returns every ingress rule open to the internet, from
// separate rule resources and from groups' inline rules.
func openIngress(p *plan.Plan) []openRule {
	var out []openRule
	port := func(v any) int {
		f, _ := v.(float64)
		return int(f)
	}
	for _, r := range p.OfType(typeIngressRule) {
		if r.String("cidrIpv4") == internetIPv4 || r.String("cidrIpv6") == internetIPv6 {
			out = append(out, openRule{r.String("securityGroupId"), port(r.Inputs["fromPort"]), port(r.Inputs["toPort"]), r.String("ipProtocol")})
		}
	}
	for _, r := range p.OfType(typeSGRule) {
		if r.String("type") == "ingress" && (slices.Contains(r.List("cidrBlocks"), any(internetIPv4)) || slices.Contains(r.List("ipv6CidrBlocks"), any(internetIPv6))) {
			out = append(out, openRule{r.String("securityGroupId"), port(r.Inputs["fromPort"]), port(r.Inputs["toPort"]), r.String("protocol")})
		}
	}
	for _, sg := range p.OfType(typeSecurityGroup) {
		for _, in := range sg.List("ingress") {
			m, _ := in.(map[string]any)
			cidrs, _ := m["cidrBlocks"].([]any)
			v6, _ := m["ipv6CidrBlocks"].([]any)
			if slices.Contains(cidrs, any(internetIPv4)) || slices.Contains(v6, any(internetIPv6)) {
				proto, _ := m["protocol"].(string)
				out = append(out, openRule{sg.ID, port(m["fromPort"]), port(m["toPort"]), proto})
			}
		}
	}
	return out
}

// covers says whether the rule opens port: every protocol (-1), or a
// range that includes it.
func (o openRule) covers(port int) bool {
	if o.protocol == "-1" || o.protocol == "all" {
		return true
	}
	return o.from <= port && port <= o.to
}

// authorizedPorts may be open to the internet (AWS's EC2.18 default).
var authorizedPorts = []int{80, 443}

// highRiskPorts are the ports EC2.19 lists.
var highRiskPorts = []int{20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300}

// eachGroup reports per security group, from the rules open to anywhere.
func eachGroup(p *plan.Plan, f func(sg plan.Resource, open []openRule) Result) []Result {
	groups := p.OfType(typeSecurityGroup)
	if len(groups) == 0 {
		return []Result{notApplicable("the stack has no security groups of its own")}
	}
	byGroup := map[string][]openRule{}
	for _, o := range openIngress(p) {
		byGroup[o.group] = append(byGroup[o.group], o)
	}
	var out []Result
	for _, sg := range groups {
		out = append(out, f(sg, byGroup[sg.ID]))
	}
	return out
}

func checkUnrestrictedPorts(p *plan.Plan) []Result {
	return eachGroup(p, func(sg plan.Resource, open []openRule) Result {
		var bad []string
		for _, o := range open {
			if o.protocol == "-1" || o.from != o.to || !slices.Contains(authorizedPorts, o.from) {
				bad = append(bad, fmt.Sprintf("%s %d-%d", o.protocol, o.from, o.to))
			}
		}
		switch {
		case len(bad) > 0:
			sort.Strings(bad)
			return fail(sg, "group %s admits the internet on %s; only %v may be open to anyone", sg.Name, strings.Join(bad, ", "), authorizedPorts)
		case len(open) > 0:
			return pass(sg, "group %s admits the internet only on authorized ports", sg.Name)
		}
		return pass(sg, "group %s admits nothing from the internet", sg.Name)
	})
}

func checkHighRiskPorts(p *plan.Plan) []Result {
	return eachGroup(p, func(sg plan.Resource, open []openRule) Result {
		var bad []string
		for _, o := range open {
			for _, port := range highRiskPorts {
				if o.covers(port) {
					bad = append(bad, fmt.Sprint(port))
				}
			}
		}
		if len(bad) > 0 {
			return fail(sg, "group %s admits the internet on high-risk port(s) %s", sg.Name, strings.Join(bad, ", "))
		}
		return pass(sg, "group %s opens no high-risk port to the internet", sg.Name)
	})
}

// managedCorePolicy is the policy the Systems Manager agent needs.
const managedCorePolicy = "policy/AmazonSSMManagedInstanceCore"

func checkInstancesManaged(p *plan.Plan) []Result {
	return each(p, typeInstance, "the stack has no EC2 instances", func(i plan.Resource) Result {
		profileName := i.String("iamInstanceProfile")
		for _, prof := range p.OfType(typeInstanceProfile) {
			if prof.Name != profileName && prof.String("name") != profileName {
				continue
			}
			role := prof.String("role")
			for _, a := range p.OfType(typePolicyAttach) {
				if a.String("role") == role && strings.HasSuffix(a.String("policyArn"), ":"+managedCorePolicy) {
					return pass(i, "instance %s runs the SSM agent with role %s (AmazonSSMManagedInstanceCore)", i.Name, role)
				}
			}
			return fail(i, "instance %s's role %s lacks AmazonSSMManagedInstanceCore; Systems Manager cannot manage it", i.Name, role)
		}
		return fail(i, "instance %s has no instance profile; Systems Manager cannot manage it", i.Name)
	})
}

func checkWebACLRules(p *plan.Plan) []Result {
	return each(p, typeWebACL, "the stack has no web ACL (compute.waf.enabled is false)", func(acl plan.Resource) Result {
		if n := len(acl.List("rules")); n == 0 {
			return fail(acl, "web ACL %s has no rules: it only applies its default action", acl.Name)
		}
		return pass(acl, "web ACL %s has %d rules", acl.Name, len(acl.List("rules")))
	})
}

func checkWebACLMetrics(p *plan.Plan) []Result {
	return each(p, typeWebACL, "the stack has no web ACL (compute.waf.enabled is false)", func(acl plan.Resource) Result {
		var off []string
		if on, _ := obj(acl.Inputs, "visibilityConfig")["cloudwatchMetricsEnabled"].(bool); !on {
			off = append(off, "the web ACL itself")
		}
		for _, r := range acl.List("rules") {
			m, _ := r.(map[string]any)
			if on, _ := obj(m, "visibilityConfig")["cloudwatchMetricsEnabled"].(bool); !on {
				off = append(off, fmt.Sprint(m["name"]))
			}
		}
		if len(off) > 0 {
			return fail(acl, "web ACL %s has CloudWatch metrics off for %s", acl.Name, strings.Join(off, ", "))
		}
		return pass(acl, "web ACL %s has CloudWatch metrics on for itself and its %d rules", acl.Name, len(acl.List("rules")))
	})
}
