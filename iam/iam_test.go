package iam

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/account"
)

func TestDocumentsIAMWouldRefuseAreErrors(t *testing.T) {
	tests := map[string]struct {
		policy Policy
		want   string
	}{
		"a resource in a trust policy": {
			Trust(AllowStatement("", []string{"sts:AssumeRole"}, "*").By(ServicePrincipal("airflow.amazonaws.com"))),
			"a trust policy takes no Resource",
		},
		"a trust policy without a principal": {
			Trust(Statement{Effect: Allow, Actions: []string{"sts:AssumeRole"}}),
			"no Principal",
		},
		"a principal in an identity policy": {
			Identity(AllowStatement("X", []string{"s3:GetObject"}, "arn:aws:s3:::b/*").By(Anyone())),
			"an identity policy names no Principal",
		},
		"an identity statement without resource": {
			Identity(Statement{Effect: Allow, Actions: []string{"s3:GetObject"}}),
			"no Resource",
		},
		"a null resource": {
			Identity(Statement{Effect: Allow, Actions: []string{"s3:GetObject"}, Resources: []any{nil}}),
			"empty or null resource",
		},
		"an empty condition value": {
			Identity(AllowStatement("X", []string{"kms:Decrypt"}, "*").If("StringEquals", "kms:ViaService", []string{})),
			"condition StringEquals kms:ViaService has no value",
		},
		"a duplicate sid": {
			Identity(AllowStatement("A", []string{"s3:GetObject"}, "*"), AllowStatement("A", []string{"s3:PutObject"}, "*")),
			"used twice",
		},
		"a sid with a hyphen": {
			Identity(AllowStatement("read-it", []string{"s3:GetObject"}, "*")),
			"only A-Z",
		},
		"no effect": {
			Identity(Statement{Actions: []string{"s3:GetObject"}, Resources: []any{"*"}}),
			"want Allow or Deny",
		},
		"an action without its service": {
			Identity(AllowStatement("X", []string{"GetObject"}, "*")),
			"not service:Operation",
		},
		"a resource policy without principal": {
			Resource(AllowStatement("X", []string{"sns:Publish"}, "arn:aws:sns:us-east-1:123456789012:t")),
			"no Principal",
		},
		"no statement": {Identity(), "no statement"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := tc.policy.JSON()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestServiceTrustIsPartitionAwareAndPinsTheAccount(t *testing.T) {
	cn := account.Env{AccountID: "123456789012", Region: "cn-north-1", Partition: "aws-cn", DNSSuffix: "amazonaws.com.cn"}
	js, err := ServiceTrust(cn, "lambda", "arn:aws-cn:lambda:cn-north-1:123456789012:function:*").JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	st := doc.Statement[0]
	if _, ok := st["Resource"]; ok {
		t.Errorf("trust statement has a Resource: %s", js)
	}
	if got := st["Principal"].(map[string]any)["Service"]; got != "lambda.amazonaws.com" {
		t.Errorf("Lambda's principal in aws-cn = %v, want lambda.amazonaws.com (the provider's aws_service_principal)", got)
	}
	cond := st["Condition"].(map[string]any)
	if cond["StringEquals"].(map[string]any)["aws:SourceAccount"] != "123456789012" {
		t.Errorf("no aws:SourceAccount: %s", js)
	}
	if cond["ArnLike"].(map[string]any)["aws:SourceArn"] == nil {
		t.Errorf("no aws:SourceArn: %s", js)
	}
	if got := cn.RegionalServicePrincipal("logs"); got != "logs.cn-north-1.amazonaws.com.cn" {
		t.Errorf("CloudWatch Logs' regional principal in aws-cn = %s", got)
	}
	if got := ViaService(cn, "ssm"); got != "ssm.cn-north-1.amazonaws.com.cn" {
		t.Errorf("kms:ViaService of SSM in aws-cn = %s", got)
	}
}

func TestOneValueIsWrittenAloneAndManyAsAList(t *testing.T) {
	js, err := Identity(
		AllowStatement("One", []string{"s3:GetObject"}, "arn:aws:s3:::b/*"),
		AllowStatement("Two", []string{"s3:GetObject", "s3:PutObject"}, "arn:aws:s3:::b", "arn:aws:s3:::b/*"),
	).JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Statement":[{"Action":"s3:GetObject","Effect":"Allow","Resource":"arn:aws:s3:::b/*","Sid":"One"},{"Action":["s3:GetObject","s3:PutObject"],"Effect":"Allow","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Sid":"Two"}]}`
	if js != want {
		t.Errorf("got  %s\nwant %s", js, want)
	}
}

func TestDenyInsecureTransportRefusesEveryoneWithoutTLS(t *testing.T) {
	js, err := Resource(DenyInsecureTransport("s3", "arn:aws:s3:::b", "arn:aws:s3:::b/*")).JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"Effect":"Deny"`, `"Principal":"*"`, `"Action":"s3:*"`, `"aws:SecureTransport":"false"`} {
		if !strings.Contains(js, want) {
			t.Errorf("%s lacks %s", js, want)
		}
	}
}
