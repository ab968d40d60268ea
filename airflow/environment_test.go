package airflow_test

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/airflow"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

func record(t *testing.T, dags fstest.MapFS) map[string]string {
	t.Helper()
	p, err := plan.Record(func(ctx *pulumi.Context) error {
		_, err := airflow.NewEnvironment(ctx, "test-airflow", airflow.EnvironmentArgs{
			EnvironmentName: "test", AirflowVersion: "3.0.6", EnvironmentClass: "mw1.small",
			WebserverAccessMode: "PRIVATE_ONLY", LogLevel: "INFO", LogRetentionDays: 30,
			VpcID:     pulumi.String("vpc-1"),
			SubnetIDs: [2]pulumi.StringInput{pulumi.String("subnet-a"), pulumi.String("subnet-b")},
			DAGs:      dags, Env: account.Env{AccountID: "123456789012", Region: "us-east-1", Partition: "aws", DNSSuffix: "amazonaws.com"},
		})
		return err
	}, plan.Options{Project: "wordpress", Stack: "test", Config: map[string]string{"aws:region": "us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	objects := map[string]string{}
	for _, o := range p.OfType("aws:s3/bucketObjectv2:BucketObjectv2") {
		b, _ := json.Marshal(o.Inputs)
		objects[o.String("key")] = string(b)
	}
	return objects
}

func TestChangingOneDAGChangesOnlyItsObject(t *testing.T) {
	before := record(t, fstest.MapFS{
		"a_dag.py":         {Data: []byte("print('a')\n")},
		"sub/b_dag.py":     {Data: []byte("print('b')\n")},
		"sql/report.sql":   {Data: []byte("select 1;\n")},
		"bin/blob.parquet": {Data: []byte{0xff, 0x00, 0xfe}},
	})
	if len(before) != 4 {
		t.Fatalf("objects = %v, want one per file", before)
	}
	for _, key := range []string{"dags/a_dag.py", "dags/sub/b_dag.py", "dags/sql/report.sql", "dags/bin/blob.parquet"} {
		if _, ok := before[key]; !ok {
			t.Errorf("no object %s", key)
		}
	}
	if !strings.Contains(before["dags/bin/blob.parquet"], `"contentBase64":"/wD+"`) {
		t.Errorf("binary file is not uploaded byte for byte: %s", before["dags/bin/blob.parquet"])
	}
	after := record(t, fstest.MapFS{
		"a_dag.py":         {Data: []byte("print('a')\n")},
		"sub/b_dag.py":     {Data: []byte("print('B')\n")},
		"sql/report.sql":   {Data: []byte("select 1;\n")},
		"bin/blob.parquet": {Data: []byte{0xff, 0x00, 0xfe}},
	})
	for key, inputs := range before {
		changed := after[key] != inputs
		if changed != (key == "dags/sub/b_dag.py") {
			t.Errorf("%s: inputs changed = %v after editing only sub/b_dag.py", key, changed)
		}
	}
}

func TestAnEmptyDAGFolderIsRefused(t *testing.T) {
	_, err := plan.Record(func(ctx *pulumi.Context) error {
		_, err := airflow.NewEnvironment(ctx, "test-airflow", airflow.EnvironmentArgs{
			EnvironmentName: "test", VpcID: pulumi.String("vpc-1"),
			SubnetIDs: [2]pulumi.StringInput{pulumi.String("subnet-a"), pulumi.String("subnet-b")},
			DAGs:      fstest.MapFS{}, Env: account.Env{AccountID: "123456789012", Region: "us-east-1", Partition: "aws", DNSSuffix: "amazonaws.com"},
		})
		return err
	}, plan.Options{Project: "wordpress", Stack: "test", Config: map[string]string{"aws:region": "us-east-1"}})
	if err == nil || !strings.Contains(err.Error(), "the DAG folder is empty") {
		t.Errorf("err = %v, want the empty DAG folder refused", err)
	}
}
