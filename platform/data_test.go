package platform_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/platform"
)

const (
	typeDB          = "aws:rds/instance:Instance"
	typeParamGroup  = "aws:rds/parameterGroup:ParameterGroup"
	typeSSMParam    = "aws:ssm/parameter:Parameter"
	typeIngressRule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeEgressRule  = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	keyARNPrefix    = "arn:aws:kms:us-east-1:123456789012:key/"
	// testPassword is a strong password, as a stack sets it with --secret.
	testPassword = "Kx7-vQ2#mW9!pL4$zR8"
)

func setData(t *testing.T, raw map[string]string, settings map[string]any) {
	t.Helper()
	key := config.Namespace + ":data"
	d := map[string]any{}
	if s := raw[key]; s != "" {
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range settings {
		d[k] = v
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	raw[key] = string(b)
}

func keyARN(t *testing.T, p *plan.Plan, name string) string {
	t.Helper()
	k, ok := p.Named(typeKey, name)
	if !ok {
		t.Fatalf("no KMS key %s", name)
	}
	return keyARNPrefix + k.ID
}

func primaryAndReplicas(t *testing.T, p *plan.Plan) (plan.Resource, []plan.Resource) {
	t.Helper()
	var primary []plan.Resource
	var replicas []plan.Resource
	for _, db := range p.OfType(typeDB) {
		if db.String("replicateSourceDb") != "" {
			replicas = append(replicas, db)
		} else {
			primary = append(primary, db)
		}
	}
	if len(primary) != 1 {
		t.Fatalf("primary DB instances = %d, want 1", len(primary))
	}
	return primary[0], replicas
}

func TestDatabaseAndSettingsAreEncryptedWithTheStacksOwnKeys(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stacktest.Stack(t, stack)
		dbKey := keyARN(t, p, "wordpress-"+stack+"-db")
		paramsKey := keyARN(t, p, "wordpress-"+stack+"-params")
		for _, db := range p.OfType(typeDB) {
			if on, _ := db.Bool("storageEncrypted"); !on || db.String("kmsKeyId") != dbKey {
				t.Errorf("%s %s: storageEncrypted %v with %q, want our database key %s", stack, db.Name, on, db.String("kmsKeyId"), dbKey)
			}
			if on, _ := db.Bool("performanceInsightsEnabled"); on && db.String("performanceInsightsKmsKeyId") != dbKey {
				t.Errorf("%s %s: Performance Insights key %q, want %s", stack, db.Name, db.String("performanceInsightsKmsKeyId"), dbKey)
			}
		}
		params := p.OfType(typeSSMParam)
		// host, port, name, user, password, and WordPress's eight keys
		// and salts.
		if len(params) != 5+8 {
			t.Errorf("%s parameters = %d, want the database's 5 and WordPress's 8 keys and salts", stack, len(params))
		}
		for _, prm := range params {
			if prm.String("type") != "SecureString" || prm.String("keyId") != paramsKey {
				t.Errorf("%s parameter %s: %s with %q, want a SecureString under %s", stack, prm.String("name"), prm.String("type"), prm.String("keyId"), paramsKey)
			}
			if name := prm.String("name"); !strings.HasPrefix(name, "/wordpress/"+stack+"/db/") && !strings.HasPrefix(name, "/wordpress/"+stack+"/wordpress/") {
				t.Errorf("%s parameter %s is outside /wordpress/%s/db/ and /wordpress/%s/wordpress/", stack, name, stack, stack)
			}
		}
	}
}

func TestProdIsAHardenedMultiAZDatabaseWithAReplica(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	db, replicas := primaryAndReplicas(t, p)
	for key, want := range map[string]any{
		"engine": "mysql", "engineVersion": "8.4", "multiAz": true, "deletionProtection": true,
		"skipFinalSnapshot": false, "finalSnapshotIdentifier": "wordpress-prod-db-final", "deleteAutomatedBackups": false,
		"publiclyAccessible": false, "autoMinorVersionUpgrade": true, "copyTagsToSnapshot": true,
		"iamDatabaseAuthenticationEnabled": true, "performanceInsightsEnabled": true,
		"monitoringInterval": float64(60), "backupRetentionPeriod": float64(14), "port": float64(3307),
		"username": "wpmaster", "dbName": "wordpress", "allocatedStorage": float64(20), "maxAllocatedStorage": float64(100),
	} {
		if got := db.Inputs[key]; got != want {
			t.Errorf("prod database %s = %v, want %v", key, got, want)
		}
	}
	if _, pinned := db.Inputs["availabilityZone"]; pinned {
		t.Error("a Multi-AZ primary names a zone; RDS refuses that")
	}
	exports := db.List("enabledCloudwatchLogsExports")
	for _, l := range []string{"error", "slowquery", "audit", "general"} {
		if !slices.Contains(exports, any(l)) {
			t.Errorf("prod does not export the %s log: %v", l, exports)
		}
	}
	role, ok := p.ByARN(db.String("monitoringRoleArn"))
	if !ok || !strings.Contains(role.String("assumeRolePolicy"), `"Service":"monitoring.rds.amazonaws.com"`) ||
		!strings.Contains(role.String("assumeRolePolicy"), `"aws:SourceAccount":"123456789012"`) {
		t.Errorf("enhanced monitoring role is missing or trusts the wrong principal: %v", role.Inputs)
	}
	if len(replicas) != 1 {
		t.Fatalf("prod read replicas = %d, want 1", len(replicas))
	}
	r := replicas[0]
	if r.String("replicateSourceDb") != db.String("identifier") || r.String("parameterGroupName") != db.String("parameterGroupName") {
		t.Errorf("replica does not follow the primary: %v", r.Inputs)
	}
	if on, _ := r.Bool("storageEncrypted"); !on {
		t.Error("replica is not encrypted")
	}
	if _, set := r.Inputs["password"]; set {
		t.Error("a replica takes no password; RDS copies the primary's users")
	}
}

func TestDevIsOneSmallInstanceThatCanBeTornDown(t *testing.T) {
	p := stacktest.Stack(t, "dev")
	db, replicas := primaryAndReplicas(t, p)
	if len(replicas) != 0 {
		t.Errorf("dev read replicas = %d, want 0", len(replicas))
	}
	for key, want := range map[string]any{
		"instanceClass": "db.t4g.micro", "multiAz": false, "deletionProtection": false, "skipFinalSnapshot": true,
		"monitoringInterval": float64(0), "performanceInsightsEnabled": false, "availabilityZone": "us-east-1a",
		"publiclyAccessible": false, "port": float64(3306),
	} {
		if got := db.Inputs[key]; got != want {
			t.Errorf("dev database %s = %v, want %v", key, got, want)
		}
	}
	if _, ok := p.Named(typeRole, "wordpress-dev-db-monitoring"); ok {
		t.Error("dev has an enhanced monitoring role but no enhanced monitoring")
	}
}

func TestReplicasFollowTheConfigAndAvoidThePrimarysZone(t *testing.T) {
	for _, c := range []struct {
		stack    string
		replicas int
		multiAZ  bool
	}{{"prod", 0, true}, {"prod", 3, true}, {"dev", 2, false}} {
		t.Run(fmt.Sprintf("%s with %d", c.stack, c.replicas), func(t *testing.T) {
			raw := stacktest.RawConfig(t, c.stack)
			setData(t, raw, map[string]any{"readReplicas": c.replicas, "multiAz": c.multiAZ})
			p, _ := stacktest.Record(t, c.stack, raw)
			db, replicas := primaryAndReplicas(t, p)
			if len(replicas) != c.replicas {
				t.Fatalf("replicas = %d, want %d", len(replicas), c.replicas)
			}
			// Offline, RDS "picks" the Region's first zone for a Multi-AZ
			// primary; a single-AZ primary is pinned to the first AZ.
			primaryZone := "us-east-1a"
			var zones []string
			for _, s := range subnetsOfTier(p, "data") {
				zones = append(zones, s.String("availabilityZone"))
			}
			for i, r := range replicas {
				az := r.String("availabilityZone")
				if az == primaryZone || !slices.Contains(zones, az) {
					t.Errorf("replica %d is in %q; want a data-tier zone other than the primary's %s (%v)", i+1, az, primaryZone, zones)
				}
				if r.String("identifier") != fmt.Sprintf("%s-replica-%d", db.String("identifier"), i+1) {
					t.Errorf("replica %d identifier = %q", i+1, r.String("identifier"))
				}
			}
		})
	}
}

func TestOnlyTheTasksAndTheBastionReachTheDatabase(t *testing.T) {
	for stack, port := range map[string]float64{"dev": 3306, "prod": 3307} {
		p := stacktest.Stack(t, stack)
		db, replicas := primaryAndReplicas(t, p)
		sgs := map[string]bool{}
		for _, inst := range append(replicas, db) {
			for _, id := range inst.List("vpcSecurityGroupIds") {
				sgs[id.(string)] = true
			}
		}
		dbSG, ok := p.Named(typeSG, "wordpress-"+stack+"-db")
		if !ok || len(sgs) != 1 || !sgs[dbSG.ID] {
			t.Fatalf("%s database groups = %v, want only %s", stack, sgs, dbSG.ID)
		}
		tasks, _ := p.Named(typeSG, "wordpress-"+stack+"-tasks")
		bastion, _ := p.Named(typeSG, "wordpress-"+stack+"-bastion")
		want := map[string]bool{tasks.ID: true, bastion.ID: true}
		got := map[string]bool{}
		for _, r := range p.OfType(typeIngressRule) {
			if r.String("securityGroupId") != dbSG.ID {
				continue
			}
			if r.String("cidrIpv4") != "" || r.String("cidrIpv6") != "" || r.String("prefixListId") != "" {
				t.Errorf("%s rule %s admits an address range", stack, r.Name)
			}
			if r.Inputs["fromPort"] != port || r.Inputs["toPort"] != port {
				t.Errorf("%s rule %s opens %v-%v, want the database port %v", stack, r.Name, r.Inputs["fromPort"], r.Inputs["toPort"], port)
			}
			got[r.String("referencedSecurityGroupId")] = true
		}
		if len(got) != 2 || !got[tasks.ID] || !got[bastion.ID] {
			t.Errorf("%s database admits %v, want exactly the tasks and the bastion %v", stack, got, want)
		}
		for _, r := range p.OfType(typeEgressRule) {
			if r.String("securityGroupId") == dbSG.ID {
				t.Errorf("%s database group has egress rule %s", stack, r.Name)
			}
		}
	}
}

func TestTheRequireSecureTransportParameterIsOn(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	groups := p.OfType(typeParamGroup)
	if len(groups) != 1 || groups[0].String("family") != "mysql8.4" {
		t.Fatalf("parameter groups = %v", groups)
	}
	db, _ := primaryAndReplicas(t, p)
	if db.String("parameterGroupName") != groups[0].String("name") {
		t.Errorf("the database uses parameter group %q, not %q", db.String("parameterGroupName"), groups[0].String("name"))
	}
	found := false
	for _, prm := range groups[0].List("parameters") {
		m := prm.(map[string]any)
		if m["name"] == "require_secure_transport" {
			found = m["value"] == "1"
		}
	}
	if !found {
		t.Errorf("require_secure_transport is not 1: %v", groups[0].List("parameters"))
	}
}

func TestThePasswordIsASecretInEveryInput(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	raw["wordpress:dbPassword"] = testPassword
	opts := plan.Options{Project: config.Namespace, Stack: "prod", Config: raw, SecretKeys: []string{"wordpress:dbPassword"}}
	p := stacktest.RecordWith(t, opts)
	all, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(all), testPassword) {
		t.Fatal("the recorded plan shows the password")
	}
	db, _ := primaryAndReplicas(t, p)
	if db.Inputs["password"] != plan.SecretPlaceholder {
		t.Errorf("database password input = %v, want %s", db.Inputs["password"], plan.SecretPlaceholder)
	}
	pw, ok := p.Named(typeSSMParam, "wordpress-prod-db-password")
	if !ok || pw.Inputs["value"] != plan.SecretPlaceholder {
		t.Errorf("password parameter = %v, want a secret value", pw.Inputs)
	}
}

