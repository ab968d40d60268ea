package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/plan"
)

const (
	typeDBInstance   = "aws:rds/instance:Instance"
	typeSSMParameter = "aws:ssm/parameter:Parameter"
	typeSG           = "aws:ec2/securityGroup:SecurityGroup"
	typeSGIngress    = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeSGEgress     = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	typeSGRule       = "aws:ec2/securityGroupRule:SecurityGroupRule"
	mysqlDefaultPort = 3306
)

// dataChecks are the data tier's rules; they are appended to Checks.
var dataChecks = []Check{
	{"RDS.2", "RDS DB instances should prohibit public access", checkDBNotPublic},
	{"RDS.3", "RDS DB instances should have encryption at-rest enabled", checkDBEncrypted},
	{"RDS.5", "RDS DB instances should be configured with multiple Availability Zones", checkDBMultiAZ},
	{"RDS.6", "Enhanced monitoring should be configured for RDS DB instances", checkDBEnhancedMonitoring},
	{"RDS.8", "RDS DB instances should have deletion protection enabled", checkDBDeletionProtection},
	{"RDS.9", "RDS DB instances should publish logs to CloudWatch Logs", checkDBLogExports},
	{"RDS.11", "RDS instances should have automatic backups enabled", checkDBBackups},
	{"RDS.13", "RDS automatic minor version upgrades should be enabled", checkDBMinorUpgrades},
	{"RDS.17", "RDS DB instances should be configured to copy tags to snapshots", checkDBCopyTags},
	{"RDS.23", "RDS instances should not use a database engine default port", checkDBPort},
	{"RDS.25", "RDS database instances should use a custom administrator username", checkDBAdminName},
	{"WP.DATA.1", "The database's security groups admit only other security groups and open nothing outward", checkDBSecurityGroups},
	{"WP.DATA.2", "The database and its settings are encrypted with the stack's own KMS keys", checkDataKeys},
}

func init() { Checks = append(Checks, dataChecks...) }

// dbInstances returns the DB instances, or a not-applicable result saying
// why there is nothing to check.
func dbInstances(p *plan.Plan) ([]plan.Resource, []Result) {
	dbs := p.OfType(typeDBInstance)
	if len(dbs) == 0 {
		return nil, []Result{notApplicable("the stack declares no RDS DB instance")}
	}
	return dbs, nil
}

func isReplica(db plan.Resource) bool { return db.String("replicateSourceDb") != "" }

// eachDB runs f on every DB instance; f returns whether it passes and the
// detail.
func eachDB(p *plan.Plan, f func(db plan.Resource) (bool, string)) []Result {
	dbs, na := dbInstances(p)
	if na != nil {
		return na
	}
	var out []Result
	for _, db := range dbs {
		ok, detail := f(db)
		if ok {
			out = append(out, pass(db, "%s", detail))
		} else {
			out = append(out, fail(db, "%s", detail))
		}
	}
	return out
}

func number(r plan.Resource, key string) int {
	f, _ := r.Inputs[key].(float64)
	return int(f)
}

func checkDBNotPublic(p *plan.Plan) []Result {
	return eachDB(p, func(db plan.Resource) (bool, string) {
		if on, set := db.Bool("publiclyAccessible"); on || !set {
			return false, fmt.Sprintf("%s: publiclyAccessible is %v (set: %v); it must be explicitly false", db.Name, on, set)
		}
		return true, db.Name + " has no public endpoint"
	})
}

func checkDBEncrypted(p *plan.Plan) []Result {
	return eachDB(p, func(db plan.Resource) (bool, string) {
		if on, _ := db.Bool("storageEncrypted"); !on {
			return false, db.Name + ": storage is not encrypted; set storageEncrypted with a KMS key"
		}
		return true, db.Name + " storage is encrypted"
	})
}

func checkDBMultiAZ(p *plan.Plan) []Result {
	dbs, na := dbInstances(p)
	if na != nil {
		return na
	}
	var out []Result
	for _, db := range dbs {
		// A read replica takes its availability from its own zone and the
		// primary's standby; the control applies to the primary.
		if isReplica(db) {
			continue
		}
		if on, _ := db.Bool("multiAz"); !on {
			out = append(out, fail(db, "%s runs in one AZ; set data.multiAz: true", db.Name))
			continue
		}
		out = append(out, pass(db, "%s keeps a standby in another AZ", db.Name))
	}
	return out
}

func checkDBEnhancedMonitoring(p *plan.Plan) []Result {
	return eachDB(p, func(db plan.Resource) (bool, string) {
		if n := number(db, "monitoringInterval"); n == 0 || db.String("monitoringRoleArn") == "" {
			return false, fmt.Sprintf("%s: enhanced monitoring is off; set data.monitoringInterval to 1, 5, 10, 15, 30 or 60", db.Name)
		}
		return true, fmt.Sprintf("%s: enhanced monitoring every %d s", db.Name, number(db, "monitoringInterval"))
	})
}

