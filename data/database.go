package data

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	awsiam "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/iam"
)

// DatabaseArgs describe the WordPress database. Platform fills them from
// the validated stack config (config.Data); nothing here reads config.
type DatabaseArgs struct {
	Env account.Env
	// Identifier is the primary's DB instance identifier; replica i (from
	// 1) is "<Identifier>-replica-<i>".
	Identifier string
	// SubnetIDs are the data tier's subnets, one per AZ, and
	// AvailabilityZones their zones, in the same order.
	SubnetIDs         pulumi.StringArrayInput
	AvailabilityZones []string
	// SecurityGroupID is the database's group. It is made, with its
	// ingress from the tasks and the bastion, by package security before
	// this tier and the compute tier, so that neither tier needs the
	// other's groups.
	SecurityGroupID pulumi.StringInput
	// KeyARN encrypts storage, snapshots, replicas and Performance
	// Insights; ParametersKeyARN the SecureString parameters (and the
	// RDS-managed secret).
	KeyARN           pulumi.StringInput
	ParametersKeyARN pulumi.StringInput
	// ParameterPath is where the settings go in Parameter Store, with
	// leading and trailing slashes: "/<project>/<stack>/db/".
	ParameterPath string

	// EngineVersion is "8.0" or "8.4"; ParameterGroupFamily matches it
	// ("mysql8.4").
	EngineVersion        string
	ParameterGroupFamily string
	InstanceClass        string
	ReplicaInstanceClass string
	StorageType          string
	AllocatedStorage     int
	MaxAllocatedStorage  int
	Port                 int
	DatabaseName         string
	Username             string
	// Password is the master password, a Pulumi secret; unused when
	// ManageMasterUserPassword is on.
	Password                 pulumi.StringInput
	ManageMasterUserPassword bool

	MultiAZ             bool
	BackupRetentionDays int
	BackupWindow        string
	MaintenanceWindow   string
	DeletionProtection  bool
	FinalSnapshot       bool
	// LogExports are MySQL log types sent to CloudWatch Logs, into groups
	// made here with LogRetentionDays and encrypted with LogsKeyARN.
	LogExports       []string
	LogRetentionDays int
	LogsKeyARN       pulumi.StringInput
	// MonitoringInterval is the enhanced monitoring period in seconds (0:
	// off).
	MonitoringInterval               int
	PerformanceInsights              bool
	PerformanceInsightsRetentionDays int
	ReadReplicas                     int
	Tags                             map[string]string
}

// Database is the RDS MySQL primary, its read replicas and the settings
// WordPress reads from Parameter Store.
type Database struct {
	pulumi.ResourceState

	// Address is the primary's endpoint host.
	Address pulumi.StringOutput
	// Port is the port MySQL listens on.
	Port int
	// Name is the database (schema) name.
	Name string
	// Identifier is the primary's DB instance identifier (for alarms).
	Identifier pulumi.StringOutput
	// ReplicaIdentifiers and ReplicaAddresses are the read replicas' ids
	// and endpoint hosts, in order.
	ReplicaIdentifiers pulumi.StringArrayOutput
	ReplicaAddresses   pulumi.StringArrayOutput
	// Parameters are the settings in Parameter Store.
	Parameters DBParameters
}

// DBParameters are what the WordPress task definition injects as `secrets`
// (valueFrom ARNs).
type DBParameters struct {
	HostARN, PortARN, NameARN, UserARN, PasswordARN pulumi.StringOutput
	// PasswordFromSecretsManager is true when manageMasterUserPassword is
	// on: PasswordARN is then the RDS-managed secret's ARN with the JSON
	// key suffix (`<arn>:password::`), which ECS accepts as valueFrom.
	PasswordFromSecretsManager bool
	// ParameterPathARN is the ARN prefix of every parameter (for IAM:
	// ssm:GetParameters on it).
	ParameterPathARN string
}

// RDSLogGroupPrefix starts the name of every log group RDS exports an
// instance's logs to: "/aws/rds/instance/<identifier>/<log type>" (RDS
// guide, "Publishing MySQL logs to Amazon CloudWatch Logs").
const RDSLogGroupPrefix = "/aws/rds/instance/"

// Log types that need a server setting before RDS has anything to export
// (RDS guide, "MySQL database log files").
const (
	logGeneral   = "general"
	logSlowQuery = "slowquery"
	logAudit     = "audit"
)