func TestAPasswordSetInClearTextStopsThePlan(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	raw["wordpress:dbPassword"] = testPassword
	_, err := plan.Record(platform.DeployOffline, plan.Options{Project: config.Namespace, Stack: "prod", Config: raw})
	if err == nil || !strings.Contains(err.Error(), "wordpress:dbPassword: is stored in clear text") {
		t.Errorf("err = %v", err)
	}
	if err != nil && strings.Contains(err.Error(), testPassword) {
		t.Error("the error shows the password")
	}
}

func TestRDSManagedPasswordLeavesNoPasswordInTheStack(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	setData(t, raw, map[string]any{"manageMasterUserPassword": true})
	p, _ := stacktest.Record(t, "prod", raw)
	db, _ := primaryAndReplicas(t, p)
	if on, _ := db.Bool("manageMasterUserPassword"); !on {
		t.Error("manageMasterUserPassword is off")
	}
	if _, set := db.Inputs["password"]; set {
		t.Error("the database still takes a password from the stack")
	}
	if db.String("masterUserSecretKmsKeyId") != keyARN(t, p, "wordpress-prod-params") {
		t.Errorf("the RDS-managed secret is encrypted with %q, not the parameters key", db.String("masterUserSecretKmsKeyId"))
	}
	if _, ok := p.Named(typeSSMParam, "wordpress-prod-db-password"); ok {
		t.Error("a password parameter exists though RDS keeps the password")
	}
	key, _ := p.Named(typeKey, "wordpress-prod-params")
	if !strings.Contains(key.String("policy"), "secretsmanager.us-east-1.amazonaws.com") {
		t.Errorf("the parameters key does not admit Secrets Manager: %s", key.String("policy"))
	}
}

