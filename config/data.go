package config

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Data configures the WordPress database (wordpress:data).
type Data struct {
	// EngineVersion is the MySQL major version, "8.0" or "8.4" (the LTS).
	// RDS picks the newest minor version and upgrades it in the
	// maintenance window (autoMinorVersionUpgrade).
	EngineVersion string `json:"engineVersion"`
	// InstanceClass is the primary's class, e.g. db.m6g.large.
	InstanceClass string `json:"instanceClass"`
	// StorageType is gp3 or gp2.
	StorageType string `json:"storageType"`
	// AllocatedStorage is the initial storage in GiB.
	AllocatedStorage int `json:"allocatedStorage"`
	// MaxAllocatedStorage is the ceiling storage autoscaling may grow to,
	// in GiB.
	MaxAllocatedStorage int `json:"maxAllocatedStorage"`
	// Port is the port MySQL listens on.
	Port int `json:"port"`
	// DatabaseName is the schema WordPress uses.
	DatabaseName string `json:"databaseName"`
	// Username is the master (admin) user's name.
	Username string `json:"username"`
	// ManageMasterUserPassword lets RDS generate and rotate the master
	// password in Secrets Manager instead of taking wordpress:dbPassword.
	ManageMasterUserPassword bool `json:"manageMasterUserPassword"`
	// MultiAZ keeps a synchronous standby in another AZ.
	MultiAZ bool `json:"multiAz"`
	// BackupRetentionDays is how long automated backups are kept (0..35).
	BackupRetentionDays int `json:"backupRetentionDays"`
	// BackupWindow is the daily backup window, "hh:mm-hh:mm" UTC.
	BackupWindow string `json:"backupWindow"`
	// MaintenanceWindow is the weekly window, "ddd:hh:mm-ddd:hh:mm" UTC.
	MaintenanceWindow string `json:"maintenanceWindow"`
	// DeletionProtection refuses DeleteDBInstance until it is turned off.
	DeletionProtection bool `json:"deletionProtection"`
	// FinalSnapshot takes a snapshot when the database is deleted.
	FinalSnapshot bool `json:"finalSnapshot"`
	// LogExports are the MySQL logs sent to CloudWatch Logs: error,
	// slowquery, general, audit.
	LogExports []string `json:"logExports"`
	// LogRetentionDays is how long CloudWatch Logs keeps the exported
	// logs.
	LogRetentionDays int `json:"logRetentionDays"`
	// MonitoringInterval is the enhanced monitoring period in seconds; 0
	// turns it off.
	MonitoringInterval int `json:"monitoringInterval"`
	// PerformanceInsights turns on Performance Insights, encrypted with
	// the stack's database key.
	PerformanceInsights bool `json:"performanceInsights"`
	// PerformanceInsightsRetentionDays is 7 (free), 31 x months, or 731.
	PerformanceInsightsRetentionDays int `json:"performanceInsightsRetentionDays"`
	// ReadReplicas is how many read replicas to run, in AZs other than the
	// primary's.
	ReadReplicas int `json:"readReplicas"`
	// ReplicaInstanceClass is the replicas' class; empty means the
	// primary's.
	ReplicaInstanceClass string `json:"replicaInstanceClass"`
}

// DefaultData is the database a stack gets when it sets nothing: the
// hardened choice in every setting.
func DefaultData() Data {
	return Data{
		EngineVersion:                    "8.4",
		InstanceClass:                    "db.m6g.large",
		StorageType:                      "gp3",
		AllocatedStorage:                 20,
		MaxAllocatedStorage:              100,
		Port:                             3306,
		DatabaseName:                     "wordpress",
		Username:                         "wpmaster",
		MultiAZ:                          true,
		BackupRetentionDays:              14,
		BackupWindow:                     "03:00-04:00",
		MaintenanceWindow:                "sun:05:00-sun:06:00",
		DeletionProtection:               true,
		FinalSnapshot:                    true,
		LogExports:                       []string{"error", "slowquery"},
		LogRetentionDays:                 365,
		MonitoringInterval:               60,
		PerformanceInsights:              true,
		PerformanceInsightsRetentionDays: 7,
		ReadReplicas:                     0,
	}
}

