package awsfleet

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestShortSessionsAreRenewedAfterThreeQuartersOfTheirLife(t *testing.T) {
	for _, c := range []struct {
		name       string
		life       time.Duration
		renewAfter time.Duration // when the cache, with a 5-minute window, renews
	}{
		{"hour-long session: 5 minutes ahead", time.Hour, 55 * time.Minute},
		{"20-second session: after 15 seconds", 20 * time.Second, 15 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := shortSessions{aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: "k", CanExpire: true, Expires: time.Now().Add(c.life)}, nil
			}), DefaultRefreshBefore}
			got, err := p.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			renew := time.Until(got.Expires.Add(-DefaultRefreshBefore))
			if d := renew - c.renewAfter; d < -time.Second || d > time.Second {
				t.Fatalf("renewed after %v, want %v", renew.Round(time.Second), c.renewAfter)
			}
		})
	}
}
