package compute

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecs"
	awsiam "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/iam"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// ServiceArgs configure the WordPress task and service.
type ServiceArgs struct {
	// Image is the full image reference, tag included.
	Image string
	// CPU units and memory (MiB) per task: a pair Fargate offers.
	CPU    int
	Memory int
	// CPUArchitecture is X86_64 or ARM64.
	CPUArchitecture string
	DesiredCount    int
	// HealthCheckGracePeriodSeconds lets a task start before the load
	// balancer's health checks count against it.
	HealthCheckGracePeriodSeconds int
	EnableExecuteCommand          bool
	LogRetentionDays              int
	Database                      DatabaseArgs
	// AuthKeys are WordPress's keys and salts, shared by every task.
	AuthKeys AuthKeysArgs
	// WordPress is what WORDPRESS_CONFIG_EXTRA and PHP's settings say.
	WordPress WordPressArgs
	// Autoscaling, when set, scales the service.
	Autoscaling *AutoscalingArgs
	// GuardDutyAgent lets the execution role pull the security agent that
	// GuardDuty runtime monitoring adds to every task it manages.
	GuardDutyAgent bool
}

// DatabaseArgs are how the tasks find the database: the official image's
// WORDPRESS_DB_* variables, each injected as an ECS secret from the data
// tier's parameters, never as plain environment.
type DatabaseArgs struct {
	// Secrets maps each of DatabaseVariables to the
	// valueFrom ECS reads them from (an SSM parameter ARN, or a Secrets
	// Manager ARN with its JSON key).
	Secrets map[string]pulumi.StringInput
	// ParameterPathARN covers the stack's DB parameters
	// ("arn:...:parameter/wordpress/prod/db/*"), for the execution role.
	ParameterPathARN string
	// SecretARNs are Secrets Manager secrets among Secrets (the
	// RDS-managed password), for the execution role.
	SecretARNs []pulumi.StringInput
	// KeyARNs encrypt the values; the execution role may decrypt with
	// them only through SSM or Secrets Manager.
	KeyARNs []pulumi.StringInput
}

// AuthKeysArgs are where the tasks read WordPress's authentication keys
// and salts.
type AuthKeysArgs struct {
	// Secrets maps each of AuthKeyVariables to the SSM parameter ARN ECS
	// reads it from.
	Secrets map[string]pulumi.StringInput
	// ParameterPathARN covers the parameters, for the execution role.
	ParameterPathARN string
}

// AuthKeyVariables are the eight variables the official image's
// wp-config-docker.php reads AUTH_KEY ... NONCE_SALT from. Every one it is
// not given becomes a random value of the container's own (its
// entrypoint writes one into wp-config.php), so a login cookie or a form's
// nonce signed by one task is refused by every other task, and by every
// task after a restart.
var AuthKeyVariables = []string{
	"WORDPRESS_AUTH_KEY", "WORDPRESS_SECURE_AUTH_KEY", "WORDPRESS_LOGGED_IN_KEY", "WORDPRESS_NONCE_KEY",
	"WORDPRESS_AUTH_SALT", "WORDPRESS_SECURE_AUTH_SALT", "WORDPRESS_LOGGED_IN_SALT", "WORDPRESS_NONCE_SALT",
}

// WordPressArgs are WordPress's own settings in the tasks.
type WordPressArgs struct {
	// DisallowFileEdit turns off the theme and plugin editor.
	DisallowFileEdit bool
	// DisallowFileMods turns off installing and updating plugins and
	// themes from the dashboard.
	DisallowFileMods bool
	// UploadMaxMB is PHP's upload_max_filesize; 0 leaves PHP's 2 MB.
	UploadMaxMB int
}