func checkDBDeletionProtection(p *plan.Plan) []Result {
	return eachDB(p, func(db plan.Resource) (bool, string) {
		if on, _ := db.Bool("deletionProtection"); !on {
			return false, db.Name + ": deletion protection is off; set data.deletionProtection: true"
		}
		return true, db.Name + " has deletion protection"
	})
}

// mysqlLogs are the logs the control expects RDS for MySQL to publish
// (Security Hub controls reference, RDS.9).
var mysqlLogs = []string{"audit", "error", "general", "slowquery"}

func checkDBLogExports(p *plan.Plan) []Result {
	return eachDB(p, func(db plan.Resource) (bool, string) {
		var missing []string
		exported := db.List("enabledCloudwatchLogsExports")
		for _, l := range mysqlLogs {
			if !slices.Contains(exported, any(l)) {
				missing = append(missing, l)
			}
		}
		if len(missing) > 0 {
			return false, fmt.Sprintf("%s does not publish %s to CloudWatch Logs; add them to data.logExports", db.Name, strings.Join(missing, ", "))
		}
		return true, db.Name + " publishes " + strings.Join(mysqlLogs, ", ")
	})
}

// minBackupDays is the control's default minimum retention.
const minBackupDays = 7

func checkDBBackups(p *plan.Plan) []Result {
	return eachDB(p, func(db plan.Resource) (bool, string) {
		if n := number(db, "backupRetentionPeriod"); n < minBackupDays {
			return false, fmt.Sprintf("%s keeps automated backups %d days, under %d; raise data.backupRetentionDays", db.Name, n, minBackupDays)
		}
		return true, fmt.Sprintf("%s keeps automated backups %d days", db.Name, number(db, "backupRetentionPeriod"))
	})
}

func checkDBMinorUpgrades(p *plan.Plan) []Result {
	return eachDB(p, func(db plan.Resource) (bool, string) {
		// RDS's default is true, but only an explicit setting survives a
		// change of default.
		if on, set := db.Bool("autoMinorVersionUpgrade"); !on || !set {
			return false, db.Name + ": automatic minor version upgrades are not explicitly on"
		}
		return true, db.Name + " takes minor versions in its maintenance window"
	})
}

func checkDBCopyTags(p *plan.Plan) []Result {
	return eachDB(p, func(db plan.Resource) (bool, string) {
		if on, _ := db.Bool("copyTagsToSnapshot"); !on {
			return false, db.Name + ": snapshots do not carry the instance's tags; set copyTagsToSnapshot"
		}
		return true, db.Name + " copies its tags to snapshots"
	})
}

func checkDBPort(p *plan.Plan) []Result {
	return eachDB(p, func(db plan.Resource) (bool, string) {
		// An unset port is the engine default.
		if port := number(db, "port"); port == 0 || port == mysqlDefaultPort {
			return false, fmt.Sprintf("%s listens on MySQL's default port %d; set data.port to another (1150..65535)", db.Name, mysqlDefaultPort)
		}
		return true, fmt.Sprintf("%s listens on %d", db.Name, number(db, "port"))
	})
}

// defaultAdminNames are the names the control treats as defaults.
var defaultAdminNames = []string{"admin", "root", "postgres"}

func checkDBAdminName(p *plan.Plan) []Result {
	dbs, na := dbInstances(p)
	if na != nil {
		return na
	}
	var out []Result
	for _, db := range dbs {
		if isReplica(db) {
			continue // a replica inherits the primary's users
		}
		user := db.String("username")
		if user == "" || slices.Contains(defaultAdminNames, strings.ToLower(user)) {
			out = append(out, fail(db, "%s: the admin user is %q, a name every scanner tries; set data.username", db.Name, user))
			continue
		}
		out = append(out, pass(db, "%s: admin user %q is custom", db.Name, user))
	}
	return out
}

// checkDBSecurityGroups looks at every rule of every group a DB instance
// uses, as a separate rule resource or inline: an ingress rule must name
// another security group, never an address range or prefix list, and the
// groups must have no egress at all.
func checkDBSecurityGroups(p *plan.Plan) []Result {
	dbs, na := dbInstances(p)
	if na != nil {
		return na
	}
	var out []Result
	seen := map[string]bool{}
	for _, db := range dbs {
		for _, id := range db.List("vpcSecurityGroupIds") {
			sgID, _ := id.(string)
			if seen[sgID] {
				continue
			}
			seen[sgID] = true
			sg, ok := p.ByID(sgID)
			if !ok || sg.Type != typeSG {
				out = append(out, fail(db, "%s uses security group %q that the stack does not declare, so its rules cannot be checked", db.Name, sgID))
				continue
			}
			out = append(out, checkDBGroup(p, sg))
		}
		if len(db.List("vpcSecurityGroupIds")) == 0 {
			out = append(out, fail(db, "%s names no security group and would get the VPC's default one", db.Name))
		}
	}
	return out
}