func TestKeyPoliciesLetOnlyTheirServiceUseTheKey(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	for name, service := range map[string]string{
		"wordpress-prod-db":     "rds.us-east-1.amazonaws.com",
		"wordpress-prod-params": "ssm.us-east-1.amazonaws.com",
		"wordpress-prod-efs":    "elasticfilesystem.us-east-1.amazonaws.com",
	} {
		key, ok := p.Named(typeKey, name)
		if !ok {
			t.Fatalf("no key %s", name)
		}
		if on, _ := key.Bool("enableKeyRotation"); !on || key.Inputs["deletionWindowInDays"] != float64(30) {
			t.Errorf("%s: rotation %v, deletion window %v", name, on, key.Inputs["deletionWindowInDays"])
		}
		if _, ok := p.Named("aws:kms/alias:Alias", name); !ok {
			t.Errorf("%s has no alias", name)
		}
		var policy struct {
			Statement []struct {
				Principal map[string]any
				Action    any
				Condition map[string]map[string]any
			}
		}
		if err := json.Unmarshal([]byte(key.String("policy")), &policy); err != nil {
			t.Fatal(err)
		}
		uses := false
		for _, s := range policy.Statement {
			actions := fmt.Sprint(s.Action)
			if strings.Contains(actions, "kms:*") {
				t.Errorf("%s grants kms:* to %v", name, s.Principal)
			}
			if !strings.Contains(actions, "kms:Decrypt") {
				continue
			}
			via := fmt.Sprint(s.Condition["StringEquals"]["kms:ViaService"])
			if via != "["+service+"]" || s.Condition["StringEquals"]["kms:CallerAccount"] != "123456789012" {
				t.Errorf("%s lets %v decrypt through %s (account %v), want only %s", name, s.Principal, via, s.Condition["StringEquals"]["kms:CallerAccount"], service)
			}
			uses = true
		}
		if !uses {
			t.Errorf("%s lets no service use it", name)
		}
	}
}