// DatabaseVariables are the variables the tasks read to reach MySQL: the
// four the official image's wp-config-docker.php reads, and
// WORDPRESS_DB_PORT, which ConfigExtra applies (the image itself takes a
// port only inside WORDPRESS_DB_HOST, which one parameter cannot join).
var DatabaseVariables = []string{"WORDPRESS_DB_HOST", "WORDPRESS_DB_PORT", "WORDPRESS_DB_USER", "WORDPRESS_DB_PASSWORD", "WORDPRESS_DB_NAME"}

// ConfigExtra is the PHP the image evaluates in wp-config.php
// (WORDPRESS_CONFIG_EXTRA), before WordPress loads:
//   - the database requires TLS (require_secure_transport), and WordPress
//     connects without it unless MYSQL_CLIENT_FLAGS asks (mysqlnd then
//     encrypts without checking the server's certificate, having no CA to
//     check it against);
//   - DB_HOST carries no port, so mysqli connects to its default port,
//     which is set here from the port parameter;
//   - core never updates itself (WP_AUTO_UPDATE_CORE) and nobody may
//     update it from the dashboard (update_core mapped to do_not_allow
//     through a hook registered before the plugin API loads, which
//     WordPress supports by pre-filling $wp_filter): core files belong to
//     the image, and a task that changed its own would differ from the
//     others until the next restart;
//   - DISALLOW_FILE_EDIT and DISALLOW_FILE_MODS as configured.
func ConfigExtra(w WordPressArgs) string {
	lines := []string{
		"define('MYSQL_CLIENT_FLAGS', MYSQLI_CLIENT_SSL);",
		"ini_set('mysqli.default_port', getenv('WORDPRESS_DB_PORT'));",
		"define('WP_AUTO_UPDATE_CORE', false);",
		"$GLOBALS['wp_filter']['map_meta_cap'][10][] = array('accepted_args' => 2, 'function' => function ($caps, $cap) { return $cap === 'update_core' ? array('do_not_allow') : $caps; });",
	}
	if w.DisallowFileEdit {
		lines = append(lines, "define('DISALLOW_FILE_EDIT', true);")
	}
	if w.DisallowFileMods {
		lines = append(lines, "define('DISALLOW_FILE_MODS', true);")
	}
	return strings.Join(lines, "\n")
}

// uploadEntryPoint wraps the image's own entrypoint so that PHP takes the
// upload limit without a custom image: PHP reads every .ini file in
// $PHP_INI_DIR/conf.d (the official image sets PHP_INI_DIR) when Apache
// starts, so the wrapper writes one there and then runs the image's
// docker-entrypoint.sh with the container's command, as the image would
// have. upload_max_filesize and post_max_size are PHP_INI_PERDIR settings,
// which ini_set in WORDPRESS_CONFIG_EXTRA cannot change.
func uploadEntryPoint(mb int) pulumi.Array {
	script := fmt.Sprintf(`printf 'upload_max_filesize = %dM\npost_max_size = %dM\n' > "$PHP_INI_DIR/conf.d/zz-wordpress-uploads.ini" && exec docker-entrypoint.sh "$@"`, mb, mb+1)
	return pulumi.Array{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(script), pulumi.String("sh")}
}

// imageCommand is the official apache image's CMD, which the entrypoint
// runs (and which it needs as its first argument to set WordPress up).
const imageCommand = "apache2-foreground"

// AutoscalingArgs are target tracking on CPU and on requests per task.
type AutoscalingArgs struct {
	MinCapacity       int
	MaxCapacity       int
	CPUTargetPercent  int
	RequestsPerTarget int
}

