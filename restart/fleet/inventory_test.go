package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

const contractEntry = `{"account":"123456789012","region":"us-east-1","cluster":"web",
 "service":"wordpress","arn":"arn:aws:ecs:us-east-1:123456789012:service/web/wordpress",
 "desiredCount":2,"schedulingStrategy":"REPLICA","deploymentController":"ECS",
 "tags":{"ecs_task_daily_restart":"2025-01-01T00:00:00Z","owner":"cms"}}`

func TestReadInventoryReadsTheContractFormat(t *testing.T) {
	got, err := ReadInventory(strings.NewReader("[" + contractEntry + "]"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Service{{
		Account: "123456789012", Region: "us-east-1", Cluster: "web", Service: "wordpress",
		ARN:          "arn:aws:ecs:us-east-1:123456789012:service/web/wordpress",
		DesiredCount: 2, SchedulingStrategy: "REPLICA", DeploymentController: "ECS",
		Tags: map[string]string{RestartTag: "2025-01-01T00:00:00Z", "owner": "cms"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestReadInventoryAcceptsOptionalFieldsAbsentAndOldARNs(t *testing.T) {
	in := `[{"account":"000000000001","region":"eu-west-1","cluster":"arn:aws:ecs:eu-west-1:000000000001:cluster/c_1",
	"service":"s","arn":"arn:aws:ecs:eu-west-1:000000000001:service/c_1/s","desiredCount":0},
	{"account":"000000000001","region":"us-gov-west-1","cluster":"c","service":"old",
	"arn":"arn:aws-us-gov:ecs:us-gov-west-1:000000000001:service/old","desiredCount":1,"tags":null}]`
	got, err := ReadInventory(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].DesiredCount != 0 || got[1].Tags != nil {
		t.Fatalf("got %+v", got)
	}
}

func TestReadInventoryNamesEntryFieldAndFix(t *testing.T) {
	for _, tc := range []struct {
		name  string
		entry string // replaces the second entry
		want  []string
	}{
		{"missing ARN", `{"account":"123456789012","region":"us-east-1","cluster":"web","service":"wordpress","desiredCount":1}`,
			[]string{"inventory[1].arn: missing; every service needs its ARN"}},
		{"empty ARN", strings.Replace(contractEntry, `"arn":"arn:aws:ecs:us-east-1:123456789012:service/web/wordpress"`, `"arn":""`, 1),
			[]string{"inventory[1].arn: empty; every service needs its ARN"}},
		{"missing desired count is not zero", strings.Replace(contractEntry, `"desiredCount":2,`, "", 1),
			[]string{"inventory[1].desiredCount: missing"}},
		{"unknown field", strings.Replace(contractEntry, `"desiredCount"`, `"desired"`, 1),
			[]string{"inventory[1].desired: unknown field", "inventory[1].desiredCount: missing"}},
		{"field in the wrong case", strings.Replace(contractEntry, `"desiredCount"`, `"desiredcount"`, 1),
			[]string{`inventory[1].desiredcount: unknown field (did you mean "desiredCount"?)`, "inventory[1].desiredCount: missing"}},
		{"wrong type", strings.Replace(contractEntry, `"desiredCount":2`, `"desiredCount":"2"`, 1),
			[]string{"inventory[1].desiredCount: got a string, want a whole number"}},
		{"fraction", strings.Replace(contractEntry, `"desiredCount":2`, `"desiredCount":2.5`, 1),
			[]string{"inventory[1].desiredCount: got the number 2.5"}},
		{"short account", strings.Replace(contractEntry, `"account":"123456789012"`, `"account":"23456789012"`, 1),
			[]string{`inventory[1].account: "23456789012" is not an AWS account id`}},
		{"account as a number", strings.Replace(contractEntry, `"account":"123456789012"`, `"account":123456789012`, 1),
			[]string{"inventory[1].account: got the number 123456789012, want a string"}},
		{"not an ECS ARN", strings.Replace(contractEntry, `arn:aws:ecs:us-east-1:123456789012:service/web/wordpress`, `arn:aws:s3:::bucket`, 1),
			[]string{"inventory[1].arn: \"arn:aws:s3:::bucket\" is not an ECS ARN"}},
		{"cluster ARN instead of service ARN", strings.Replace(contractEntry, `service/web/wordpress`, `cluster/web`, 1),
			[]string{"is not an ECS service ARN"}},
		{"ARN of another service", strings.Replace(contractEntry, `service/web/wordpress`, `service/web/blog`, 1),
			[]string{`inventory[1].arn: service "blog" in the ARN differs from service "wordpress"`}},
		{"ARN in another cluster", strings.Replace(contractEntry, `service/web/wordpress`, `service/api/wordpress`, 1),
			[]string{`inventory[1].arn: cluster "api" in the ARN differs`}},
		{"bad region", strings.Replace(contractEntry, `"region":"us-east-1"`, `"region":"US East"`, 1),
			[]string{`inventory[1].region: "US East" is not an AWS region`}},
		{"negative desired count", strings.Replace(contractEntry, `"desiredCount":2`, `"desiredCount":-1`, 1),
			[]string{"inventory[1].desiredCount: -1 is negative"}},
		{"unknown controller", strings.Replace(contractEntry, `"deploymentController":"ECS"`, `"deploymentController":"ecs"`, 1),
			[]string{`inventory[1].deploymentController: "ecs" is not an ECS deployment controller`}},
		{"unknown strategy", strings.Replace(contractEntry, `"schedulingStrategy":"REPLICA"`, `"schedulingStrategy":"SPREAD"`, 1),
			[]string{`inventory[1].schedulingStrategy: "SPREAD" is not an ECS scheduling strategy`}},
		{"tag value not a string", strings.Replace(contractEntry, `"owner":"cms"`, `"owner":7`, 1),
			[]string{`inventory[1].tags["owner"]: got the number 7, want a string`}},
		{"tags not an object", strings.Replace(contractEntry, `"tags":{`, `"tags":[],"x":{`, 1),
			[]string{"inventory[1].tags: got an array, want an object", "inventory[1].x: unknown field"}},
		{"entry not an object", `"arn:aws:ecs:us-east-1:123456789012:service/web/wordpress"`,
			[]string{"inventory[1]: got a string, want an object"}},
		{"null entry", `null`, []string{"inventory[1]: got null, want an object"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := "[" + contractEntry + ",\n" + tc.entry + "]"
			_, err := ReadInventory(strings.NewReader(in))
			var ierr *InventoryError
			if !errors.As(err, &ierr) {
				t.Fatalf("err = %v, want an *InventoryError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nwant it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "inventory[0]") {
				t.Errorf("error blames the valid entry 0:\n%v", err)
			}
			if ierr.Total != len(ierr.Problems) || ierr.Total != len(tc.want) {
				t.Errorf("%d problems reported, want %d:\n%v", ierr.Total, len(tc.want), err)
			}
		})
	}
}

func TestReadInventoryRejectsWhatIsNotAnArray(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"services":[]}`, "got a JSON object, want an array of services"},
		{`null`, "got null, want a JSON array"},
		{"[\n" + contractEntry + ",\n]", "invalid JSON at line 6, column 1"},
		{`[] []`, "invalid JSON at line 1, column 4"},
		{``, "invalid JSON at line 1, column 0"},
	} {
		_, err := ReadInventory(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadInventory(%q) = %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
	got, err := ReadInventory(strings.NewReader(" [ ] "))
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty inventory: %v, %v; want an empty slice", got, err)
	}
}

func TestReadInventoryReportsAllProblemsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	for i := range 200 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"account":"123456789012","region":"us-east-1","cluster":"c","service":"s%d","desiredCount":1}`, i)
	}
	b.WriteString("]")
	_, err := ReadInventory(strings.NewReader(b.String()))
	var ierr *InventoryError
	if !errors.As(err, &ierr) {
		t.Fatalf("err = %v, want an *InventoryError", err)
	}
	if ierr.Total != 200 || len(ierr.Problems) != maxProblems {
		t.Fatalf("total %d, kept %d; want 200 and %d", ierr.Total, len(ierr.Problems), maxProblems)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "inventory: 200 problems\n") || !strings.HasSuffix(msg, "... and 150 more") ||
		!strings.Contains(msg, "inventory[49].arn: missing") {
		t.Fatalf("message:\n%s", msg)
	}
}

func TestReadInventoryRoundTripsGeneratedFleets(t *testing.T) {
	for seed := range uint64(5) {
		fleet := randomFleet(rand.New(rand.NewPCG(seed, 1)), 300, 7, 40)
		data, err := json.Marshal(fleet)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadInventory(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, fleet) {
			t.Fatalf("seed %d: read back a different fleet", seed)
		}
	}
}

func TestServiceValidateListsEveryProblem(t *testing.T) {
	err := Service{Account: "1", ARN: "x", DesiredCount: -2}.Validate()
	if err == nil {
		t.Fatal("invalid service accepted")
	}
	for _, w := range []string{"region: missing", "cluster: missing", "service: missing", `account: "1" is not`, `arn: "x" is not an ECS ARN`, "desiredCount: -2"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%v\nwant it to contain %q", err, w)
		}
	}
}

// FuzzReadInventory checks that any input is either rejected with an
// error or read into services that are each valid and that read back the
// same when written out again.
func FuzzReadInventory(f *testing.F) {
	f.Add("[" + contractEntry + "]")
	f.Add("[" + contractEntry + "," + contractEntry + "]")
	f.Add(`[{"account":"123456789012","region":"us-east-1","cluster":"c","service":"s","arn":"arn:aws:ecs:us-east-1:123456789012:service/s","desiredCount":1,"tags":{"":"x"}}]`)
	f.Add(`[{"arn":null,"Arn":"x","tags":{"a":null}}]`)
	f.Add(`[1, "a", [], {}]`)
	f.Add(`[{"desiredCount":99999999999}]`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, in string) {
		services, err := ReadInventory(strings.NewReader(in))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for i, s := range services {
			if err := s.Validate(); err != nil {
				t.Fatalf("entry %d accepted but invalid: %v", i, err)
			}
		}
		data, err := json.Marshal(services)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ReadInventory(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("written inventory rejected: %v\n%s", err, data)
		}
		if len(again) != len(services) {
			t.Fatalf("read back %d services, want %d", len(again), len(services))
		}
	})
}
