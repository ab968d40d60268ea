package config_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
)

// withCompute is a stack's raw config with wordpress:compute replaced.
func withCompute(t *testing.T, stack, compute string) map[string]string {
	t.Helper()
	r := stacktest.RawConfig(t, stack)
	r["wordpress:compute"] = compute
	return r
}

func TestComputeMistakesAreRefusedWithTheFix(t *testing.T) {
	cases := []struct {
		name, stack, compute, want string
	}{
		{"cpu Fargate lacks", "dev", `{"cpu":300}`, "compute.cpu: Fargate offers 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units, got 300"},
		{"memory not offered with the cpu", "dev", `{"cpu":512,"memory":512}`, "compute.memory: Fargate does not run 512 CPU units with 512 MiB; with cpu 512 choose memory from 1024-4096 in steps of 1024"},
		{"memory above the cpu's range", "dev", `{"cpu":256,"memory":4096}`, "with cpu 256 choose memory from 512, 1024, 2048"},
		{"HTTPS without a certificate", "prod", `{"https":{"enabled":true}}`, "compute.https: is enabled without a certificate: set compute.https.certificateArn"},
		{"new certificate without a zone", "prod", `{"https":{"enabled":true,"domainName":"www.example.com"}}`, "compute.https.hostedZoneId: a new certificate for www.example.com is validated"},
		{"certificate of another Region", "prod", `{"https":{"enabled":true,"certificateArn":"arn:aws:acm:eu-west-1:123456789012:certificate/0b0b0b0b-1111-4222-8333-444444444444"}}`, "the certificate is in eu-west-1 but the stack deploys to us-east-1"},
		{"TLS 1.0 policy", "prod", `{"https":{"enabled":true,"certificateArn":"arn:aws:acm:us-east-1:123456789012:certificate/0b0b0b0b-1111-4222-8333-444444444444","sslPolicy":"ELBSecurityPolicy-2016-08"}}`, `compute.https.sslPolicy: "ELBSecurityPolicy-2016-08" is not a load balancer policy limited to TLS 1.2`},
		{"latest in production", "prod", `{"imageTag":"latest"}`, `compute.imageTag: "latest" is refused in a production stack`},
		{"not a tag", "dev", `{"imageTag":"6.8 apache"}`, `compute.imageTag: "6.8 apache" is not a Docker tag`},
		{"exec in production", "prod", `{"enableExecuteCommand":true}`, "compute.enableExecuteCommand: is on in a production stack"},
		{"desired outside scaling range", "prod", `{"desiredCount":2}`, "compute.desiredCount (2) is outside autoscaling.minCapacity..maxCapacity (3..12)"},
		{"WAF rate limit too low", "prod", `{"waf":{"rateLimit":5}}`, "compute.waf.rateLimit: AWS WAF accepts 10..2000000000 requests per 5 minutes, got 5"},
		{"IA transition AWS lacks", "dev", `{"fileSystem":{"transitionToIa":"AFTER_2_DAYS"}}`, "compute.fileSystem.transitionToIa: EFS accepts AFTER_1_DAY"},
		{"public image without a NAT", "dev", `{}`, `compute.image: "public.ecr.aws/docker/library/wordpress" is pulled over the internet, but network.natStrategy is "none"`},
		{"unknown setting", "dev", `{"desiredcount":2}`, `compute.desiredcount: unknown setting (did you mean "desiredCount"?)`},
		{"install open to the internet", "dev", `{"adminCidrs":["0.0.0.0/0"]}`, `compute.adminCidrs[0]: "0.0.0.0/0" is the whole internet: whoever submits the install form first owns the site`},
		{"not an address range", "dev", `{"adminCidrs":["203.0.113.7"]}`, `compute.adminCidrs[0]: "203.0.113.7" is not an address range such as 203.0.113.7/32`},
		{"host bits in a range", "dev", `{"adminCidrs":["203.0.113.7/24"]}`, `compute.adminCidrs[0]: "203.0.113.7/24" has host bits set; write it as 203.0.113.0/24`},
		{"a range twice", "dev", `{"adminCidrs":["203.0.113.0/24","203.0.113.0/24"]}`, `compute.adminCidrs[1]: "203.0.113.0/24" is listed twice`},
		{"more ranges than rules carry", "dev", `{"adminCidrs":[` + ranges31() + `]}`, "compute.adminCidrs: 31 ranges given, at most 30 (three per load balancer rule, ten rules)"},
		{"file editor in production", "prod", `{"wordpress":{"disallowFileEdit":false,"uploadMaxMb":64}}`, "compute.wordpress.disallowFileEdit: is false in a production stack"},
		{"upload limit PHP cannot use", "dev", `{"wordpress":{"disallowFileEdit":true,"uploadMaxMb":0}}`, "compute.wordpress.uploadMaxMb: must be 1..2048 MB, got 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := withCompute(t, c.stack, c.compute)
			if c.name == "public image without a NAT" {
				stacktest.SetNetwork(t, r, map[string]any{"natStrategy": "none", "interfaceEndpoints": true})
			}
			_, err := config.Load(r, "wordpress", c.stack, config.Offline())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v\nwant one containing %q", err, c.want)
			}
		})
	}
}

// ranges31 is 31 distinct /32s, one more than the install rules carry.
func ranges31() string {
	var r []string
	for i := 1; i <= 31; i++ {
		r = append(r, `"203.0.113.`+strconv.Itoa(i)+`/32"`)
	}
	return strings.Join(r, ",")
}

func TestLatestIsAllowedOutsideProduction(t *testing.T) {
	if _, err := config.Load(withCompute(t, "dev", `{"imageTag":"latest","enableExecuteCommand":true}`), "wordpress", "dev", config.Offline()); err != nil {
		t.Error(err)
	}
}

func TestEveryFargatePairAWSListsIsAccepted(t *testing.T) {
	for _, cpu := range []int{256, 512, 1024, 2048, 4096, 8192, 16384} {
		mem := config.FargateMemory(cpu)
		if len(mem) == 0 {
			t.Fatalf("no memory sizes for cpu %d", cpu)
		}
		for _, m := range []int{mem[0], mem[len(mem)-1]} {
			r := withCompute(t, "dev", `{"cpu":`+itoa(cpu)+`,"memory":`+itoa(m)+`}`)
			if _, err := config.Load(r, "wordpress", "dev", config.Offline()); err != nil {
				t.Errorf("cpu %d memory %d: %v", cpu, m, err)
			}
		}
	}
	// Spot checks against the ECS guide's table.
	for cpu, m := range map[int]int{1024: 8192, 4096: 30720, 8192: 61440, 16384: 122880} {
		if mem := config.FargateMemory(cpu); mem[len(mem)-1] != m {
			t.Errorf("cpu %d: largest memory %d, want %d", cpu, mem[len(mem)-1], m)
		}
	}
}

func TestBastionArchitectureFollowsTheInstanceType(t *testing.T) {
	for typ, want := range map[string]string{"t4g.nano": "arm64", "m7gd.large": "arm64", "t3.micro": "x86_64", "m7i.large": "x86_64"} {
		if got := (config.Bastion{InstanceType: typ}).Architecture(); got != want {
			t.Errorf("%s: %s, want %s", typ, got, want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