func (s ServiceArgs) check() error {
	for _, v := range DatabaseVariables {
		if s.Database.Secrets[v] == nil {
			return fmt.Errorf("database secret %s is missing; the image cannot reach MySQL without it", v)
		}
	}
	if s.Database.ParameterPathARN == "" && len(s.Database.SecretARNs) == 0 {
		return fmt.Errorf("the execution role needs the database parameters' path ARN or secret ARNs")
	}
	for _, v := range AuthKeyVariables {
		if s.AuthKeys.Secrets[v] == nil {
			return fmt.Errorf("auth key secret %s is missing; each task would sign logins with a random key of its own", v)
		}
	}
	if s.AuthKeys.ParameterPathARN == "" {
		return fmt.Errorf("the execution role needs the auth keys' parameter path ARN")
	}
	if s.WordPress.UploadMaxMB < 0 {
		return fmt.Errorf("UploadMaxMB must be 0 or more, got %d", s.WordPress.UploadMaxMB)
	}
	return nil
}

// containerName is the WordPress container in the task definition.
const containerName = "wordpress"

type service struct {
	pulumi.ResourceState

	ClusterName  pulumi.StringOutput
	ServiceName  pulumi.StringOutput
	LogGroupName pulumi.StringOutput
}

func newService(ctx *pulumi.Context, name string, args Args, lb *loadBalancer, fs *fileSystem, opts ...pulumi.ResourceOption) (*service, error) {
	s := &service{}
	if err := ctx.RegisterComponentResource("wordpress:compute:Service", name, s, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(s)
	a := args.Service
	env := args.Env

	cluster, err := ecs.NewCluster(ctx, name, &ecs.ClusterArgs{
		Name: pulumi.String(name),
		// Security Hub ECS.12: per-task CPU, memory, network and storage
		// metrics.
		Settings: ecs.ClusterSettingArray{&ecs.ClusterSettingArgs{
			Name: pulumi.String("containerInsights"), Value: pulumi.String("enabled"),
		}},
		Tags: tagged(args.Tags, name),
	}, parent)
	if err != nil {
		return nil, err
	}

	logName := args.LogGroupPrefix + "wordpress"
	logs, err := cloudwatch.NewLogGroup(ctx, name+"-wordpress", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(logName),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		KmsKeyId:        args.LogsKeyARN,
		Tags:            tagged(args.Tags, logName),
	}, parent)
	if err != nil {
		return nil, err
	}

	// The confused-deputy guard AWS recommends for ECS task roles.
	trust, err := iam.ServiceTrust(env, "ecs-tasks", "").JSON()
	if err != nil {
		return nil, err
	}
	execRole, err := awsiam.NewRole(ctx, name+"-task-execution", &awsiam.RoleArgs{
		Description:      pulumi.String("ECS pulls the WordPress image, reads its database settings and writes its logs"),
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             tagged(args.Tags, name+"-task-execution"),
	}, parent)
	if err != nil {
		return nil, err
	}
	execPolicy, err := awsiam.NewRolePolicy(ctx, name+"-task-execution", &awsiam.RolePolicyArgs{
		Role:   execRole.Name,
		Policy: executionPolicy(env, a, logs.Arn),
	}, parent)
	if err != nil {
		return nil, err
	}
	taskRole, err := awsiam.NewRole(ctx, name+"-task", &awsiam.RoleArgs{
		Description:      pulumi.String("WordPress mounts its wp-content access point"),
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             tagged(args.Tags, name+"-task"),
	}, parent)
	if err != nil {
		return nil, err
	}
	taskPolicyRes, err := awsiam.NewRolePolicy(ctx, name+"-task", &awsiam.RolePolicyArgs{
		Role:   taskRole.Name,
		Policy: taskPolicy(fs, a.EnableExecuteCommand),
	}, parent)
	if err != nil {
		return nil, err
	}

	taskDef, err := ecs.NewTaskDefinition(ctx, name, &ecs.TaskDefinitionArgs{
		Family:                  pulumi.String(name + "-wordpress"),
		RequiresCompatibilities: pulumi.StringArray{pulumi.String("FARGATE")},
		NetworkMode:             pulumi.String("awsvpc"),
		Cpu:                     pulumi.String(fmt.Sprint(a.CPU)),
		Memory:                  pulumi.String(fmt.Sprint(a.Memory)),
		RuntimePlatform: &ecs.TaskDefinitionRuntimePlatformArgs{
			OperatingSystemFamily: pulumi.String("LINUX"),
			CpuArchitecture:       pulumi.String(a.CPUArchitecture),
		},
		ExecutionRoleArn:     execRole.Arn,
		TaskRoleArn:          taskRole.Arn,
		ContainerDefinitions: containerDefinitions(args, logs.Name),
		Volumes: ecs.TaskDefinitionVolumeArray{&ecs.TaskDefinitionVolumeArgs{
			Name: pulumi.String("wp-content"),
			EfsVolumeConfiguration: &ecs.TaskDefinitionVolumeEfsVolumeConfigurationArgs{
				FileSystemId: fs.ID,
				// TLS on the wire, and the task role's IAM identity (not
				// just network reach) decides who mounts.
				TransitEncryption: pulumi.String("ENABLED"),
				AuthorizationConfig: &ecs.TaskDefinitionVolumeEfsVolumeConfigurationAuthorizationConfigArgs{
					AccessPointId: fs.AccessPointID,
					Iam:           pulumi.String("ENABLED"),
				},
			},
		}},
		Tags: tagged(args.Tags, name+"-wordpress"),
	}, parent)
	if err != nil {
		return nil, err
	}

	tags := tagged(args.Tags, name+"-wordpress")
	// Enrols the service in the nightly restart; the restart stamps the
	// tag with its time, so Pulumi only sets it when the service is made.
	tags[fleet.RestartTag] = pulumi.String("enabled")
	ignore := []string{"tags." + fleet.RestartTag}
	if a.Autoscaling != nil {
		// Autoscaling owns the running count once the service exists.
		ignore = append(ignore, "desiredCount")
	}
	deps := append(append([]pulumi.Resource{}, lb.Listeners...), fs.MountTargets...)
	// Tasks start as soon as the service exists: their roles must already
	// hold their policies, or the first tasks fail to pull or mount.
	deps = append(deps, execPolicy, taskPolicyRes)
	svc, err := ecs.NewService(ctx, name, &ecs.ServiceArgs{
		Name:           pulumi.String("wordpress"),
		Cluster:        cluster.Arn,
		TaskDefinition: taskDef.Arn,
		LaunchType:     pulumi.String("FARGATE"),
		// Security Hub ECS.10.
		PlatformVersion: pulumi.String("LATEST"),
		DesiredCount:    pulumi.Int(a.DesiredCount),
		NetworkConfiguration: &ecs.ServiceNetworkConfigurationArgs{
			Subnets:        args.PrivateSubnetIDs,
			SecurityGroups: pulumi.StringArray{args.SecurityGroups.Tasks},
			// Security Hub ECS.2: tasks egress through the NAT or the
			// endpoints, and are reached only through the load balancer.
			AssignPublicIp: pulumi.Bool(false),
		},
		LoadBalancers: ecs.ServiceLoadBalancerArray{&ecs.ServiceLoadBalancerArgs{
			TargetGroupArn: lb.TargetGroupARN,
			ContainerName:  pulumi.String(containerName),
			ContainerPort:  pulumi.Int(args.AppPort),
		}},
		HealthCheckGracePeriodSeconds: pulumi.Int(a.HealthCheckGracePeriodSeconds),
		DeploymentCircuitBreaker: &ecs.ServiceDeploymentCircuitBreakerArgs{
			Enable:   pulumi.Bool(true),
			Rollback: pulumi.Bool(true),
		},
		// Never fewer healthy tasks than asked for during a rollout.
		DeploymentMinimumHealthyPercent: pulumi.Int(100),
		DeploymentMaximumPercent:        pulumi.Int(200),
		EnableExecuteCommand:            pulumi.Bool(a.EnableExecuteCommand),
		EnableEcsManagedTags:            pulumi.Bool(true),
		PropagateTags:                   pulumi.String("SERVICE"),
		// Rebalance tasks over the AZs when one comes back.
		AvailabilityZoneRebalancing: pulumi.String("ENABLED"),
		Tags:                        tags,
	}, parent, pulumi.DependsOn(deps), pulumi.IgnoreChanges(ignore))
	if err != nil {
		return nil, err
	}

	if a.Autoscaling != nil {
		if err := autoscale(ctx, name, *a.Autoscaling, cluster.Name, svc.Name, lb, parent); err != nil {
			return nil, fmt.Errorf("autoscaling: %w", err)
		}
	}

	s.ClusterName, s.ServiceName, s.LogGroupName = cluster.Name, svc.Name, logs.Name
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{
		"clusterName": s.ClusterName, "serviceName": s.ServiceName, "logGroupName": s.LogGroupName,
	})
}

