package platform_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

const (
	typeMWAA       = "aws:mwaa/environment:Environment"
	typeBucket     = "aws:s3/bucketV2:BucketV2"
	typeObject     = "aws:s3/bucketObjectv2:BucketObjectv2"
	typeRole       = "aws:iam/role:Role"
	typeRolePolicy = "aws:iam/rolePolicy:RolePolicy"
	typeAirflow    = "wordpress:airflow:Environment"
)

// withAirflow records stack with wordpress:airflow set to settings.
func withAirflow(t *testing.T, stack string, settings string) *plan.Plan {
	t.Helper()
	raw := stacktest.RawConfig(t, stack)
	raw["wordpress:airflow"] = settings
	p, _ := stacktest.Record(t, stack, raw)
	return p
}

// only returns the one resource of a type under the Airflow component,
// failing when there is not exactly one.
func only(t *testing.T, p *plan.Plan, typ string) plan.Resource {
	t.Helper()
	rs := ofComponent(p, typ)
	if len(rs) != 1 {
		t.Fatalf("%s resources = %d, want 1", typ, len(rs))
	}
	return rs[0]
}

// ofComponent returns the resources of typ under the Airflow component.
func ofComponent(p *plan.Plan, typ string) []plan.Resource {
	var out []plan.Resource
	for _, r := range p.OfType(typ) {
		if strings.Contains(r.Parent, typeAirflow) {
			out = append(out, r)
		}
	}
	return out
}

func object(v any) map[string]any { m, _ := v.(map[string]any); return m }

// principal is a statement's Principal; "*" reads as {"AWS": "*"}, which IAM
// takes to mean the same.
type principal map[string]any

func (p *principal) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*p = principal{"AWS": s}
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*p = m
	return nil
}

type iamPolicy struct {
	Statement []struct {
		Sid    string
		Effect string
		// Principal is "*" or {"AWS"|"Service": ...}: AnyPrincipal reads
		// both.
		Principal principal
		Action    any
		Resource  any
		Condition map[string]map[string]any
	}
}

func parsePolicy(t *testing.T, doc string) iamPolicy {
	t.Helper()
	var p iamPolicy
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy %q: %v", doc, err)
	}
	return p
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

func TestAirflowIsOffInDevAndProd(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stacktest.Stack(t, stack)
		for _, r := range p.Resources {
			if r.Type == typeAirflow || r.Service() == "mwaa" || strings.Contains(r.Parent, typeAirflow) {
				t.Errorf("%s has %s with Airflow off", stack, r.Label())
			}
		}
	}
}

