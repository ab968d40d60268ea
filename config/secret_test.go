package config_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

func TestASecretNeverPrints(t *testing.T) {
	s := config.NewSecret("hunter2-Pa55word")
	b, _ := json.Marshal(struct{ P config.Secret }{s})
	for _, shown := range []string{s.String(), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), string(b)} {
		if strings.Contains(shown, "hunter2") {
			t.Errorf("secret shown: %s", shown)
		}
	}
	if s.Reveal() != "hunter2-Pa55word" || !s.IsSet() || s.Placeholder() {
		t.Error("the value is not kept for the program")
	}
}

// The recorder sees what the engine would: an input built from a secret is
// a secret, shown as the placeholder in the offline plan.
func TestASecretIsASecretInEveryInputBuiltFromIt(t *testing.T) {
	s := config.NewSecret("hunter2-Pa55word")
	p, err := plan.Record(func(ctx *pulumi.Context) error {
		var a, b pulumi.CustomResourceState
		if err := ctx.RegisterResource("test:index:Thing", "direct", pulumi.Map{"value": s.Output()}, &a); err != nil {
			return err
		}
		derived := s.Output().ApplyT(func(v string) string { return "mysql://admin:" + v + "@db" }).(pulumi.StringOutput)
		return ctx.RegisterResource("test:index:Thing", "derived", pulumi.Map{"url": derived}, &b)
	}, plan.Options{Project: "wordpress", Stack: "test", Config: map[string]string{"aws:region": "us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p)
	if strings.Contains(string(b), "hunter2") {
		t.Fatalf("the plan shows the secret: %s", b)
	}
	for name, key := range map[string]string{"direct": "value", "derived": "url"} {
		r, ok := p.Named("test:index:Thing", name)
		if !ok || r.String(key) != plan.SecretPlaceholder {
			t.Errorf("%s.%s = %q, want %q", name, key, r.String(key), plan.SecretPlaceholder)
		}
	}
}

func TestASettingStoredAsASecretThatCannotStaySecretIsRefused(t *testing.T) {
	r := raw(`{"azCount": 2}`)
	_, err := config.Load(r, "wordpress", "test", config.WithSecretKeys("wordpress:network"))
	if err == nil || !strings.Contains(err.Error(), "wordpress:network: is stored as a secret") || !strings.Contains(err.Error(), "without --secret") {
		t.Errorf("err = %v", err)
	}
	// Offline, a secure: value arrives as the placeholder and counts as secret.
	r = raw(`{"azCount": 2, "cidr": "` + config.SecretPlaceholder + `"}`)
	if _, err := config.Load(r, "wordpress", "test", config.Offline()); err == nil || !strings.Contains(err.Error(), "stored as a secret") {
		t.Errorf("offline err = %v", err)
	}
}

func TestPlaceholderMatchesThePlans(t *testing.T) {
	if config.SecretPlaceholder != plan.SecretPlaceholder {
		t.Errorf("config and plan disagree on the placeholder: %q vs %q", config.SecretPlaceholder, plan.SecretPlaceholder)
	}
}

func TestARenamedProjectDoesNotDeployDefaultsSilently(t *testing.T) {
	r := raw(`{"azCount": 2}`, "wordpress:environment", "development")
	_, err := config.Load(r, "blog", "dev", config.Offline())
	if err == nil || !strings.Contains(err.Error(), `wordpress:network: looks like this project's setting, but the project is named "blog"`) ||
		!strings.Contains(err.Error(), "blog:network") {
		t.Errorf("err = %v", err)
	}
	// The same keys under the new name are read.
	cfg, err := config.Load(map[string]string{"aws:region": "us-east-1", "blog:network": `{"azCount": 2}`, "blog:environment": "development"}, "blog", "dev", config.Offline())
	if err != nil || cfg.Network.AZCount != 2 || cfg.Production() {
		t.Errorf("renamed project: cfg %+v, err %v", cfg, err)
	}
}

func TestANestedKeyWithoutPathSaysToUsePath(t *testing.T) {
	r := raw("", "wordpress:network.azCount", "3")
	p := problems(t, r)
	if !strings.Contains(p.Error(), "needs --path") || !strings.Contains(p.Error(), "pulumi config set --path 'wordpress:network.azCount' <value> -s test") {
		t.Errorf("problems = %v", p)
	}
}

func TestUserTagsCannotOverrideTheStacksOwn(t *testing.T) {
	for _, k := range config.ReservedTags {
		p := problems(t, raw("", "wordpress:tags", `{"`+k+`": "prod"}`))
		if !strings.Contains(p.Error(), "tags."+k+": is set by the program") {
			t.Errorf("tag %s: %v", k, p)
		}
	}
}

func TestNoNATWithoutEndpointsIsRefused(t *testing.T) {
	p := problems(t, raw(`{"natStrategy": "none", "singleNatReason": "isolated", "interfaceEndpoints": false}`))
	if !strings.Contains(p.Error(), "network.natStrategy") || !strings.Contains(p.Error(), "network.interfaceEndpoints") {
		t.Errorf("problems = %v", p)
	}
}

func TestPinnedZonesSetTheZoneCount(t *testing.T) {
	cfg, err := config.Load(raw(`{"availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]}`), "wordpress", "test", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Network.AZCount != 4 {
		t.Errorf("azCount = %d, want 4 from the pinned zones", cfg.Network.AZCount)
	}
	// Given both, they must agree.
	p := problems(t, raw(`{"azCount": 3, "availabilityZones": ["us-east-1a", "us-east-1b"]}`))
	if !strings.Contains(p.Error(), "make them agree") {
		t.Errorf("problems = %v", p)
	}
}