func TestExportedDatabaseLogsGoToEncryptedGroupsWithRetention(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	logsKey := keyARN(t, p, "wordpress-prod-logs")
	want := map[string]bool{}
	for _, id := range []string{"wordpress-prod-db", "wordpress-prod-db-replica-1"} {
		for _, l := range []string{"error", "slowquery", "audit", "general"} {
			want["/aws/rds/instance/"+id+"/"+l] = true
		}
	}
	for _, g := range p.OfType(typeLogGroup) {
		name := g.String("name")
		if !strings.HasPrefix(name, "/aws/rds/") {
			continue
		}
		if !want[name] {
			t.Errorf("unexpected database log group %s", name)
		}
		delete(want, name)
		if g.String("kmsKeyId") != logsKey || g.Inputs["retentionInDays"] != float64(365) {
			t.Errorf("%s: key %q retention %v, want the logs key and 365 days", name, g.String("kmsKeyId"), g.Inputs["retentionInDays"])
		}
	}
	if len(want) != 0 {
		t.Errorf("no log group made for %v; RDS would make them unencrypted and keep them forever", want)
	}
}

func TestEachExportedLogIsTurnedOnInTheServer(t *testing.T) {
	for _, c := range []struct {
		stack       string
		params      map[string]string
		auditPlugin bool
	}{
		{"dev", map[string]string{"log_output": "FILE", "slow_query_log": "1"}, false},
		{"prod", map[string]string{"log_output": "FILE", "slow_query_log": "1", "general_log": "1"}, true},
	} {
		p := stacktest.Stack(t, c.stack)
		set := map[string]string{}
		for _, prm := range p.OfType(typeParamGroup)[0].List("parameters") {
			m := prm.(map[string]any)
			set[m["name"].(string)] = m["value"].(string)
		}
		for name, want := range c.params {
			if set[name] != want {
				t.Errorf("%s: %s = %q, want %q", c.stack, name, set[name], want)
			}
		}
		if _, on := set["general_log"]; on && c.params["general_log"] == "" {
			t.Errorf("%s logs every query but does not export the general log", c.stack)
		}
		db, replicas := primaryAndReplicas(t, p)
		groups := p.OfType("aws:rds/optionGroup:OptionGroup")
		if !c.auditPlugin {
			if len(groups) != 0 || db.String("optionGroupName") != "" {
				t.Errorf("%s has an audit option group but no audit log", c.stack)
			}
			continue
		}
		if len(groups) != 1 || !strings.Contains(fmt.Sprint(groups[0].List("options")), "MARIADB_AUDIT_PLUGIN") {
			t.Fatalf("%s: option groups %v, want the MariaDB audit plugin", c.stack, groups)
		}
		for _, inst := range append(replicas, db) {
			if inst.String("optionGroupName") != groups[0].String("name") {
				t.Errorf("%s %s does not use the audit option group", c.stack, inst.Name)
			}
		}
	}
}