// ReplicaClass is the instance class of the read replicas.
func (d Data) ReplicaClass() string {
	if d.ReplicaInstanceClass != "" {
		return d.ReplicaInstanceClass
	}
	return d.InstanceClass
}

// EngineVersions are the MySQL major versions offered: 8.0 and the 8.4
// long-term-support release (RDS guide, "MySQL on Amazon RDS versions").
// Each maps to its DB parameter group family.
var EngineVersions = map[string]string{"8.0": "mysql8.0", "8.4": "mysql8.4"}

// mysqlInstanceSizes are the instance classes RDS for MySQL offers, by
// family (RDS guide, "Supported DB engines for DB instance classes"). Every
// one of them supports Multi-AZ deployments for MySQL.
var mysqlInstanceSizes = map[string][]string{
	"db.t3":  {"micro", "small", "medium", "large", "xlarge", "2xlarge"},
	"db.t4g": {"micro", "small", "medium", "large", "xlarge", "2xlarge"},
	"db.m5":  {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"},
	"db.m6g": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"},
	"db.m6i": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"},
	"db.m7g": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"},
	"db.r5":  {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"},
	"db.r6g": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"},
	"db.r6i": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"},
	"db.r7g": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"},
}

// noPerformanceInsights are the MySQL classes Performance Insights (and
// Database Insights) does not support (RDS guide, "Amazon RDS DB engine,
// Region, and instance class support for Database Insights").
var noPerformanceInsights = []string{"db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"}

func mysqlClassExists(class string) bool {
	family, size, ok := cutLast(class, ".")
	return ok && slices.Contains(mysqlInstanceSizes[family], size)
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// Storage limits of General Purpose SSD for RDS for MySQL, in GiB (RDS
// guide, "Amazon RDS DB instance storage").
const (
	minStorageGiB = 20
	maxStorageGiB = 65536
)

// StorageTypes are the storage types offered. Provisioned IOPS (io1, io2)
// need an IOPS setting this program does not expose.
var StorageTypes = []string{"gp3", "gp2"}

// MonitoringIntervals are the enhanced monitoring periods RDS accepts
// (CreateDBInstance, MonitoringInterval).
var MonitoringIntervals = []int{0, 1, 5, 10, 15, 30, 60}

// LogTypes are the logs RDS for MySQL exports to CloudWatch Logs (RDS
// guide, "Publishing MySQL logs to Amazon CloudWatch Logs").
var LogTypes = []string{"audit", "error", "general", "slowquery"}

// maxBackupRetentionDays is RDS's limit (CreateDBInstance,
// BackupRetentionPeriod: 0..35).
const maxBackupRetentionDays = 35

// minProductionBackupDays is what a production stack keeps at least, the
// default of Security Hub's RDS.11.
const minProductionBackupDays = 7

// maxReadReplicas is RDS for MySQL's limit of read replicas per source
// (RDS guide, "Working with DB instance read replicas": up to 15).
const maxReadReplicas = 15

// validPIRetention reports whether days is a Performance Insights
// retention RDS accepts: 7, a multiple of 31 up to 23 months, or 731
// (CreateDBInstance, PerformanceInsightsRetentionPeriod).
func validPIRetention(days int) bool {
	return days == 7 || days == 731 || (days%31 == 0 && days >= 31 && days <= 713)
}

// Name rules of RDS for MySQL (CreateDBInstance): DBName is 1..64 letters,
// digits and underscores starting with a letter; MasterUsername is 1..16
// letters or digits starting with a letter.
var (
	dbNamePattern   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	usernamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,15}$`)
	// DBInstanceIdentifier: 1..63 letters, digits or hyphens, starting
	// with a letter, no two consecutive hyphens, not ending in a hyphen.
	// RDS stores it in lower case and the subnet and parameter group names
	// made from it must be lower case, so upper case is refused here
	// rather than changed behind the stack's back.
	identifierPattern = regexp.MustCompile(`^[a-z](?:-?[a-z0-9])*$`)
	backupWindowRE    = regexp.MustCompile(`^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$`)
	maintWindowRE     = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$`)
)

// reservedUsernames are names RDS for MySQL keeps for itself or that MySQL
// reserves (RDS guide, "Master user account privileges": rdsadmin and
// friends exist on every instance).
var reservedUsernames = []string{"rdsadmin", "rdsrepladmin", "rdsproxyadmin", "root", "mysql"}

// MySQL's port range on RDS (CreateDBInstance, Port: 1150..65535).
const (
	minDBPort = 1150
	maxDBPort = 65535
)

// DBIdentifier is the RDS instance identifier of the primary; replica i
// (from 1) is DBIdentifier + "-replica-i".
func (c *Config) DBIdentifier() string { return c.Project + "-" + c.Stack + "-db" }

// ReplicaIdentifier is the identifier of read replica i, counted from 1.
func (c *Config) ReplicaIdentifier(i int) string {
	return fmt.Sprintf("%s-replica-%d", c.DBIdentifier(), i)
}

func (c *Config) validateData(p *Problems) {
	d := c.Data
	if _, ok := EngineVersions[d.EngineVersion]; !ok {
		p.addf("data.engineVersion: must be \"8.0\" or \"8.4\" (the LTS), got %q", d.EngineVersion)
	}
	checkClass := func(key, class string, pi bool) {
		if !mysqlClassExists(class) {
			p.addf("data.%s: %q is not an RDS for MySQL instance class; use one such as db.t4g.micro, db.t4g.medium, db.m6g.large or db.r6g.large", key, class)
			return
		}
		if pi && slices.Contains(noPerformanceInsights, class) {
			p.addf("data.%s: %s does not support Performance Insights; use db.t4g.medium or larger, or set data.performanceInsights to false", key, class)
		}
	}
	checkClass("instanceClass", d.InstanceClass, d.PerformanceInsights)
	if d.ReplicaInstanceClass != "" {
		checkClass("replicaInstanceClass", d.ReplicaInstanceClass, d.PerformanceInsights)
	}
	if !slices.Contains(StorageTypes, d.StorageType) {
		p.addf("data.storageType: must be \"gp3\" or \"gp2\", got %q", d.StorageType)
	}
	if d.AllocatedStorage < minStorageGiB || d.AllocatedStorage > maxStorageGiB {
		p.addf("data.allocatedStorage: RDS for MySQL takes %d..%d GiB of General Purpose storage, got %d", minStorageGiB, maxStorageGiB, d.AllocatedStorage)
	}
	// Storage autoscaling grows by at least 10 GiB or 10% at a time (RDS
	// guide, "Managing capacity automatically with Amazon RDS storage
	// autoscaling"), so a ceiling closer than that is never reached.
	switch minMax := d.AllocatedStorage + max(10, d.AllocatedStorage/10); {
	case d.MaxAllocatedStorage > maxStorageGiB:
		p.addf("data.maxAllocatedStorage: RDS for MySQL storage stops at %d GiB, got %d", maxStorageGiB, d.MaxAllocatedStorage)
	case d.MaxAllocatedStorage < minMax:
		p.addf("data.maxAllocatedStorage: must be at least %d GiB (data.allocatedStorage %d plus one autoscaling step of 10 GiB or 10%%), got %d", minMax, d.AllocatedStorage, d.MaxAllocatedStorage)
	}
	if d.Port < minDBPort || d.Port > maxDBPort {
		p.addf("data.port: RDS for MySQL listens on %d..%d, got %d", minDBPort, maxDBPort, d.Port)
	}
	if !dbNamePattern.MatchString(d.DatabaseName) {
		p.addf("data.databaseName: %q must be 1..64 letters, digits or underscores, starting with a letter (RDS for MySQL DBName)", d.DatabaseName)
	}
	switch {
	case !usernamePattern.MatchString(d.Username):
		p.addf("data.username: %q must be 1..16 letters or digits, starting with a letter (RDS for MySQL MasterUsername)", d.Username)
	case slices.Contains(reservedUsernames, strings.ToLower(d.Username)):
		p.addf("data.username: %q is reserved by RDS or MySQL; choose another admin name", d.Username)
	}
	if d.BackupRetentionDays < 0 || d.BackupRetentionDays > maxBackupRetentionDays {
		p.addf("data.backupRetentionDays: RDS keeps backups 0..%d days, got %d", maxBackupRetentionDays, d.BackupRetentionDays)
	}
	if c.Production() && d.BackupRetentionDays < minProductionBackupDays {
		p.addf("data.backupRetentionDays: a production stack keeps backups at least %d days, got %d", minProductionBackupDays, d.BackupRetentionDays)
	}
	if d.ReadReplicas < 0 || d.ReadReplicas > maxReadReplicas {
		p.addf("data.readReplicas: RDS for MySQL allows 0..%d read replicas, got %d", maxReadReplicas, d.ReadReplicas)
	}
	// RDS refuses a read replica of a source without automated backups
	// (CreateDBInstanceReadReplica).
	if d.ReadReplicas > 0 && d.BackupRetentionDays == 0 {
		p.addf("data.readReplicas is %d but data.backupRetentionDays is 0; RDS needs backups on the source of a read replica: set data.backupRetentionDays to 1 or more", d.ReadReplicas)
	}
	if !slices.Contains(MonitoringIntervals, d.MonitoringInterval) {
		p.addf("data.monitoringInterval: RDS accepts %v seconds (0 turns enhanced monitoring off), got %d", MonitoringIntervals, d.MonitoringInterval)
	}
	if d.PerformanceInsights && !validPIRetention(d.PerformanceInsightsRetentionDays) {
		p.addf("data.performanceInsightsRetentionDays: RDS accepts 7, 31 x months (31..713) or 731, got %d", d.PerformanceInsightsRetentionDays)
	}
	seen := map[string]bool{}
	for i, l := range d.LogExports {
		if !slices.Contains(LogTypes, l) {
			p.addf("data.logExports[%d]: RDS for MySQL exports %s, got %q", i, strings.Join(LogTypes, ", "), l)
		}
		if seen[l] {
			p.addf("data.logExports[%d]: %q is listed twice", i, l)
		}
		seen[l] = true
	}
	if len(d.LogExports) > 0 && !validRetention(d.LogRetentionDays) {
		p.addf("data.logRetentionDays: CloudWatch Logs accepts %v, got %d", RetentionDays, d.LogRetentionDays)
	}
	c.validateWindows(p)
	for _, id := range []string{c.DBIdentifier(), c.ReplicaIdentifier(max(d.ReadReplicas, 1))} {
		if len(id) > 63 || !identifierPattern.MatchString(id) {
			p.addf("the database identifier %q (from the project and stack names) breaks RDS's rule: 1..63 lowercase letters, digits or hyphens, starting with a letter, no two hyphens in a row, not ending in a hyphen", id)
			break
		}
	}

	if !d.ManageMasterUserPassword {
		c.requireSecret("dbPassword", &c.DBPassword, "it is the database master password (or set data.manageMasterUserPassword: true to let RDS keep one in Secrets Manager)", p)
		if c.DBPassword.IsSet() && !c.DBPassword.Placeholder() {
			for _, why := range passwordProblems(c.DBPassword.Reveal()) {
				p.addf("%s:dbPassword: %s; set a stronger one with `pulumi config set --secret %s:dbPassword <value> -s %s`", c.Project, why, c.Project, c.Stack)
			}
		}
	} else if c.DBPassword.IsSet() {
		p.addf("%s:dbPassword: is set but data.manageMasterUserPassword is true, so RDS would ignore it; remove it with `pulumi config rm %s:dbPassword -s %s`, or turn the switch off", c.Project, c.Project, c.Stack)
	}
}

// minPasswordLength is the project's floor; RDS allows 8.
const minPasswordLength = 16

// maxPasswordLength is RDS for MySQL's limit (CreateDBInstance,
// MasterUserPassword: 8..41 characters).
const maxPasswordLength = 41

// passwordProblems says what is wrong with a master password, never
// quoting it.
func passwordProblems(pw string) []string {
	var out []string
	n := len([]rune(pw))
	if n < minPasswordLength || n > maxPasswordLength {
		out = append(out, fmt.Sprintf("the password has %d characters; use %d..%d (RDS for MySQL stops at %d)", n, minPasswordLength, maxPasswordLength, maxPasswordLength))
	}
	var lower, upper, digit, bad bool
	for _, r := range pw {
		switch {
		// RDS refuses "/", "@", '"' and spaces, and anything outside
		// printable ASCII (CreateDBInstance, MasterUserPassword).
		case r == '/' || r == '@' || r == '"' || r == ' ' || r > unicode.MaxASCII || !unicode.IsPrint(r):
			bad = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		}
	}
	if bad {
		out = append(out, `the password contains a character RDS refuses: "/", "@", '"', a space, or one outside printable ASCII`)
	}
	if !lower || !upper || !digit {
		out = append(out, "the password needs lower-case letters, upper-case letters and digits")
	}
	return out
}

var weekdays = map[string]int{"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

// validateWindows checks the backup and maintenance windows as RDS does
// (CreateDBInstance, PreferredBackupWindow / PreferredMaintenanceWindow):
// UTC, at least 30 minutes each, and not overlapping.
func (c *Config) validateWindows(p *Problems) {
	const day, week = 24 * 60, 7 * 24 * 60
	d := c.Data
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	b := backupWindowRE.FindStringSubmatch(d.BackupWindow)
	if b == nil {
		p.addf("data.backupWindow: must be \"hh:mm-hh:mm\" in UTC, e.g. \"03:00-04:00\", got %q", d.BackupWindow)
	}
	m := maintWindowRE.FindStringSubmatch(d.MaintenanceWindow)
	if m == nil {
		p.addf("data.maintenanceWindow: must be \"ddd:hh:mm-ddd:hh:mm\" in UTC, e.g. \"sun:05:00-sun:06:00\", got %q", d.MaintenanceWindow)
	}
	var bStart, bLen int
	if b != nil {
		bStart = atoi(b[1])*60 + atoi(b[2])
		bLen = (atoi(b[3])*60 + atoi(b[4]) - bStart + day) % day
		if bLen < 30 {
			p.addf("data.backupWindow: RDS needs at least 30 minutes, %q has %d", d.BackupWindow, bLen)
		}
	}
	var mStart, mLen int
	if m != nil {
		mStart = weekdays[m[1]]*day + atoi(m[2])*60 + atoi(m[3])
		mLen = (weekdays[m[4]]*day + atoi(m[5])*60 + atoi(m[6]) - mStart + week) % week
		if mLen < 30 {
			p.addf("data.maintenanceWindow: RDS needs at least 30 minutes, %q has %d", d.MaintenanceWindow, mLen)
		}
	}
	if b == nil || m == nil {
		return
	}
	// On the circle of a week, the daily backup window meets the weekly
	// maintenance window if any day's copy overlaps it.
	overlaps := func(a, aLen, b, bLen int) bool {
		for _, shift := range []int{-week, 0, week} {
			if a < b+shift+bLen && b+shift < a+aLen {
				return true
			}
		}
		return false
	}
	for wd := range 7 {
		if overlaps(wd*day+bStart, bLen, mStart, mLen) {
			p.addf("data.backupWindow %q overlaps data.maintenanceWindow %q; RDS refuses overlapping windows", d.BackupWindow, d.MaintenanceWindow)
			return
		}
	}
}
