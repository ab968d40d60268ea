package data

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newParameters stores what WordPress needs to reach the database under
// args.ParameterPath, each a SecureString encrypted with the parameters
// key: the task definition injects them as `secrets`, so they never appear
// in its environment, and only a role allowed both ssm:GetParameters on the
// path and kms:Decrypt through SSM can read them.
func newParameters(ctx *pulumi.Context, name string, args DatabaseArgs, primary *rds.Instance, parent pulumi.ResourceOption) (DBParameters, error) {
	out := DBParameters{
		PasswordFromSecretsManager: args.ManageMasterUserPassword,
		// A parameter's ARN drops the name's leading slash after
		// "parameter" (Systems Manager guide, "Working with parameter
		// hierarchies").
		ParameterPathARN: args.Env.ARN("ssm", args.Env.Region, args.Env.AccountID, "parameter"+args.ParameterPath),
	}
	settings := []struct {
		key, description string
		value            pulumi.StringInput
		arn              *pulumi.StringOutput
	}{
		{"host", "WordPress database host", primary.Address, &out.HostARN},
		{"port", "WordPress database port", pulumi.String(strconv.Itoa(args.Port)), &out.PortARN},
		{"name", "WordPress database name", pulumi.String(args.DatabaseName), &out.NameARN},
		{"user", "WordPress database user", pulumi.String(args.Username), &out.UserARN},
	}
	if !args.ManageMasterUserPassword {
		settings = append(settings, struct {
			key, description string
			value            pulumi.StringInput
			arn              *pulumi.StringOutput
		}{"password", "WordPress database password", pulumi.ToSecret(args.Password).(pulumi.StringOutput), &out.PasswordARN})
	}
	for _, s := range settings {
		p, err := ssm.NewParameter(ctx, name+"-"+s.key, &ssm.ParameterArgs{
			Name:        pulumi.String(args.ParameterPath + s.key),
			Description: pulumi.String(s.description),
			Type:        pulumi.String("SecureString"),
			Tier:        pulumi.String("Standard"),
			KeyId:       args.ParametersKeyARN,
			Value:       s.value,
			Tags:        pulumi.ToStringMap(args.Tags),
		}, parent)
		if err != nil {
			return DBParameters{}, fmt.Errorf("parameter %s: %w", s.key, err)
		}
		*s.arn = p.Arn
	}
	if args.ManageMasterUserPassword {
		// RDS keeps the password in a JSON secret {"username","password"};
		// ECS reads one key of it with "<secret arn>:<json key>::"
		// (ECS guide, "Pass Secrets Manager secrets through Amazon ECS
		// environment variables").
		out.PasswordARN = pulumi.Sprintf("%s:password::", primary.MasterUserSecrets.Index(pulumi.Int(0)).SecretArn().Elem())
	}
	return out, nil
}