// containerDefinitions is the one WordPress container: the database
// settings and the keys and salts as secrets, wp-content on EFS, logs to
// the encrypted group.
func containerDefinitions(args Args, logGroup pulumi.StringOutput) pulumi.StringOutput {
	a := args.Service
	all := map[string]pulumi.StringInput{}
	for n, v := range a.Database.Secrets {
		all[n] = v
	}
	for n, v := range a.AuthKeys.Secrets {
		all[n] = v
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	secrets := pulumi.Array{}
	for _, n := range names {
		secrets = append(secrets, pulumi.Map{"name": pulumi.String(n), "valueFrom": all[n]})
	}
	container := pulumi.Map{
		"name":      pulumi.String(containerName),
		"image":     pulumi.String(a.Image),
		"essential": pulumi.Bool(true),
		// Security Hub ECS.4: no privileged mode, and no extra Linux
		// capabilities; Apache binds port 80 as root and drops to
		// www-data.
		"privileged": pulumi.Bool(false),
		"portMappings": pulumi.Array{pulumi.Map{
			"containerPort": pulumi.Int(args.AppPort),
			"protocol":      pulumi.String("tcp"),
		}},
		"secrets": secrets,
		"environment": pulumi.Array{pulumi.Map{
			"name":  pulumi.String("WORDPRESS_CONFIG_EXTRA"),
			"value": pulumi.String(ConfigExtra(a.WordPress)),
		}},
		"mountPoints": pulumi.Array{pulumi.Map{
			"sourceVolume":  pulumi.String("wp-content"),
			"containerPath": pulumi.String(wpContentPath),
			"readOnly":      pulumi.Bool(false),
		}},
		// Security Hub ECS.9.
		"logConfiguration": pulumi.Map{
			"logDriver": pulumi.String("awslogs"),
			"options": pulumi.Map{
				"awslogs-group":         logGroup,
				"awslogs-region":        pulumi.String(args.Env.Region),
				"awslogs-stream-prefix": pulumi.String(containerName),
			},
		},
		"linuxParameters": pulumi.Map{"initProcessEnabled": pulumi.Bool(true)},
	}
	if a.WordPress.UploadMaxMB > 0 {
		container["entryPoint"] = uploadEntryPoint(a.WordPress.UploadMaxMB)
		container["command"] = pulumi.Array{pulumi.String(imageCommand)}
	}
	return pulumi.JSONMarshal(pulumi.Array{container})
}

// ecrImage is "<account>.dkr.ecr.<region>.<dns suffix>/<repository>[:tag]".
var ecrImage = regexp.MustCompile(`^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.[a-z0-9.]+/([^:@]+)`)

// ecrRepositoryARN is the private ECR repository image comes from, or "".
func ecrRepositoryARN(env account.Env, image string) string {
	m := ecrImage.FindStringSubmatch(image)
	if m == nil {
		return ""
	}
	return env.ARN("ecr", m[2], m[1], "repository/"+m[3])
}

// executionPolicy lets ECS read exactly the database settings and the
// keys and salts, decrypt them only through SSM or Secrets Manager, and
// write to the one log group; and pull the image when it is in a private
// ECR repository (a public image needs no registry permission). Amazon ECS
// Developer Guide, "Amazon ECS task execution IAM role".
func executionPolicy(env account.Env, svc ServiceArgs, logGroupARN pulumi.StringOutput) pulumi.StringOutput {
	image, db, guardDutyAgent := svc.Image, svc.Database, svc.GuardDutyAgent
	inputs := append([]pulumi.StringInput{logGroupARN}, db.SecretARNs...)
	inputs = append(inputs, db.KeyARNs...)
	return iam.Output(func(v []string) iam.Policy {
		logGroup, secrets, keys := v[0], v[1:1+len(db.SecretARNs)], v[1+len(db.SecretARNs):]
		var st []iam.Statement
		if db.ParameterPathARN != "" {
			st = append(st, iam.AllowStatement("ReadDatabaseParameters", []string{"ssm:GetParameters"}, db.ParameterPathARN))
		}
		if svc.AuthKeys.ParameterPathARN != "" {
			st = append(st, iam.AllowStatement("ReadWordPressKeys", []string{"ssm:GetParameters"}, svc.AuthKeys.ParameterPathARN))
		}
		if len(secrets) > 0 {
			st = append(st, iam.AllowStatement("ReadDatabaseSecret", []string{"secretsmanager:GetSecretValue"}, secrets...))
		}
		if len(keys) > 0 {
			st = append(st, iam.AllowStatement("DecryptDatabaseSettingsThroughTheirService", []string{"kms:Decrypt"}, keys...).
				If("StringEquals", "kms:ViaService", iam.ViaServices(env, "ssm", "secretsmanager")))
		}
		pull := []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
		if repo := ecrRepositoryARN(env, image); repo != "" {
			// A private image: the registry token is account-wide (AWS
			// takes no resource for it), the layers only from this
			// repository.
			st = append(st,
				iam.AllowStatement("RegistryToken", []string{"ecr:GetAuthorizationToken"}, "*"),
				iam.AllowStatement("PullWordPressImage", pull, repo))
		}
		if guardDutyAgent {
			// GuardDuty runtime monitoring adds its agent as a sidecar
			// pulled with the task's execution role from GuardDuty's own
			// repository (GuardDuty user guide, "Prerequisites for AWS
			// Fargate (Amazon ECS only) support"); without these the
			// sidecar stops with CannotPullContainerError and the task
			// runs unmonitored. The repository's account differs per
			// Region ("ECR repository for GuardDuty agent on AWS
			// Fargate"), so only its name is pinned.
			st = append(st,
				iam.AllowStatement("GuardDutyAgentRegistryToken", []string{"ecr:GetAuthorizationToken"}, "*"),
				iam.AllowStatement("PullGuardDutyAgent", pull, env.ARN("ecr", env.Region, "*", "repository/aws-guardduty-agent-fargate")))
		}
		st = append(st, iam.AllowStatement("WriteWordPressLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logGroup+":log-stream:*"))
		return iam.Identity(st...)
	}, inputs...)
}

// taskPolicy lets WordPress mount and write its file system only through
// its access point, and, when ECS Exec is on, open the Session Manager
// channels it uses (which AWS does not scope to a resource).
func taskPolicy(fs *fileSystem, exec bool) pulumi.StringOutput {
	return iam.Output(func(v []string) iam.Policy {
		st := []iam.Statement{
			iam.AllowStatement("MountWpContentThroughTheAccessPoint", []string{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"}, v[0]).
				If("StringEquals", "elasticfilesystem:AccessPointArn", v[1]).
				If("Bool", "elasticfilesystem:AccessedViaMountTarget", "true"),
		}
		if exec {
			st = append(st, iam.AllowStatement("ECSExecChannels", []string{
				"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
				"ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
			}, "*"))
		}
		return iam.Identity(st...)
	}, fs.ARN, fs.AccessPointARN)
}
