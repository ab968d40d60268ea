package awsfleet_test

import (
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

// BenchmarkDiscover10000 discovers a 50-account, 1000-cluster,
// 10,000-service fleet served in-process, throttling off and client limits
// out of the way: the cost of discovery itself (SDK, paging, describing).
func BenchmarkDiscover10000(b *testing.B) {
	sim, err := fleetsim.New(fleetsim.Config{Seed: 1, Accounts: 50, Clusters: 1000, Services: 10000, NoThrottle: true})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	cfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(sim.HubAccessKeyID(), "x", ""),
		Retryer:      awsfleet.NewRetryer(awsfleet.DefaultRetryPolicy()),
	}
	unlimited := awsfleet.Rate{PerSecond: 1e9, Burst: 1e9}
	var found int
	for b.Loop() {
		f := awsfleet.New(awsfleet.AssumeRoleClients(cfg, awsfleet.Roles{Name: sim.RoleName(), SessionName: "bench"}),
			awsfleet.WithLimits(awsfleet.Limits{Modify: unlimited, Tag: unlimited, ClusterRead: unlimited, ServiceRead: unlimited, History: unlimited}))
		found = 0
		results := f.DiscoverEach(b.Context(), sim.Accounts(), sim.Regions(), func(_ awsfleet.AccountResult, services []fleet.Service) {
			found += len(services)
		})
		for _, r := range results {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	if found != 10000 {
		b.Fatalf("discovered %d services, want 10000", found)
	}
	b.ReportMetric(float64(found), "services/op")
}