func TestAirflowOnPutsAPrivateEnvironmentInTwoPrivateSubnets(t *testing.T) {
	p := withAirflow(t, "dev", `{"enabled":true}`)
	env := only(t, p, typeMWAA)
	if env.String("name") != "wordpress-dev" || env.String("environmentClass") != "mw1.small" || env.String("airflowVersion") != "3.0.6" {
		t.Errorf("environment name/class/version = %q/%q/%q, want wordpress-dev/mw1.small/3.0.6", env.String("name"), env.String("environmentClass"), env.String("airflowVersion"))
	}
	for _, r := range p.Resources {
		if r.Parent == "" && !strings.HasPrefix(r.Type, "wordpress:") {
			t.Errorf("%s sits at the top of the stack; parent it to its component", r.Label())
		}
	}
	if env.String("webserverAccessMode") != "PRIVATE_ONLY" {
		t.Errorf("webserverAccessMode = %q, want PRIVATE_ONLY", env.String("webserverAccessMode"))
	}

	netCfg := object(env.Inputs["networkConfiguration"])
	subnets := strs(netCfg["subnetIds"])
	if len(subnets) != 2 {
		t.Fatalf("environment subnets = %v, want exactly 2 (MWAA takes two)", subnets)
	}
	azs := map[string]bool{}
	for _, id := range subnets {
		s, ok := p.ByID(id)
		if !ok || s.Type != typeSubnet || s.Tag(tierTag) != "private" {
			t.Errorf("environment subnet %s is not a private subnet (%s)", id, s.Label())
		}
		azs[s.String("availabilityZone")] = true
	}
	if len(azs) != 2 {
		t.Errorf("environment subnets span %d AZs, want 2", len(azs))
	}

	sgs := strs(netCfg["securityGroupIds"])
	if len(sgs) != 1 {
		t.Fatalf("environment security groups = %v, want its own one", sgs)
	}
	sg, ok := p.ByID(sgs[0])
	if !ok || !strings.Contains(sg.Parent, typeAirflow) || sg.String("vpcId") != p.OfType(typeVPC)[0].ID {
		t.Fatalf("environment security group %s is not the component's own in the stack's VPC", sgs[0])
	}
	ingress := sg.List("ingress")
	if len(ingress) != 1 {
		t.Fatalf("airflow SG ingress rules = %d, want 1 (self)", len(ingress))
	}
	rule := object(ingress[0])
	if self, _ := rule["self"].(bool); !self || len(strs(rule["cidrBlocks"])) != 0 || len(strs(rule["securityGroups"])) != 0 {
		t.Errorf("airflow SG admits %v, want only its own members", rule)
	}

	logging := object(env.Inputs["loggingConfiguration"])
	for _, module := range []string{"dagProcessingLogs", "schedulerLogs", "taskLogs", "webserverLogs", "workerLogs"} {
		m := object(logging[module])
		if on, _ := m["enabled"].(bool); !on || m["logLevel"] != "INFO" {
			t.Errorf("%s = %v, want enabled at INFO", module, m)
		}
	}
	groups := ofComponent(p, typeLogGroup)
	if len(groups) != 5 {
		t.Fatalf("airflow log groups = %d, want 5", len(groups))
	}
	for _, g := range groups {
		if !strings.HasPrefix(g.String("name"), "airflow-wordpress-dev-") || g.String("kmsKeyId") != env.String("kmsKey") || g.Inputs["retentionInDays"] != float64(365) {
			t.Errorf("log group %s: name %q, key %q, retention %v; want airflow-wordpress-dev-*, the environment's key, 365", g.Name, g.String("name"), g.String("kmsKeyId"), g.Inputs["retentionInDays"])
		}
	}
}

func TestAirflowDAGBucketIsPrivateVersionedEncryptedAndTLSOnly(t *testing.T) {
	p := withAirflow(t, "dev", `{"enabled":true}`)
	env := only(t, p, typeMWAA)
	bucket := only(t, p, typeBucket)
	bucketARN, keyARN := env.String("sourceBucketArn"), env.String("kmsKey")
	if bucketARN == "" || keyARN == "" {
		t.Fatalf("environment sourceBucketArn %q, kmsKey %q: want both set", bucketARN, keyARN)
	}
	key, ok := p.ByID(keyARN[strings.LastIndex(keyARN, "/")+1:])
	if !ok || key.Type != typeKey || !strings.Contains(key.Parent, typeAirflow) {
		t.Fatalf("environment kmsKey %s is not the component's own key", keyARN)
	}
	if rot, _ := key.Bool("enableKeyRotation"); !rot {
		t.Error("airflow key does not rotate")
	}

	onBucket := func(typ string) plan.Resource {
		r := only(t, p, typ)
		if r.String("bucket") != bucket.ID {
			t.Errorf("%s applies to %q, not the DAG bucket", typ, r.String("bucket"))
		}
		return r
	}
	block := onBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if on, _ := block.Bool(k); !on {
			t.Errorf("public access block %s is not true", k)
		}
	}
	v := onBucket("aws:s3/bucketVersioningV2:BucketVersioningV2")
	if object(v.Inputs["versioningConfiguration"])["status"] != "Enabled" {
		t.Errorf("versioning = %v, want Enabled (MWAA requires it)", v.Inputs["versioningConfiguration"])
	}
	sse := onBucket("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
	rules := sse.List("rules")
	if len(rules) != 1 {
		t.Fatalf("encryption rules = %v", rules)
	}
	def := object(object(rules[0])["applyServerSideEncryptionByDefault"])
	if def["sseAlgorithm"] != "aws:kms" || def["kmsMasterKeyId"] != keyARN {
		t.Errorf("bucket encryption = %v, want aws:kms with the environment's key (MWAA requires the same key)", def)
	}
	tls := parsePolicy(t, onBucket("aws:s3/bucketPolicy:BucketPolicy").String("policy"))
	denies := false
	for _, s := range tls.Statement {
		if s.Effect == "Deny" && s.Condition["Bool"]["aws:SecureTransport"] == "false" && slices.Contains(strs(s.Resource), bucketARN+"/*") {
			denies = true
		}
	}
	if !denies {
		t.Errorf("bucket policy does not deny requests without TLS: %+v", tls)
	}
}