func checkDBGroup(p *plan.Plan, sg plan.Resource) Result {
	var problems []string
	sources := 0
	from := func(rule map[string]any, label string) {
		if ref, _ := rule["referencedSecurityGroupId"].(string); ref != "" {
			sources++
			return
		}
		if ref, _ := rule["sourceSecurityGroupId"].(string); ref != "" {
			sources++
			return
		}
		if groups, _ := rule["securityGroups"].([]any); len(groups) > 0 && len(cidrs(rule)) == 0 {
			sources++
			return
		}
		problems = append(problems, fmt.Sprintf("%s admits %v", label, cidrs(rule)))
	}
	for _, r := range p.OfType(typeSGIngress) {
		if r.String("securityGroupId") == sg.ID {
			from(r.Inputs, "rule "+r.Name)
		}
	}
	for _, r := range p.OfType(typeSGEgress) {
		if r.String("securityGroupId") == sg.ID {
			problems = append(problems, "egress rule "+r.Name+" lets the database open connections")
		}
	}
	for _, r := range p.OfType(typeSGRule) {
		if r.String("securityGroupId") != sg.ID {
			continue
		}
		if r.String("type") == "egress" {
			problems = append(problems, "egress rule "+r.Name+" lets the database open connections")
			continue
		}
		from(r.Inputs, "rule "+r.Name)
	}
	for i, rule := range sg.List("ingress") {
		if m, ok := rule.(map[string]any); ok {
			from(m, fmt.Sprintf("inline ingress %d", i))
		}
	}
	if len(sg.List("egress")) > 0 {
		problems = append(problems, "inline egress lets the database open connections")
	}
	if len(problems) > 0 {
		return fail(sg, "database group %s: %s", sg.Name, strings.Join(problems, "; "))
	}
	return pass(sg, "database group %s admits %d other security group(s) and nothing else, and has no egress", sg.Name, sources)
}

// cidrs returns the address ranges and prefix lists a rule names.
func cidrs(rule map[string]any) []any {
	var out []any
	for _, k := range []string{"cidrIpv4", "cidrIpv6", "prefixListId"} {
		if v, _ := rule[k].(string); v != "" {
			out = append(out, v)
		}
	}
	for _, k := range []string{"cidrBlocks", "ipv6CidrBlocks", "prefixListIds"} {
		if v, _ := rule[k].([]any); len(v) > 0 {
			out = append(out, v...)
		}
	}
	return out
}

// checkDataKeys: the database's storage and Performance Insights, and every
// SecureString parameter, name one of the stack's own KMS keys; left out,
// AWS uses its managed key, whose policy the stack cannot scope.
func checkDataKeys(p *plan.Plan) []Result {
	ours := map[string]bool{}
	for _, k := range p.OfType(typeKMSKey) {
		ours[k.ID] = true
	}
	ourKey := func(arn string) bool {
		_, id, ok := strings.Cut(arn, ":key/")
		return ok && ours[id]
	}
	var out []Result
	for _, db := range p.OfType(typeDBInstance) {
		var bad []string
		if !ourKey(db.String("kmsKeyId")) {
			bad = append(bad, fmt.Sprintf("storage key %q", db.String("kmsKeyId")))
		}
		if on, _ := db.Bool("performanceInsightsEnabled"); on && !ourKey(db.String("performanceInsightsKmsKeyId")) {
			bad = append(bad, fmt.Sprintf("Performance Insights key %q", db.String("performanceInsightsKmsKeyId")))
		}
		if on, _ := db.Bool("manageMasterUserPassword"); on && !ourKey(db.String("masterUserSecretKmsKeyId")) {
			bad = append(bad, fmt.Sprintf("master password secret key %q", db.String("masterUserSecretKmsKeyId")))
		}
		if len(bad) > 0 {
			out = append(out, fail(db, "%s: %s is not one of the stack's keys", db.Name, strings.Join(bad, ", ")))
			continue
		}
		out = append(out, pass(db, "%s encrypts with the stack's keys", db.Name))
	}
	for _, prm := range p.OfType(typeSSMParameter) {
		switch {
		case prm.String("type") != "SecureString":
			out = append(out, fail(prm, "parameter %s is a %s; store database settings as SecureString", prm.String("name"), prm.String("type")))
		case !ourKey(prm.String("keyId")):
			out = append(out, fail(prm, "parameter %s is encrypted with %q, not one of the stack's keys", prm.String("name"), prm.String("keyId")))
		default:
			out = append(out, pass(prm, "parameter %s is a SecureString under the stack's key", prm.String("name")))
		}
	}
	if len(out) == 0 {
		return []Result{notApplicable("the stack declares no RDS DB instance and no SSM parameter")}
	}
	return out
}
