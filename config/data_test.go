package config_test

import (
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/config"
)

// strongPassword passes every rule; tests build weak ones from it.
const strongPassword = "Kx7-vQ2#mW9!pL4$zR8"

func dataRaw(data string, extra ...string) map[string]string {
	return raw("", append([]string{"wordpress:data", data}, extra...)...)
}

func TestBadDatabaseSettingsAreRefusedWithTheirRule(t *testing.T) {
	cases := []struct {
		name, data, want string
	}{
		{"engine version", `{"engineVersion":"5.7"}`, `data.engineVersion: must be "8.0" or "8.4" (the LTS), got "5.7"`},
		{"class that does not exist", `{"instanceClass":"db.t4g.huge"}`, `data.instanceClass: "db.t4g.huge" is not an RDS for MySQL instance class`},
		{"EC2 class", `{"instanceClass":"m6g.large"}`, `is not an RDS for MySQL instance class`},
		{"Performance Insights on a micro", `{"instanceClass":"db.t4g.micro","performanceInsights":true}`, `data.instanceClass: db.t4g.micro does not support Performance Insights`},
		{"replica class", `{"readReplicas":1,"replicaInstanceClass":"db.x9.large"}`, `data.replicaInstanceClass: "db.x9.large" is not an RDS for MySQL instance class`},
		{"storage too small", `{"allocatedStorage":10}`, `data.allocatedStorage: RDS for MySQL takes 20..65536 GiB of General Purpose storage, got 10`},
		{"storage too large", `{"allocatedStorage":70000,"maxAllocatedStorage":70000}`, `got 70000`},
		{"max below allocated", `{"allocatedStorage":100,"maxAllocatedStorage":50}`, `data.maxAllocatedStorage: must be at least 110 GiB (data.allocatedStorage 100 plus one autoscaling step`},
		{"max equal to allocated", `{"allocatedStorage":20,"maxAllocatedStorage":20}`, `must be at least 30 GiB`},
		{"max beyond the limit", `{"maxAllocatedStorage":70000}`, `data.maxAllocatedStorage: RDS for MySQL storage stops at 65536 GiB, got 70000`},
		{"storage type", `{"storageType":"io1"}`, `data.storageType: must be "gp3" or "gp2", got "io1"`},
		{"port too low", `{"port":80}`, `data.port: RDS for MySQL listens on 1150..65535, got 80`},
		{"backup retention too long", `{"backupRetentionDays":36}`, `data.backupRetentionDays: RDS keeps backups 0..35 days, got 36`},
		{"production backups too short", `{"backupRetentionDays":3}`, `data.backupRetentionDays: a production stack keeps backups at least 7 days, got 3`},
		{"replicas without backups", `{"readReplicas":1,"backupRetentionDays":0}`, `data.readReplicas is 1 but data.backupRetentionDays is 0; RDS needs backups on the source of a read replica`},
		{"too many replicas", `{"readReplicas":16}`, `data.readReplicas: RDS for MySQL allows 0..15 read replicas, got 16`},
		{"monitoring interval", `{"monitoringInterval":20}`, `data.monitoringInterval: RDS accepts [0 1 5 10 15 30 60] seconds (0 turns enhanced monitoring off), got 20`},
		{"PI retention", `{"performanceInsightsRetentionDays":30}`, `data.performanceInsightsRetentionDays: RDS accepts 7, 31 x months (31..713) or 731, got 30`},
		{"log type", `{"logExports":["error","slow"]}`, `data.logExports[1]: RDS for MySQL exports audit, error, general, slowquery, got "slow"`},
		{"database name", `{"databaseName":"word-press"}`, `data.databaseName: "word-press" must be 1..64 letters, digits or underscores, starting with a letter`},
		{"user name too long", `{"username":"wordpressadministrator"}`, `data.username: "wordpressadministrator" must be 1..16 letters or digits, starting with a letter`},
		{"user name with a symbol", `{"username":"wp_admin"}`, `must be 1..16 letters or digits`},
		{"reserved user name", `{"username":"rdsadmin"}`, `data.username: "rdsadmin" is reserved by RDS or MySQL`},
		{"backup window format", `{"backupWindow":"3:00-4:00"}`, `data.backupWindow: must be "hh:mm-hh:mm" in UTC`},
		{"backup window too short", `{"backupWindow":"03:00-03:15"}`, `data.backupWindow: RDS needs at least 30 minutes, "03:00-03:15" has 15`},
		{"maintenance window format", `{"maintenanceWindow":"sunday:05:00-sunday:06:00"}`, `data.maintenanceWindow: must be "ddd:hh:mm-ddd:hh:mm" in UTC`},
		{"windows overlap", `{"backupWindow":"05:30-06:30","maintenanceWindow":"sun:05:00-sun:06:00"}`, `data.backupWindow "05:30-06:30" overlaps data.maintenanceWindow "sun:05:00-sun:06:00"`},
		{"windows overlap across midnight", `{"backupWindow":"23:30-00:30","maintenanceWindow":"mon:00:00-mon:01:00"}`, `overlaps data.maintenanceWindow`},
		{"unknown setting", `{"multiAZ":true}`, `data.multiAZ: unknown setting (did you mean "multiAz"?)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := problems(t, dataRaw(c.data))
			if !strings.Contains(p.Error(), c.want) {
				t.Errorf("problems:\n%v\nwant one containing %q", p, c.want)
			}
		})
	}
}

func TestWindowsThatDoNotOverlapAreAccepted(t *testing.T) {
	for _, data := range []string{
		`{"backupWindow":"03:00-04:00","maintenanceWindow":"sun:05:00-sun:06:00"}`,
		`{"backupWindow":"22:00-23:30","maintenanceWindow":"sat:23:30-sun:01:00"}`,
	} {
		if _, err := config.Load(dataRaw(data), "wordpress", "test", config.Offline()); err != nil {
			t.Errorf("%s: %v", data, err)
		}
	}
}

func TestTheDefaultsAreAValidProductionDatabase(t *testing.T) {
	cfg, err := config.Load(raw(""), "wordpress", "prod", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Data
	if !d.MultiAZ || !d.DeletionProtection || !d.FinalSnapshot || d.MonitoringInterval == 0 || !d.PerformanceInsights || d.BackupRetentionDays < 7 {
		t.Errorf("default database is not hardened: %+v", d)
	}
}

func TestTheMasterPasswordMustBeAStrongSecret(t *testing.T) {
	weak := []struct {
		name, password, want string
	}{
		{"too short", "Ab1-short", "the password has 9 characters; use 16..41"},
		{"too long", strings.Repeat("Ab1x", 11), "the password has 44 characters; use 16..41 (RDS for MySQL stops at 41)"},
		{"a slash", "Kx7/vQ2mW9pL4zR8ab", `a character RDS refuses: "/", "@", '"', a space`},
		{"an at sign", "Kx7@vQ2mW9pL4zR8ab", "a character RDS refuses"},
		{"a double quote", `Kx7"vQ2mW9pL4zR8ab`, "a character RDS refuses"},
		{"a space", "Kx7 vQ2mW9pL4zR8ab", "a character RDS refuses"},
		{"not ASCII", "Kx7ñvQ2mW9pL4zR8ab", "a character RDS refuses"},
		{"no upper case", "kx7-vq2#mw9!pl4$zr8", "the password needs lower-case letters, upper-case letters and digits"},
		{"no digit", "Kxa-vQb#mWc!pLd$zRe", "the password needs lower-case letters, upper-case letters and digits"},
	}
	for _, c := range weak {
		t.Run(c.name, func(t *testing.T) {
			r := raw("", "wordpress:dbPassword", c.password)
			_, err := config.Load(r, "wordpress", "prod", config.WithSecretKeys("wordpress:dbPassword"))
			if err == nil {
				t.Fatal("weak password accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.Contains(msg, "pulumi config set --secret wordpress:dbPassword <value> -s prod") {
				t.Errorf("error = %v\nwant %q and the command to run", msg, c.want)
			}
			if strings.Contains(msg, c.password) {
				t.Errorf("the error shows the password: %v", msg)
			}
		})
	}
	r := raw("", "wordpress:dbPassword", strongPassword)
	cfg, err := config.Load(r, "wordpress", "prod", config.WithSecretKeys("wordpress:dbPassword"))
	if err != nil {
		t.Fatalf("strong password refused: %v", err)
	}
	if got := cfg.DBPassword.String(); got != config.SecretPlaceholder {
		t.Errorf("the password prints as %q", got)
	}
}

func TestAPasswordInClearTextIsRefusedWithoutShowingIt(t *testing.T) {
	_, err := config.Load(raw("", "wordpress:dbPassword", strongPassword), "wordpress", "prod")
	if err == nil || !strings.Contains(err.Error(), "wordpress:dbPassword: is stored in clear text in Pulumi.prod.yaml") ||
		!strings.Contains(err.Error(), "pulumi config set --secret wordpress:dbPassword <value> -s prod") {
		t.Errorf("err = %v", err)
	}
	if err != nil && strings.Contains(err.Error(), strongPassword) {
		t.Errorf("the error shows the password: %v", err)
	}
}

func TestAMissingPasswordNamesTheCommandUnderTheEngineOnly(t *testing.T) {
	_, err := config.Load(raw(""), "wordpress", "prod")
	if err == nil || !strings.Contains(err.Error(), "wordpress:dbPassword: not set; it is the database master password") ||
		!strings.Contains(err.Error(), "Run `pulumi config set --secret wordpress:dbPassword <value> -s prod`") {
		t.Errorf("err = %v", err)
	}
	// Offline, the plan goes on with the placeholder.
	cfg, err := config.Load(raw(""), "wordpress", "prod", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.DBPassword.Placeholder() {
		t.Error("offline, a missing password is not the placeholder")
	}
}

func TestRDSManagedPasswordNeedsNoStackSecret(t *testing.T) {
	managed := `{"manageMasterUserPassword":true}`
	if _, err := config.Load(dataRaw(managed), "wordpress", "prod"); err != nil {
		t.Errorf("managed password still asks for dbPassword: %v", err)
	}
	_, err := config.Load(dataRaw(managed, "wordpress:dbPassword", strongPassword), "wordpress", "prod", config.WithSecretKeys("wordpress:dbPassword"))
	if err == nil || !strings.Contains(err.Error(), "wordpress:dbPassword: is set but data.manageMasterUserPassword is true") {
		t.Errorf("err = %v", err)
	}
}

func TestDatabaseIdentifiersFollowRDSRules(t *testing.T) {
	// A project name with a trailing hyphen makes "x--prod-db".
	_, err := config.Load(map[string]string{"aws:region": "us-east-1"}, "x-", "prod", config.Offline())
	if err == nil || !strings.Contains(err.Error(), `the database identifier "x--prod-db" (from the project and stack names) breaks RDS's rule`) {
		t.Errorf("err = %v", err)
	}
	_, err = config.Load(map[string]string{"aws:region": "us-east-1"}, "WordPress", "prod", config.Offline())
	if err == nil || !strings.Contains(err.Error(), `"WordPress-prod-db"`) {
		t.Errorf("err = %v", err)
	}
}

// FuzzDataConfig checks that any database setting is either refused with
// problems or describes a database AWS accepts.
func FuzzDataConfig(f *testing.F) {
	f.Add(`{}`)
	f.Add(`{"instanceClass":"db.t4g.micro","performanceInsights":false,"multiAz":false,"readReplicas":2}`)
	f.Add(`{"allocatedStorage":100,"maxAllocatedStorage":110,"backupRetentionDays":35}`)
	f.Add(`{"backupWindow":"23:30-00:30","maintenanceWindow":"mon:01:00-mon:02:00","logExports":["audit"]}`)
	f.Fuzz(func(t *testing.T, data string) {
		cfg, err := config.Load(dataRaw(data), "wordpress", "fuzz", config.Offline())
		if err != nil {
			return
		}
		d := cfg.Data
		switch {
		case d.MaxAllocatedStorage <= d.AllocatedStorage || d.AllocatedStorage < 20 || d.MaxAllocatedStorage > 65536:
			t.Fatalf("storage %d..%d accepted", d.AllocatedStorage, d.MaxAllocatedStorage)
		case d.BackupRetentionDays < 7 || d.BackupRetentionDays > 35:
			t.Fatalf("production backup retention %d accepted", d.BackupRetentionDays)
		case d.ReadReplicas < 0 || d.ReadReplicas > 15:
			t.Fatalf("%d replicas accepted", d.ReadReplicas)
		case d.Port < 1150 || d.Port > 65535:
			t.Fatalf("port %d accepted", d.Port)
		case config.EngineVersions[d.EngineVersion] == "":
			t.Fatalf("engine version %q accepted", d.EngineVersion)
		case len(cfg.ReplicaIdentifier(max(d.ReadReplicas, 1))) > 63:
			t.Fatalf("identifier %q accepted", cfg.ReplicaIdentifier(d.ReadReplicas))
		}
	})
}
