package governance

import "encoding/json"

// statement is one statement of an IAM, key, topic or bucket policy.
type statement struct {
	Sid       string         `json:"Sid"`
	Effect    string         `json:"Effect"`
	Principal any            `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// policyJSON renders statements as a policy document; Effect defaults to
// Allow.
func policyJSON(statements []statement) (string, error) {
	for i := range statements {
		if statements[i].Effect == "" {
			statements[i].Effect = "Allow"
		}
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(b), err
}

// denyInsecureTransport refuses every S3 request made without TLS
// (Security Hub S3.5; AWS's example policy for aws:SecureTransport).
func denyInsecureTransport(bucketARN string) statement {
	return statement{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: "*",
		Action:    "s3:*",
		Resource:  []string{bucketARN, bucketARN + "/*"},
		Condition: map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}
}