func TestAirflowUploadsEveryDAGFileByContent(t *testing.T) {
	p := withAirflow(t, "dev", `{"enabled":true}`)
	bucket := only(t, p, typeBucket)
	objects := map[string]plan.Resource{}
	for _, o := range p.OfType(typeObject) {
		if o.String("bucket") != bucket.ID {
			t.Errorf("DAG object %s is not in the DAG bucket", o.Name)
		}
		objects[o.String("key")] = o
	}
	dir := filepath.Join(stacktest.Root(t), "airflow", "dags")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		files++
		body, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		o, ok := objects["dags/"+e.Name()]
		if !ok {
			t.Errorf("airflow/dags/%s is not uploaded; objects: %v", e.Name(), slices.Sorted(func(yield func(string) bool) {
				for k := range objects {
					if !yield(k) {
						return
					}
				}
			}))
			continue
		}
		sum := md5.Sum(body)
		if o.String("content") != string(body) || o.String("sourceHash") != hex.EncodeToString(sum[:]) {
			t.Errorf("dags/%s: content or sourceHash does not match the file", e.Name())
		}
	}
	if files == 0 || len(objects) != files {
		t.Errorf("DAG objects = %d, files in airflow/dags = %d", len(objects), files)
	}
	if env := only(t, p, typeMWAA); env.String("dagS3Path") != "dags" {
		t.Errorf("dagS3Path = %q, want dags", env.String("dagS3Path"))
	}
}

func TestAirflowExecutionRoleHasLeastPrivilege(t *testing.T) {
	p := withAirflow(t, "dev", `{"enabled":true}`)
	env := only(t, p, typeMWAA)
	roles := ofComponent(p, typeRole)
	if len(roles) != 1 {
		t.Fatalf("airflow roles = %d, want 1", len(roles))
	}
	role := roles[0]
	if env.String("executionRoleArn") != role.ARN || role.ARN != "arn:aws:iam::123456789012:role/"+role.String("name") {
		t.Errorf("executionRoleArn = %q, want the component's role", env.String("executionRoleArn"))
	}
	envARN := "arn:aws:airflow:us-east-1:123456789012:environment/wordpress-dev"
	trust := parsePolicy(t, role.String("assumeRolePolicy"))
	if len(trust.Statement) != 1 {
		t.Fatalf("trust policy = %+v", trust)
	}
	ts := trust.Statement[0]
	if !reflect.DeepEqual(strs(ts.Principal["Service"]), []string{"airflow.amazonaws.com", "airflow-env.amazonaws.com"}) ||
		ts.Condition["ArnLike"]["aws:SourceArn"] != envARN || ts.Condition["StringEquals"]["aws:SourceAccount"] != "123456789012" {
		t.Errorf("trust policy is not limited to MWAA acting for %s: %+v", envARN, ts)
	}

	rp := only(t, p, typeRolePolicy)
	if rp.String("role") != role.String("name") {
		t.Errorf("policy is attached to %q, not the execution role", rp.String("role"))
	}
	bucketARN, keyARN := env.String("sourceBucketArn"), env.String("kmsKey")
	// The only actions AWS lets a policy grant on "*" here: none of them
	// has a resource-level form.
	anyResource := []string{"logs:DescribeLogGroups", "cloudwatch:PutMetricData", "s3:GetAccountPublicAccessBlock"}
	pol := parsePolicy(t, rp.String("policy"))
	seen := map[string]bool{}
	for _, s := range pol.Statement {
		actions, resources := strs(s.Action), strs(s.Resource)
		for _, a := range actions {
			service, _, _ := strings.Cut(a, ":")
			seen[service] = true
			if a == "*" || strings.HasSuffix(a, ":*") {
				t.Errorf("statement %s grants %s", s.Sid, a)
			}
		}
		if s.Effect != "Allow" {
			continue
		}
		for _, r := range resources {
			switch service, _, _ := strings.Cut(actions[0], ":"); {
			case r == "*":
				for _, a := range actions {
					if !slices.Contains(anyResource, a) {
						t.Errorf("statement %s grants %s on every resource", s.Sid, a)
					}
				}
			case service == "s3" && r != bucketARN && r != bucketARN+"/*":
				t.Errorf("statement %s reaches %s beyond the DAG bucket", s.Sid, r)
			case service == "logs" && r != "arn:aws:logs:us-east-1:123456789012:log-group:airflow-wordpress-dev-*":
				t.Errorf("statement %s reaches log groups %s beyond the environment's", s.Sid, r)
			case service == "sqs" && r != "arn:aws:sqs:us-east-1:*:airflow-celery-*":
				t.Errorf("statement %s reaches queues %s beyond MWAA's Celery queues", s.Sid, r)
			case service == "kms":
				via := strs(s.Condition["StringLike"]["kms:ViaService"])
				if r != keyARN || !reflect.DeepEqual(via, []string{"sqs.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com"}) {
					t.Errorf("statement %s uses key %s via %v; want the environment's key through SQS and S3 only", s.Sid, r, via)
				}
			case service == "airflow" && r != envARN:
				t.Errorf("statement %s reaches %s beyond the environment", s.Sid, r)
			}
		}
	}
	for _, service := range []string{"airflow", "s3", "logs", "cloudwatch", "sqs", "kms"} {
		if !seen[service] {
			t.Errorf("execution policy grants nothing in %s; MWAA's execution role needs it", service)
		}
	}

	key, _ := p.ByID(keyARN[strings.LastIndex(keyARN, "/")+1:])
	scoped := false
	for _, s := range parsePolicy(t, key.String("policy")).Statement {
		if s.Principal["Service"] == "logs.us-east-1.amazonaws.com" {
			scoped = s.Condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:us-east-1:123456789012:log-group:airflow-wordpress-dev-*"
		}
	}
	if !scoped {
		t.Errorf("airflow key lets CloudWatch Logs use it beyond the environment's groups: %s", key.String("policy"))
	}
}

