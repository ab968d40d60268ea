package compute

import (
	"fmt"
	"regexp"
	"sort"

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
	// Autoscaling, when set, scales the service.
	Autoscaling *AutoscalingArgs
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

// DatabaseVariables are the variables the tasks read to reach MySQL: the
// four the official image's wp-config-docker.php reads, and
// WORDPRESS_DB_PORT, which wpConfigExtra applies (the image itself takes a
// port only inside WORDPRESS_DB_HOST, which one parameter cannot join).
var DatabaseVariables = []string{"WORDPRESS_DB_HOST", "WORDPRESS_DB_PORT", "WORDPRESS_DB_USER", "WORDPRESS_DB_PASSWORD", "WORDPRESS_DB_NAME"}

// wpConfigExtra is PHP the image evaluates in wp-config.php
// (WORDPRESS_CONFIG_EXTRA), before WordPress connects:
//   - the database requires TLS (require_secure_transport), and WordPress
//     connects without it unless MYSQL_CLIENT_FLAGS asks;
//   - DB_HOST carries no port, so mysqli connects to its default port,
//     which is set here from the port parameter.
const wpConfigExtra = "define('MYSQL_CLIENT_FLAGS', MYSQLI_CLIENT_SSL); ini_set('mysqli.default_port', getenv('WORDPRESS_DB_PORT'));"

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
	if _, err := awsiam.NewRolePolicy(ctx, name+"-task-execution", &awsiam.RolePolicyArgs{
		Role:   execRole.Name,
		Policy: executionPolicy(env, a.Image, a.Database, logs.Arn),
	}, parent); err != nil {
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
	if _, err := awsiam.NewRolePolicy(ctx, name+"-task", &awsiam.RolePolicyArgs{
		Role:   taskRole.Name,
		Policy: taskPolicy(fs, a.EnableExecuteCommand),
	}, parent); err != nil {
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
// settings as secrets, wp-content on EFS, logs to the encrypted group.
func containerDefinitions(args Args, logGroup pulumi.StringOutput) pulumi.StringOutput {
	a := args.Service
	names := make([]string, 0, len(a.Database.Secrets))
	for n := range a.Database.Secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	secrets := pulumi.Array{}
	for _, n := range names {
		secrets = append(secrets, pulumi.Map{"name": pulumi.String(n), "valueFrom": a.Database.Secrets[n]})
	}
	return pulumi.JSONMarshal(pulumi.Array{pulumi.Map{
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
			"value": pulumi.String(wpConfigExtra),
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
	}})
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

// executionPolicy lets ECS read exactly the database settings, decrypt
// them only through SSM or Secrets Manager, and write to the one log
// group; and pull the image when it is in a private ECR repository (a
// public image needs no registry permission). Amazon ECS Developer Guide,
// "Amazon ECS task execution IAM role".
func executionPolicy(env account.Env, image string, db DatabaseArgs, logGroupARN pulumi.StringOutput) pulumi.StringOutput {
	statements := pulumi.Array{}
	if db.ParameterPathARN != "" {
		statements = append(statements, pulumi.Map{
			"Sid":      pulumi.String("ReadDatabaseParameters"),
			"Effect":   pulumi.String("Allow"),
			"Action":   pulumi.String("ssm:GetParameters"),
			"Resource": pulumi.String(db.ParameterPathARN),
		})
	}
	if len(db.SecretARNs) > 0 {
		secrets := pulumi.Array{}
		for _, s := range db.SecretARNs {
			secrets = append(secrets, s)
		}
		statements = append(statements, pulumi.Map{
			"Sid":      pulumi.String("ReadDatabaseSecret"),
			"Effect":   pulumi.String("Allow"),
			"Action":   pulumi.String("secretsmanager:GetSecretValue"),
			"Resource": secrets,
		})
	}
	if len(db.KeyARNs) > 0 {
		keys := pulumi.Array{}
		for _, k := range db.KeyARNs {
			keys = append(keys, k)
		}
		statements = append(statements, pulumi.Map{
			"Sid":      pulumi.String("DecryptDatabaseSettingsThroughTheirService"),
			"Effect":   pulumi.String("Allow"),
			"Action":   pulumi.String("kms:Decrypt"),
			"Resource": keys,
			"Condition": pulumi.Map{"StringEquals": pulumi.Map{"kms:ViaService": pulumi.StringArray{
				pulumi.String(fmt.Sprintf("ssm.%s.%s", env.Region, env.DNSSuffix)),
				pulumi.String(fmt.Sprintf("secretsmanager.%s.%s", env.Region, env.DNSSuffix)),
			}}},
		})
	}
	if repo := ecrRepositoryARN(env, image); repo != "" {
		// A private image: the registry token is account-wide (AWS takes
		// no resource for it), the layers only from this repository.
		statements = append(statements,
			pulumi.Map{
				"Sid":      pulumi.String("RegistryToken"),
				"Effect":   pulumi.String("Allow"),
				"Action":   pulumi.String("ecr:GetAuthorizationToken"),
				"Resource": pulumi.String("*"),
			},
			pulumi.Map{
				"Sid":      pulumi.String("PullWordPressImage"),
				"Effect":   pulumi.String("Allow"),
				"Action":   pulumi.StringArray{pulumi.String("ecr:BatchCheckLayerAvailability"), pulumi.String("ecr:BatchGetImage"), pulumi.String("ecr:GetDownloadUrlForLayer")},
				"Resource": pulumi.String(repo),
			})
	}
	statements = append(statements, pulumi.Map{
		"Sid":      pulumi.String("WriteWordPressLogs"),
		"Effect":   pulumi.String("Allow"),
		"Action":   pulumi.StringArray{pulumi.String("logs:CreateLogStream"), pulumi.String("logs:PutLogEvents")},
		"Resource": pulumi.Sprintf("%s:log-stream:*", logGroupARN),
	})
	return pulumi.JSONMarshal(pulumi.Map{"Version": pulumi.String("2012-10-17"), "Statement": statements})
}

// taskPolicy lets WordPress mount and write its file system only through
// its access point, and, when ECS Exec is on, open the Session Manager
// channels it uses (which AWS does not scope to a resource).
func taskPolicy(fs *fileSystem, exec bool) pulumi.StringOutput {
	statements := pulumi.Array{pulumi.Map{
		"Sid":      pulumi.String("MountWpContentThroughTheAccessPoint"),
		"Effect":   pulumi.String("Allow"),
		"Action":   pulumi.StringArray{pulumi.String("elasticfilesystem:ClientMount"), pulumi.String("elasticfilesystem:ClientWrite")},
		"Resource": fs.ARN,
		"Condition": pulumi.Map{
			"StringEquals": pulumi.Map{"elasticfilesystem:AccessPointArn": fs.AccessPointARN},
			"Bool":         pulumi.Map{"elasticfilesystem:AccessedViaMountTarget": pulumi.String("true")},
		},
	}}
	if exec {
		statements = append(statements, pulumi.Map{
			"Sid":    pulumi.String("ECSExecChannels"),
			"Effect": pulumi.String("Allow"),
			"Action": pulumi.StringArray{
				pulumi.String("ssmmessages:CreateControlChannel"), pulumi.String("ssmmessages:CreateDataChannel"),
				pulumi.String("ssmmessages:OpenControlChannel"), pulumi.String("ssmmessages:OpenDataChannel"),
			},
			"Resource": pulumi.String("*"),
		})
	}
	return pulumi.JSONMarshal(pulumi.Map{"Version": pulumi.String("2012-10-17"), "Statement": statements})
}
