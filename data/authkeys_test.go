package data_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/data"
)

// parameters records what the engine is asked to create: each parameter's
// value as the program gave it, whether it is a secret, and what changes
// the engine is told to ignore.
type parameters struct {
	mu     sync.Mutex
	values map[string]resource.PropertyValue
	ignore map[string][]string
}

func (m *parameters) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	state := args.Inputs.Copy()
	if args.TypeToken == "aws:ssm/parameter:Parameter" {
		name := args.Inputs["name"].StringValue()
		m.mu.Lock()
		m.values[name] = args.Inputs["value"]
		m.ignore[name] = args.RegisterRPC.GetIgnoreChanges()
		m.mu.Unlock()
		state["arn"] = resource.NewProperty("arn:aws:ssm:us-east-1:123456789012:parameter" + name)
	}
	return args.Name + "-id", state, nil
}

func (m *parameters) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

func deployKeys(t *testing.T) *parameters {
	t.Helper()
	m := &parameters{values: map[string]resource.PropertyValue{}, ignore: map[string][]string{}}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := data.NewAuthKeys(ctx, "test", data.AuthKeysArgs{
			Env:           account.Env{AccountID: "123456789012", Region: "us-east-1", Partition: "aws", DNSSuffix: "amazonaws.com"},
			ParameterPath: "/test/t/wordpress/",
			KeyARN:        pulumi.String("arn:aws:kms:us-east-1:123456789012:key/params"),
		})
		return err
	}, pulumi.WithMocks("test", "t", m))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestKeysAndSaltsAreDrawnAtCreateAndNeverRedrawn(t *testing.T) {
	first, second := deployKeys(t), deployKeys(t)
	if len(first.values) != 8 {
		t.Fatalf("parameters = %d, want WordPress's eight keys and salts", len(first.values))
	}
	seen := map[string]bool{}
	for name, v := range first.values {
		if !strings.HasPrefix(name, "/test/t/wordpress/") {
			t.Errorf("parameter %s is outside the stack's WordPress path", name)
		}
		if !v.ContainsSecrets() {
			t.Errorf("%s: the value is not a Pulumi secret; it would be stored in clear in the state", name)
		}
		clear := v.SecretValue().Element.StringValue()
		if len(clear) != 64 || seen[clear] {
			t.Errorf("%s: value of %d characters, repeated %v; want 64 and one of its own", name, len(clear), seen[clear])
		}
		seen[clear] = true
		// Every run draws anew; only IgnoreChanges keeps the first.
		if again := second.values[name].SecretValue().Element.StringValue(); again == clear {
			t.Errorf("%s: two runs drew the same value; the source is not random", name)
		}
		if !slices.Equal(first.ignore[name], []string{"value"}) {
			t.Errorf("%s: ignoreChanges = %v; without [value] every `pulumi up` would replace the key and sign everyone out", name, first.ignore[name])
		}
	}
}
