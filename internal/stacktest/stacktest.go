// Package stacktest records the program's stacks offline for tests: the real
// Pulumi.yaml and Pulumi.<stack>.yaml, optionally with settings changed,
// through the same recorder as the offline plan.
package stacktest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/platform"
	"github.com/nequi-platform/wordpress-ecs/policy"
)

// Root is the directory holding Pulumi.yaml.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no Pulumi.yaml above the test's directory")
		}
		dir = up
	}
}

// RawConfig returns the raw config of a stack as the engine would pass it.
func RawConfig(t testing.TB, stack string) map[string]string {
	t.Helper()
	root := Root(t)
	project, err := plan.LoadProject(root)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := project.StackConfig(root, stack)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// SetNetwork changes settings of wordpress:network in raw.
func SetNetwork(t testing.TB, raw map[string]string, settings map[string]any) {
	t.Helper()
	Set(t, raw, "network", settings)
}

// Set changes settings of the object key wordpress:<key> in raw.
func Set(t testing.TB, raw map[string]string, key string, settings map[string]any) {
	t.Helper()
	key = config.Namespace + ":" + key
	obj := map[string]any{}
	if s := raw[key]; s != "" {
		if err := json.Unmarshal([]byte(s), &obj); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range settings {
		obj[k] = v
	}
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	raw[key] = string(b)
}

// Record validates raw and records the program for stack. Options change
// what the recorder answers (secret keys, endpoint gaps).
func Record(t testing.TB, stack string, raw map[string]string, options ...func(*plan.Options)) (*plan.Plan, *config.Config) {
	t.Helper()
	opts := plan.Options{Project: config.Namespace, Stack: stack, Config: raw, RootDirectory: Root(t)}
	for _, o := range options {
		o(&opts)
	}
	cfg, err := config.Load(raw, config.Namespace, stack, config.Offline(), config.WithSecretKeys(opts.SecretKeys...))
	if err != nil {
		t.Fatalf("stack %s config: %v", stack, err)
	}
	p, err := plan.Record(platform.DeployOffline, opts)
	if err != nil {
		t.Fatalf("record stack %s: %v", stack, err)
	}
	return p, cfg
}

// Stack records a stack exactly as its config file describes it.
func Stack(t testing.TB, stack string) *plan.Plan {
	t.Helper()
	p, _ := Record(t, stack, RawConfig(t, stack))
	return p
}

// RecordWith records the program with every option given, such as the keys
// set with --secret, and fails the test on any error.
func RecordWith(t testing.TB, opts plan.Options) *plan.Plan {
	t.Helper()
	p, err := plan.Record(platform.DeployOffline, opts)
	if err != nil {
		t.Fatalf("record stack %s: %v", opts.Stack, err)
	}
	return p
}

// PolicyOptions are the policy options of a stack's config, as the offline
// plan evaluates it.
func PolicyOptions(cfg *config.Config) policy.Options {
	return policy.Options{Production: cfg.Production(), Waivers: cfg.Policy.Waivers,
		ManagedOutside: cfg.Governance.ManagedOutside(), NoNetwork: !cfg.Site && !cfg.Airflow.Enabled}
}
