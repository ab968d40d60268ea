package data

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
)

// AuthKeyNames name WordPress's eight authentication keys and salts
// (wp-config.php's AUTH_KEY ... NONCE_SALT), as their parameters are
// named under the path: "auth-key" holds AUTH_KEY.
var AuthKeyNames = []string{
	"auth-key", "secure-auth-key", "logged-in-key", "nonce-key",
	"auth-salt", "secure-auth-salt", "logged-in-salt", "nonce-salt",
}

// AuthKeysArgs say where the keys and salts live.
type AuthKeysArgs struct {
	Env account.Env
	// ParameterPath is their folder in Parameter Store, with leading and
	// trailing slashes: "/<project>/<stack>/wordpress/".
	ParameterPath string
	// KeyARN encrypts them (the stack's parameters key).
	KeyARN pulumi.StringInput
	Tags   map[string]string
}

// AuthKeys are the SecureString parameters holding WordPress's keys and
// salts, one per variable, shared by every task of the service.
type AuthKeys struct {
	pulumi.ResourceState

	// ARNs maps each of AuthKeyNames to its parameter's ARN, the valueFrom
	// of the task definition's secret.
	ARNs map[string]pulumi.StringOutput
	// ParameterPathARN covers every parameter under ParameterPath
	// ("arn:...:parameter/wordpress/prod/wordpress/*"), for the execution
	// role's ssm:GetParameters.
	ParameterPathARN string
}

// authKeyLength is WordPress's own: the keys that
// https://api.wordpress.org/secret-key/1.1/salt/ hands out are 64
// characters.
const authKeyLength = 64

// NewAuthKeys declares one SecureString parameter per key and salt.
//
// Each value is drawn from crypto/rand when the parameter is created and
// never again: the program draws a new one on every run, and
// IgnoreChanges on "value" makes Pulumi keep the stored one, so a later
// `pulumi up` never logs anyone out. The value is a Pulumi secret (the
// offline plan shows "[secret]", so two plans of the same code are equal).
// Rotating is an `aws ssm put-parameter --overwrite` of each value followed
// by a new deployment, which signs everyone out (README, "Keys and
// salts").
func NewAuthKeys(ctx *pulumi.Context, name string, args AuthKeysArgs, opts ...pulumi.ResourceOption) (*AuthKeys, error) {
	if !strings.HasPrefix(args.ParameterPath, "/") || !strings.HasSuffix(args.ParameterPath, "/") {
		return nil, fmt.Errorf("auth keys %s: ParameterPath %q must start and end with /", name, args.ParameterPath)
	}
	k := &AuthKeys{
		ARNs: map[string]pulumi.StringOutput{},
		// A parameter's ARN drops the name's leading slash after
		// "parameter" (Systems Manager guide, "Working with parameter
		// hierarchies").
		ParameterPathARN: args.Env.ARN("ssm", args.Env.Region, args.Env.AccountID, "parameter"+args.ParameterPath+"*"),
	}
	if err := ctx.RegisterComponentResource("wordpress:data:AuthKeys", name, k, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(k)
	outputs := pulumi.Map{}
	for _, key := range AuthKeyNames {
		value, err := randomKey()
		if err != nil {
			return nil, fmt.Errorf("auth keys %s: %s: %w", name, key, err)
		}
		p, err := ssm.NewParameter(ctx, name+"-"+key, &ssm.ParameterArgs{
			Name:        pulumi.String(args.ParameterPath + key),
			Description: pulumi.String("WordPress " + strings.ReplaceAll(key, "-", " ") + ", shared by every task"),
			Type:        pulumi.String("SecureString"),
			Tier:        pulumi.String("Standard"),
			KeyId:       args.KeyARN,
			Value:       pulumi.ToSecret(pulumi.String(value)).(pulumi.StringOutput),
			Tags:        pulumi.ToStringMap(args.Tags),
		}, parent, pulumi.IgnoreChanges([]string{"value"}))
		if err != nil {
			return nil, fmt.Errorf("auth keys %s: %s: %w", name, key, err)
		}
		k.ARNs[key] = p.Arn
		outputs[key] = p.Arn
	}
	return k, ctx.RegisterResourceOutputs(k, outputs)
}

// randomKey is 48 bytes from the operating system's cryptographic source,
// base64-encoded into 64 characters. Base64 keeps the value free of quotes
// and backslashes, which pass through ECS and getenv unharmed anyway but
// would not survive a copy into a shell or a PHP string as well.
func randomKey() (string, error) {
	b := make([]byte, authKeyLength*3/4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read crypto/rand: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
