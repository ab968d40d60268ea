package platform

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/data"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

// The recorder cannot see stack outputs (Pulumi's mocks drop them), so this
// resolves the data tier's exports inside a run and looks at each.
func TestStackOutputsShowTheEndpointAndNeverThePassword(t *testing.T) {
	const password = "Kx7-vQ2#mW9!pL4$zR8"
	var mu sync.Mutex
	values := map[string]string{}
	secret := map[string]bool{}
	exported := 0
	program := func(ctx *pulumi.Context) error {
		env := account.Env{AccountID: "123456789012", Region: "us-east-1", Partition: "aws", DNSSuffix: "amazonaws.com"}
		d := config.DefaultData()
		db, err := data.NewDatabase(ctx, "t-db", data.DatabaseArgs{
			Env: env, Identifier: "t-db", SubnetIDs: pulumi.ToStringArray([]string{"subnet-a", "subnet-b"}),
			AvailabilityZones: []string{"us-east-1a", "us-east-1b"}, SecurityGroupID: pulumi.String("sg-db"),
			KeyARN: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/db"), ParametersKeyARN: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/params"),
			ParameterPath: "/t/x/db/", EngineVersion: d.EngineVersion, ParameterGroupFamily: config.EngineVersions[d.EngineVersion],
			InstanceClass: d.InstanceClass, ReplicaInstanceClass: d.InstanceClass, StorageType: d.StorageType,
			AllocatedStorage: d.AllocatedStorage, MaxAllocatedStorage: d.MaxAllocatedStorage, Port: 3307,
			DatabaseName: d.DatabaseName, Username: d.Username, Password: config.NewSecret(password).Output(),
			MultiAZ: true, BackupRetentionDays: 7, BackupWindow: d.BackupWindow, MaintenanceWindow: d.MaintenanceWindow,
			LogExports: d.LogExports, ReadReplicas: 1,
		})
		if err != nil {
			return err
		}
		var all []pulumi.Output
		exports := dataExports(db, "/t/x/db/")
		exported = len(exports)
		for name, v := range exports {
			o := pulumi.ToOutput(v)
			isSecret := pulumi.IsSecret(o)
			all = append(all, o.ApplyT(func(x any) string {
				mu.Lock()
				defer mu.Unlock()
				values[name], secret[name] = fmt.Sprint(x), isSecret
				return ""
			}))
		}
		ctx.Export("done", pulumi.All(toInterfaces(all)...))
		return nil
	}
	if _, err := plan.Record(program, plan.Options{Project: "t", Stack: "x", Config: map[string]string{"aws:region": "us-east-1"}}); err != nil {
		t.Fatal(err)
	}
	if exported == 0 || len(values) != exported {
		t.Fatalf("resolved %d of the exports: %v", len(values), values)
	}
	for name, v := range values {
		if strings.Contains(v, password) || secret[name] {
			t.Errorf("stack output %s = %q (secret %v) carries the password", name, v, secret[name])
		}
	}
	if values["dbEndpoint"] != "t-db.c0ffee0ff1in.us-east-1.rds.amazonaws.com:3307" {
		t.Errorf("dbEndpoint = %q", values["dbEndpoint"])
	}
	if !strings.Contains(values["dbReplicaAddresses"], "t-db-replica-1.") {
		t.Errorf("dbReplicaAddresses = %q", values["dbReplicaAddresses"])
	}
}

func toInterfaces(outs []pulumi.Output) []any {
	out := make([]any, len(outs))
	for i, o := range outs {
		out[i] = o
	}
	return out
}