func TestAirflowUIClientsReachOnlyPort443(t *testing.T) {
	p := withAirflow(t, "dev", `{"enabled":true,"webserverClientCidrs":["10.10.0.0/19","10.10.32.0/19"]}`)
	sg := ofComponent(p, typeSG)
	if len(sg) != 1 {
		t.Fatalf("airflow security groups = %d, want 1", len(sg))
	}
	var clients []map[string]any
	for _, r := range sg[0].List("ingress") {
		if rule := object(r); len(strs(rule["cidrBlocks"])) > 0 {
			clients = append(clients, rule)
		}
	}
	if len(clients) != 1 {
		t.Fatalf("client ingress rules = %v, want 1", clients)
	}
	c := clients[0]
	if c["protocol"] != "tcp" || c["fromPort"] != float64(443) || c["toPort"] != float64(443) ||
		!reflect.DeepEqual(strs(c["cidrBlocks"]), []string{"10.10.0.0/19", "10.10.32.0/19"}) {
		t.Errorf("client rule = %v, want HTTPS from the two configured blocks", c)
	}
}

func TestAirflowSettingsReachTheEnvironment(t *testing.T) {
	p := withAirflow(t, "prod", `{"enabled":true,"environmentName":"nequi-airflow","airflowVersion":"2.10.3","environmentClass":"mw1.medium","webserverAccessMode":"PUBLIC_ONLY"}`)
	env := only(t, p, typeMWAA)
	got := []string{env.String("name"), env.String("airflowVersion"), env.String("environmentClass"), env.String("webserverAccessMode")}
	if want := []string{"nequi-airflow", "2.10.3", "mw1.medium", "PUBLIC_ONLY"}; !reflect.DeepEqual(got, want) {
		t.Errorf("environment = %v, want %v", got, want)
	}
	for _, g := range ofComponent(p, typeLogGroup) {
		if !strings.HasPrefix(g.String("name"), "airflow-nequi-airflow-") {
			t.Errorf("log group %q does not follow the environment's name", g.String("name"))
		}
	}
}
