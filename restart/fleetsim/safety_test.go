package fleetsim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

func describeWithTags(t *testing.T, c *ecs.Client, cluster, name string) ecstypes.Service {
	t.Helper()
	out, err := c.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name},
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Services) != 1 {
		t.Fatalf("describe %s: %d services", name, len(out.Services))
	}
	return out.Services[0]
}

func tagOf(s ecstypes.Service, key string) string {
	for _, tg := range s.Tags {
		if aws.ToString(tg.Key) == key {
			return aws.ToString(tg.Value)
		}
	}
	return ""
}

func TestOptOutAfterDiscoveryFlipsTheTagAfterTheFirstRead(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(20)})
	postFaults(t, h, `{"kind":"opt-out-after-discovery","account":"`+memberA+`","rate":0.5}`)
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	faulted := map[string]bool{}
	for _, arn := range h.sim.Stats().Faulted[FaultOptOutAfterDiscovery] {
		faulted[arn] = true
	}
	if len(faulted) != 0 {
		t.Fatalf("faulted before any read: %v", faulted)
	}
	var picked int
	for i := range 20 {
		name := "svc-" + pad3(i)
		first := describeWithTags(t, c, "big", name)
		if v := tagOf(first, fleet.RestartTag); v != "enabled" {
			t.Fatalf("%s: discovery's read shows %q, want the tag as it was", name, v)
		}
		second := describeWithTags(t, c, "big", name)
		if tagOf(second, fleet.RestartTag) == fleet.OptOutValue {
			picked++
		}
	}
	got := h.sim.Stats().Faulted[FaultOptOutAfterDiscovery]
	if picked == 0 || picked == 20 || len(got) != picked {
		t.Fatalf("%d of 20 opted out, stats list %d (%v); want about half, each listed", picked, len(got), got)
	}
}

func TestForeignDeploymentIsInProgressWhenTheRestartComes(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(2), DeployTime: time.Minute})
	postFaults(t, h, `{"kind":"foreign-deployment","service":"svc-001"}`)
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	if d := describeWithTags(t, c, "big", "svc-001").Deployments; len(d) != 1 {
		t.Fatalf("discovery's read: %d deployments, want the steady one", len(d))
	}
	h.clock.Advance(time.Hour)
	s := describeWithTags(t, c, "big", "svc-001")
	if len(s.Deployments) != 2 || s.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateInProgress ||
		aws.ToString(s.Deployments[1].Status) != "ACTIVE" {
		t.Fatalf("an hour later: %+v, want someone else's deployment still in progress over the old one", s.Deployments)
	}
	if d := describeWithTags(t, c, "big", "svc-000").Deployments; len(d) != 1 {
		t.Fatalf("svc-000 was not picked but has %d deployments", len(d))
	}
	if got := h.sim.Stats().Faulted[FaultForeignDeployment]; len(got) != 1 || !strings.HasSuffix(got[0], "/svc-001") {
		t.Fatalf("faulted = %v", got)
	}
	// Not the restart's: the fleet's count of restarts stays at zero.
	if n := len(h.sim.Stats().Deployments); n != 0 {
		t.Fatalf("deployments counted as restarts: %v", h.sim.Stats().Deployments)
	}
}

func TestPeakRateIsTheBusiestTenSecondsOfABucket(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(3), NoThrottle: true})
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	ctx := context.Background()
	// 40 reads in the first second, then 5 a second for 30 seconds: the
	// busiest 10 s hold 40 + 9*5 = 85 calls.
	for range 40 {
		if _, err := c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("big")}); err != nil {
			t.Fatal(err)
		}
	}
	for range 30 {
		h.clock.Advance(time.Second)
		for range 5 {
			if _, err := c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("big")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	forceDeploy(t, c, "big", "svc-000")
	peak := h.sim.Stats().PeakRate10s[memberA+"/"+region]
	if peak["service-read"] != 8.5 || peak["service-modify"] != 0.1 {
		t.Fatalf("peak = %v, want service-read 8.5/s and service-modify 0.1/s", peak)
	}
}

func TestServiceRevisionsNameTheImageDigestEachDeploymentResolved(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(8), DeployTime: time.Minute})
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	ctx := context.Background()
	changed, same := 0, 0
	for i := range 8 {
		name := "svc-" + pad3(i)
		forceDeploy(t, c, "big", name)
		list, err := c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("big"), Service: aws.String(name)})
		if err != nil || len(list.ServiceDeployments) == 0 {
			t.Fatalf("list: %v %+v", err, list)
		}
		sd, err := c.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn)}})
		if err != nil || len(sd.ServiceDeployments) != 1 || len(sd.ServiceDeployments[0].SourceServiceRevisions) != 1 {
			t.Fatalf("describe deployment: %v %+v", err, sd)
		}
		src, dst := aws.ToString(sd.ServiceDeployments[0].SourceServiceRevisions[0].Arn), aws.ToString(sd.ServiceDeployments[0].TargetServiceRevision.Arn)
		revs, err := c.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{src, dst, dst + "0"}})
		if err != nil || len(revs.ServiceRevisions) != 2 || len(revs.Failures) != 1 {
			t.Fatalf("revisions: %v %+v", err, revs)
		}
		before, after := revs.ServiceRevisions[0].ContainerImages[0], revs.ServiceRevisions[1].ContainerImages[0]
		if !strings.HasPrefix(aws.ToString(after.ImageDigest), "sha256:") || aws.ToString(before.Image) != aws.ToString(after.Image) {
			t.Fatalf("images %+v -> %+v", before, after)
		}
		if aws.ToString(before.ImageDigest) == aws.ToString(after.ImageDigest) {
			same++
			if strings.HasSuffix(aws.ToString(after.Image), ":latest") {
				t.Errorf("%s: a mutable tag kept the digest of a deployment days old", name)
			}
		} else {
			changed++
		}
	}
	if changed == 0 || same == 0 {
		t.Fatalf("%d digests changed, %d kept: want both, as pinned and mutable tags", changed, same)
	}
	_, err := c.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: make([]string, 21)})
	if code := apiCode(t, err); code != "InvalidParameterException" {
		t.Fatalf("21 ARNs: code %s", code)
	}
}

func pad3(i int) string {
	return string([]byte{byte('0' + i/100), byte('0' + i/10%10), byte('0' + i%10)})
}