// NewDatabase declares the database: subnet group on the data tier,
// parameter group that refuses unencrypted connections, the primary, its
// read replicas, the enhanced monitoring role and the parameters.
func NewDatabase(ctx *pulumi.Context, name string, args DatabaseArgs, opts ...pulumi.ResourceOption) (*Database, error) {
	if args.ReadReplicas > 0 && len(args.AvailabilityZones) < 2 {
		return nil, fmt.Errorf("database %s: read replicas need a second AZ", name)
	}
	if !args.ManageMasterUserPassword && args.Password == nil {
		return nil, fmt.Errorf("database %s: a password is required unless ManageMasterUserPassword is on", name)
	}
	d := &Database{Port: args.Port, Name: args.DatabaseName}
	if err := ctx.RegisterComponentResource("wordpress:data:Database", name, d, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(d)
	tags := func(n string) pulumi.StringMap {
		t := pulumi.ToStringMap(args.Tags)
		t["Name"] = pulumi.String(n)
		return t
	}

	subnets, err := rds.NewSubnetGroup(ctx, name, &rds.SubnetGroupArgs{
		Name:        pulumi.String(args.Identifier),
		Description: pulumi.String("Data tier of " + name + ": no route out of the VPC"),
		SubnetIds:   args.SubnetIDs,
		Tags:        tags(name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("database subnet group: %w", err)
	}

	params, err := rds.NewParameterGroup(ctx, name, &rds.ParameterGroupArgs{
		Name:        pulumi.String(args.Identifier + "-mysql" + versionSuffix(args.EngineVersion)),
		Family:      pulumi.String(args.ParameterGroupFamily),
		Description: pulumi.String("WordPress MySQL settings of " + name + ": TLS only"),
		Parameters:  serverParameters(args.LogExports),
		Tags:        tags(name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("database parameter group: %w", err)
	}

	var optionGroup pulumi.StringPtrInput
	if slices.Contains(args.LogExports, logAudit) {
		og, err := auditOptionGroup(ctx, name, args, tags(name), parent)
		if err != nil {
			return nil, err
		}
		optionGroup = og.Name
	}

	var monitoringRole pulumi.StringPtrInput
	var after []pulumi.Resource
	if args.MonitoringInterval > 0 {
		role, attachment, err := monitoringRoleFor(ctx, name, args.Env, args.Tags, parent)
		if err != nil {
			return nil, err
		}
		monitoringRole = role.Arn
		// The role must carry its policy before RDS first uses it.
		after = append(after, attachment)
	}

	// The log groups RDS exports to, made first: RDS would otherwise make
	// them itself, unencrypted and kept forever, and the general log holds
	// every query WordPress runs.
	logGroups := func(id string) ([]pulumi.Resource, error) {
		var out []pulumi.Resource
		for _, l := range args.LogExports {
			g, err := cloudwatch.NewLogGroup(ctx, id+"-"+l, &cloudwatch.LogGroupArgs{
				Name:            pulumi.String(RDSLogGroupPrefix + id + "/" + l),
				RetentionInDays: pulumi.Int(args.LogRetentionDays),
				KmsKeyId:        args.LogsKeyARN,
				Tags:            pulumi.ToStringMap(args.Tags),
			}, parent)
			if err != nil {
				return nil, fmt.Errorf("log group %s of %s: %w", l, id, err)
			}
			out = append(out, g)
		}
		return out, nil
	}

	// Settings the primary and the replicas share.
	common := func(a *rds.InstanceArgs) *rds.InstanceArgs {
		a.Engine = pulumi.String("mysql")
		a.StorageType = pulumi.String(args.StorageType)
		a.MaxAllocatedStorage = pulumi.Int(args.MaxAllocatedStorage)
		a.StorageEncrypted = pulumi.Bool(true)
		a.KmsKeyId = args.KeyARN
		a.DbSubnetGroupName = subnets.Name
		a.VpcSecurityGroupIds = pulumi.StringArray{args.SecurityGroupID}
		a.PubliclyAccessible = pulumi.Bool(false)
		a.Port = pulumi.Int(args.Port)
		a.ParameterGroupName = params.Name
		a.OptionGroupName = optionGroup
		a.AutoMinorVersionUpgrade = pulumi.Bool(true)
		a.CopyTagsToSnapshot = pulumi.Bool(true)
		a.DeletionProtection = pulumi.Bool(args.DeletionProtection)
		a.BackupRetentionPeriod = pulumi.Int(args.BackupRetentionDays)
		a.IamDatabaseAuthenticationEnabled = pulumi.Bool(true)
		a.EnabledCloudwatchLogsExports = pulumi.ToStringArray(args.LogExports)
		a.MonitoringInterval = pulumi.Int(args.MonitoringInterval)
		a.MonitoringRoleArn = monitoringRole
		a.PerformanceInsightsEnabled = pulumi.Bool(args.PerformanceInsights)
		if args.PerformanceInsights {
			a.PerformanceInsightsKmsKeyId = args.KeyARN
			a.PerformanceInsightsRetentionPeriod = pulumi.Int(args.PerformanceInsightsRetentionDays)
		}
		return a
	}

	primaryArgs := common(&rds.InstanceArgs{
		Identifier:        pulumi.String(args.Identifier),
		EngineVersion:     pulumi.String(args.EngineVersion),
		InstanceClass:     pulumi.String(args.InstanceClass),
		AllocatedStorage:  pulumi.Int(args.AllocatedStorage),
		DbName:            pulumi.String(args.DatabaseName),
		Username:          pulumi.String(args.Username),
		MultiAz:           pulumi.Bool(args.MultiAZ),
		BackupWindow:      pulumi.String(args.BackupWindow),
		MaintenanceWindow: pulumi.String(args.MaintenanceWindow),
		SkipFinalSnapshot: pulumi.Bool(!args.FinalSnapshot),
		// A stack that keeps a final snapshot keeps the automated backups
		// too, so a deleted database can be restored to any point in its
		// retention period, not only to its last moment.
		DeleteAutomatedBackups: pulumi.Bool(!args.FinalSnapshot),
		Tags:                   tags(args.Identifier),
	})
	if args.FinalSnapshot {
		primaryArgs.FinalSnapshotIdentifier = pulumi.String(args.Identifier + "-final")
	}
	if !args.MultiAZ {
		// A single-AZ primary is pinned, so the replicas' zones are known;
		// RDS refuses a zone for a Multi-AZ instance and picks one itself.
		primaryArgs.AvailabilityZone = pulumi.String(args.AvailabilityZones[0])
	}
	if args.ManageMasterUserPassword {
		primaryArgs.ManageMasterUserPassword = pulumi.Bool(true)
		primaryArgs.MasterUserSecretKmsKeyId = args.ParametersKeyARN
	} else {
		primaryArgs.Password = pulumi.ToSecret(args.Password).(pulumi.StringOutput)
	}
	primaryLogs, err := logGroups(args.Identifier)
	if err != nil {
		return nil, err
	}
	primary, err := rds.NewInstance(ctx, name, primaryArgs, parent, pulumi.DependsOn(append(slices.Clone(after), primaryLogs...)),
		// The zone is chosen once, at creation: turning Multi-AZ off later
		// pins the first AZ, which must not replace a running database
		// that has failed over to another.
		pulumi.IgnoreChanges([]string{"availabilityZone"}))
	if err != nil {
		return nil, fmt.Errorf("database instance: %w", err)
	}

	var replicaIDs, replicaAddresses pulumi.StringArray
	for i := 1; i <= args.ReadReplicas; i++ {
		id := fmt.Sprintf("%s-replica-%d", args.Identifier, i)
		replicaLogs, err := logGroups(id)
		if err != nil {
			return nil, err
		}
		replica, err := rds.NewInstance(ctx, fmt.Sprintf("%s-replica-%d", name, i), common(&rds.InstanceArgs{
			Identifier:        pulumi.String(id),
			ReplicateSourceDb: primary.Identifier,
			InstanceClass:     pulumi.String(args.ReplicaInstanceClass),
			AvailabilityZone:  replicaZone(primary.AvailabilityZone, args.AvailabilityZones, i),
			// RDS takes no final snapshot of a read replica
			// (DeleteDBInstance).
			SkipFinalSnapshot: pulumi.Bool(true),
			Tags:              tags(id),
		}), parent, pulumi.DependsOn(append(slices.Clone(after), replicaLogs...)),
			// A Multi-AZ primary changes zone when it fails over; the
			// replica stays where it was created rather than being
			// replaced on the next update.
			pulumi.IgnoreChanges([]string{"availabilityZone"}))
		if err != nil {
			return nil, fmt.Errorf("read replica %d: %w", i, err)
		}
		replicaIDs = append(replicaIDs, replica.Identifier)
		replicaAddresses = append(replicaAddresses, replica.Address)
	}

	d.Address = primary.Address
	d.Identifier = primary.Identifier
	d.ReplicaIdentifiers = replicaIDs.ToStringArrayOutput()
	d.ReplicaAddresses = replicaAddresses.ToStringArrayOutput()
	d.Parameters, err = newParameters(ctx, name, args, primary, parent)
	if err != nil {
		return nil, err
	}
	return d, ctx.RegisterResourceOutputs(d, pulumi.Map{
		"address":            d.Address,
		"port":               pulumi.Int(d.Port),
		"name":               pulumi.String(d.Name),
		"identifier":         d.Identifier,
		"replicaIdentifiers": d.ReplicaIdentifiers,
		"replicaAddresses":   d.ReplicaAddresses,
	})
}

// replicaZone places replica i (from 1) in a zone other than the
// primary's, round-robin over the rest.
func replicaZone(primaryZone pulumi.StringOutput, zones []string, i int) pulumi.StringOutput {
	return primaryZone.ApplyT(func(az string) string {
		others := slices.DeleteFunc(slices.Clone(zones), func(z string) bool { return z == az })
		return others[(i-1)%len(others)]
	}).(pulumi.StringOutput)
}

// serverParameters are the MySQL settings of the parameter group.
func serverParameters(logs []string) rds.ParameterGroupParameterArray {
	set := func(name, value string) rds.ParameterGroupParameterInput {
		return rds.ParameterGroupParameterArgs{Name: pulumi.String(name), Value: pulumi.String(value), ApplyMethod: pulumi.String("immediate")}
	}
	out := rds.ParameterGroupParameterArray{
		// Refuse connections without TLS: RDS for MySQL takes 1 for ON
		// (RDS guide, "Requiring SSL/TLS for all connections to a MySQL DB
		// instance").
		set("require_secure_transport", "1"),
		// CloudWatch Logs exports read the log files, not the mysql.*
		// tables (RDS guide, "Publishing MySQL logs to Amazon CloudWatch
		// Logs").
		set("log_output", "FILE"),
	}
	if slices.Contains(logs, logSlowQuery) {
		out = append(out, set("slow_query_log", "1"), set("long_query_time", "2"))
	}
	if slices.Contains(logs, logGeneral) {
		out = append(out, set("general_log", "1"))
	}
	return out
}

// auditOptionGroup adds the MariaDB audit plugin, which writes the audit
// log RDS for MySQL exports (RDS guide, "MariaDB Audit Plugin support for
// MySQL").
func auditOptionGroup(ctx *pulumi.Context, name string, args DatabaseArgs, tags pulumi.StringMap, parent pulumi.ResourceOption) (*rds.OptionGroup, error) {
	og, err := rds.NewOptionGroup(ctx, name, &rds.OptionGroupArgs{
		Name:                   pulumi.String(args.Identifier + "-audit-mysql" + versionSuffix(args.EngineVersion)),
		EngineName:             pulumi.String("mysql"),
		MajorEngineVersion:     pulumi.String(args.EngineVersion),
		OptionGroupDescription: pulumi.String("Audit log of " + name),
		Options: rds.OptionGroupOptionArray{rds.OptionGroupOptionArgs{
			OptionName: pulumi.String("MARIADB_AUDIT_PLUGIN"),
			OptionSettings: rds.OptionGroupOptionOptionSettingArray{
				rds.OptionGroupOptionOptionSettingArgs{Name: pulumi.String("SERVER_AUDIT_EVENTS"), Value: pulumi.String("CONNECT,QUERY_DDL,QUERY_DCL")},
			},
		}},
		Tags: tags,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("database audit option group: %w", err)
	}
	return og, nil
}

// monitoringRoleFor is the role RDS assumes to publish enhanced monitoring
// metrics (RDS guide, "Setting up and enabling Enhanced Monitoring"), with
// the confused-deputy condition that limits it to this account.
func monitoringRoleFor(ctx *pulumi.Context, name string, env account.Env, tags map[string]string, parent pulumi.ResourceOption) (*awsiam.Role, *awsiam.RolePolicyAttachment, error) {
	trust, err := iam.ServiceTrust(env, "monitoring.rds", "").JSON()
	if err != nil {
		return nil, nil, err
	}
	role, err := awsiam.NewRole(ctx, name+"-monitoring", &awsiam.RoleArgs{
		Description:      pulumi.String("Publishes RDS enhanced monitoring metrics of " + name),
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             pulumi.ToStringMap(tags),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("monitoring role: %w", err)
	}
	attachment, err := awsiam.NewRolePolicyAttachment(ctx, name+"-monitoring", &awsiam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String(env.ARN("iam", "", "aws", "policy/service-role/AmazonRDSEnhancedMonitoringRole")),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("monitoring role policy: %w", err)
	}
	return role, attachment, nil
}

// versionSuffix makes a major version fit group names, which take no dots
// ("8.4" -> "8-4"), so that a major upgrade gets a new group beside the old.
func versionSuffix(version string) string { return strings.ReplaceAll(version, ".", "-") }
