package config_test

import (
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

func raw(network string, extra ...string) map[string]string {
	m := map[string]string{"aws:region": "us-east-1", "wordpress:environment": "production"}
	if network != "" {
		m["wordpress:network"] = network
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

func problems(t *testing.T, r map[string]string) config.Problems {
	t.Helper()
	_, err := config.Load(r, "wordpress", "test", config.Offline())
	if err == nil {
		t.Fatalf("config %v was accepted", r)
	}
	var p config.Problems
	if !errors.As(err, &p) {
		t.Fatalf("error is %T, want config.Problems: %v", err, err)
	}
	return p
}

func TestBadConfigIsRefusedWithAnActionableMessage(t *testing.T) {
	cases := []struct {
		name string
		raw  map[string]string
		want string
	}{
		{"too few AZs", raw(`{"azCount":1}`), "network.azCount must be between 2 and 6, got 1"},
		{"too many AZs", raw(`{"azCount":7}`), "network.azCount must be between 2 and 6, got 7"},
		{"unknown top-level key", raw("", "wordpress:netwrok", `{}`), `wordpress:netwrok: unknown config key (did you mean "network"?)`},
		{"unknown network setting", raw(`{"azcount":3}`), `network.azcount: unknown setting (did you mean "azCount"?)`},
		{"wrong type", raw(`{"azCount":"three"}`), `network.azCount: must be a whole number, got "three"`},
		{"not an object", raw(`10.0.0.0/16`), `network: must be an object of settings`},
		{"unknown NAT strategy", raw(`{"natStrategy":"perAZ"}`), `network.natStrategy: must be one of "perAz", "single", "none", got "perAZ"`},
		{"single NAT in production", raw(`{"natStrategy":"single"}`), `network.natStrategy is "single" in a production stack`},
		{"no NAT in production", raw(`{"natStrategy":"none"}`), `network.natStrategy is "none" in a production stack`},
		{"bad VPC CIDR", raw(`{"cidr":"10.0.0.0/33"}`), `network.cidr: "10.0.0.0/33" is not an IPv4 CIDR block`},
		{"host bits", raw(`{"cidr":"10.0.1.0/16"}`), `did you mean 10.0.0.0/16?`},
		{"VPC too big", raw(`{"cidr":"10.0.0.0/8"}`), `AWS allows a VPC between /16 and /28, got /8`},
		{"public range", raw(`{"cidr":"8.8.0.0/16"}`), `8.8.0.0/16 is not a private range`},
		{"VPC too small to carve", raw(`{"cidr":"10.0.0.0/24"}`), `/24 is too small to carve three tiers`},
		{"subnet outside VPC", raw(`{"azCount":2,"publicSubnetCidrs":["10.0.192.0/22","10.1.0.0/22"]}`), `network.publicSubnetCidrs[1]: 10.1.0.0/22 does not fit inside network.cidr 10.0.0.0/16`},
		{"overlapping subnets", raw(`{"azCount":2,"publicSubnetCidrs":["10.0.0.0/22","10.0.196.0/22"]}`), `overlaps`},
		{"subnet count", raw(`{"azCount":3,"dataSubnetCidrs":["10.0.224.0/22"]}`), `network.dataSubnetCidrs lists 1 blocks but network.azCount is 3`},
		{"subnet too small", raw(`{"azCount":2,"dataSubnetCidrs":["10.0.224.0/29","10.0.225.0/28"]}`), `smaller than /28`},
		{"AZ of another region", raw(`{"azCount":2,"availabilityZones":["us-east-1a","eu-west-1b"]}`), `network.availabilityZones[1]: "eu-west-1b" is not a zone of region us-east-1`},
		{"same AZ twice", raw(`{"azCount":2,"availabilityZones":["us-east-1a","us-east-1a"]}`), `listed twice; subnets of one tier must be in distinct AZs`},
		{"AZ list and count disagree", raw(`{"azCount":3,"availabilityZones":["us-east-1a","us-east-1b"]}`), `lists 2 zones but network.azCount is 3`},
		{"bad retention", raw(`{"flowLogRetentionDays":100}`), `network.flowLogRetentionDays: CloudWatch Logs accepts`},
		{"bad environment", raw("", "wordpress:environment", "staging"), `wordpress:environment: must be "production" or "development", got "staging"`},
		{"waiver without reason", raw("", "wordpress:policy", `{"waivers":{"EC2.6":" "}}`), `policy.waivers.EC2.6: a waiver needs its reason`},
		{"reserved tag", raw("", "wordpress:tags", `{"aws:owner":"x"}`), `keys starting with "aws:" are reserved`},
		{"no region", map[string]string{}, `aws:region: not set; run`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := problems(t, c.raw)
			if !strings.Contains(p.Error(), c.want) {
				t.Errorf("problems:\n%v\nwant one containing %q", p, c.want)
			}
		})
	}
}

func TestStackNamesMustFitAWSNames(t *testing.T) {
	for stack, want := range map[string]string{
		"Prod_1":                          `stack name "Prod_1" goes into AWS resource names; use lowercase letters, digits and hyphens`,
		"production-eu-west-1-blue-green": `use a stack name of at most 22 characters`,
	} {
		_, err := config.Load(raw(""), "wordpress", stack, config.Offline())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("stack %q: err = %v, want %q", stack, err, want)
		}
	}
	if _, err := config.Load(raw(""), "wordpress", "prod-eu-west-1", config.Offline()); err != nil {
		t.Errorf("stack prod-eu-west-1: %v", err)
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	p := problems(t, raw(`{"azCount":1,"natStrategy":"double","flowLogRetentionDays":2}`, "wordpress:bogus", "1"))
	if len(p) != 4 {
		t.Errorf("got %d problems, want 4:\n%v", len(p), p)
	}
}

func TestProductionMayUseASingleNATWhenItSaysWhy(t *testing.T) {
	cfg, err := config.Load(raw(`{"natStrategy":"single","singleNatReason":"egress is only for patching"}`), "wordpress", "prod", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Network.NATStrategy != config.NATSingle {
		t.Errorf("natStrategy = %q", cfg.Network.NATStrategy)
	}
}

func TestUnsetSettingsKeepTheirDefaults(t *testing.T) {
	cfg, err := config.Load(raw(`{"azCount":2}`), "wordpress", "x", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	want := config.DefaultNetwork()
	want.AZCount = 2
	if !reflect.DeepEqual(cfg.Network, want) {
		t.Errorf("network = %+v, want %+v", cfg.Network, want)
	}
}

func TestPulumiYamlDeclaresTheSameDefaultsAsTheCode(t *testing.T) {
	project, err := plan.LoadProject(stacktest.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range config.Keys() {
		if config.IsSecretKey(key) {
			continue // a secret has no default: each stack sets its own
		}
		if _, ok := project.Defaults["wordpress:"+key]; !ok {
			t.Errorf("Pulumi.yaml declares no default for %s", key)
		}
	}
	var fromYaml config.Network
	if err := json.Unmarshal([]byte(project.Defaults["wordpress:network"]), &fromYaml); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromYaml, config.DefaultNetwork()) {
		t.Errorf("Pulumi.yaml network default = %+v\ncode default = %+v", fromYaml, config.DefaultNetwork())
	}
	var costFromYaml config.Cost
	if err := json.Unmarshal([]byte(project.Defaults["wordpress:cost"]), &costFromYaml); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(costFromYaml, config.Defaults().Cost) {
		t.Errorf("Pulumi.yaml cost default = %+v\ncode default = %+v", costFromYaml, config.Defaults().Cost)
	}
	var computeFromYaml config.Compute
	if err := json.Unmarshal([]byte(project.Defaults["wordpress:compute"]), &computeFromYaml); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(computeFromYaml, config.DefaultCompute()) {
		t.Errorf("Pulumi.yaml compute default = %+v\ncode default = %+v", computeFromYaml, config.DefaultCompute())
	}
	var dataFromYaml config.Data
	if err := json.Unmarshal([]byte(project.Defaults["wordpress:data"]), &dataFromYaml); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dataFromYaml, config.DefaultData()) {
		t.Errorf("Pulumi.yaml data default = %+v\ncode default = %+v", dataFromYaml, config.DefaultData())
	}
	if project.Defaults["wordpress:environment"] != string(config.Production) {
		t.Errorf("Pulumi.yaml environment default = %q", project.Defaults["wordpress:environment"])
	}
}

func TestCarvedSubnetsDoNotMoveWhenAZsAreAdded(t *testing.T) {
	prev := map[string]bool{}
	for azs := 2; azs <= 6; azs++ {
		n := config.DefaultNetwork()
		n.AZCount = azs
		s := n.Subnets()
		all := append(append(append([]string{}, s.Public...), s.Private...), s.Data...)
		now := map[string]bool{}
		for _, c := range all {
			now[c] = true
		}
		for c := range prev {
			if !now[c] {
				t.Errorf("going to %d AZs drops subnet %s", azs, c)
			}
		}
		prev = now
	}
}

func TestStackFilesAreValid(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		r := stacktest.RawConfig(t, stack)
		if _, err := config.Load(r, "wordpress", stack, config.Offline()); err != nil {
			t.Errorf("Pulumi.%s.yaml: %v", stack, err)
		}
	}
}

// FuzzNetworkConfig checks that any network setting is either refused with
// problems or yields subnets that fit the VPC and never overlap.
func FuzzNetworkConfig(f *testing.F) {
	f.Add(`{"azCount":3}`)
	f.Add(`{"cidr":"172.16.0.0/20","azCount":6}`)
	f.Add(`{"cidr":"192.168.0.0/21","azCount":2,"natStrategy":"single","singleNatReason":"x"}`)
	f.Add(`{"azCount":2,"publicSubnetCidrs":["10.0.0.0/24","10.0.1.0/24"]}`)
	f.Add(`{"cidr":"10.0.0.0/24","azCount":2,"publicSubnetCidrs":["10.0.0.0/28","10.0.0.16/28"],"privateSubnetCidrs":["10.0.0.32/28","10.0.0.48/28"],"dataSubnetCidrs":["10.0.0.64/28","10.0.0.80/28"]}`)
	f.Fuzz(func(t *testing.T, network string) {
		cfg, err := config.Load(raw(network), "wordpress", "fuzz", config.Offline())
		if err != nil {
			var p config.Problems
			if !errors.As(err, &p) || len(p) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			return
		}
		vpc := netip.MustParsePrefix(cfg.Network.CIDR)
		s := cfg.Network.Subnets()
		var seen []netip.Prefix
		for _, tier := range [][]string{s.Public, s.Private, s.Data} {
			if len(tier) != cfg.Network.AZCount {
				t.Fatalf("tier has %d subnets for %d AZs", len(tier), cfg.Network.AZCount)
			}
			for _, c := range tier {
				b := netip.MustParsePrefix(c)
				if !vpc.Contains(b.Addr()) || b.Bits() < vpc.Bits() || b.Bits() > 28 {
					t.Fatalf("subnet %s does not fit %s", b, vpc)
				}
				for _, o := range seen {
					if o.Overlaps(b) {
						t.Fatalf("subnet %s overlaps %s", b, o)
					}
				}
				seen = append(seen, b)
			}
		}
	})
}
