package config

import (
	"encoding/json"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FromContext loads the config of the running program. Under the Pulumi
// engine the whole stack config arrives in PULUMI_CONFIG, so a misspelled
// key is caught there too; otherwise (tests, the offline plan) the known
// keys are read from the context, whose config the caller has already
// checked with Load.
func FromContext(ctx *pulumi.Context) (*Config, error) {
	raw := map[string]string{}
	if env := os.Getenv(pulumi.EnvConfig); env != "" {
		if err := json.Unmarshal([]byte(env), &raw); err != nil {
			return nil, err
		}
	}
	for _, k := range append(Keys(), "aws:region") {
		full := k
		if k != "aws:region" {
			full = Namespace + ":" + k
		}
		if v, ok := ctx.GetConfig(full); ok {
			raw[full] = v
		}
	}
	return Load(raw, ctx.Project(), ctx.Stack())
}
