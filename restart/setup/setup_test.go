package setup

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnvReadsTheLambdaSettings(t *testing.T) {
	s, err := FromEnv(env(map[string]string{
		"ACCOUNTS": "111111111111, 222222222222", "REGIONS": "us-east-1,us-west-2", "ROLE_NAME": "ecs-daily-restart",
		"ENROLLMENT": "all", "WINDOW_START": "22:00", "WINDOW_LENGTH": "8h", "BATCH_INTERVAL": "15m", "TIME_ZONE": "America/Bogota",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Accounts) != 2 || len(s.Regions) != 2 || s.Roles.Name != "ecs-daily-restart" || s.Enrollment != "all" {
		t.Fatalf("settings = %+v", s)
	}
	if s.Window.Start != 22*time.Hour || s.Window.Length != 8*time.Hour || s.Window.Interval != 15*time.Minute || s.Location.String() != "America/Bogota" {
		t.Fatalf("window = %+v in %v", s.Window, s.Location)
	}
	if s.MinInterval != 20*time.Hour || s.OutsideWindow || s.RecordTTL != 90*24*time.Hour {
		t.Fatalf("defaults: min interval %v, outside window %v, record TTL %v; want 20h, false, 90 days", s.MinInterval, s.OutsideWindow, s.RecordTTL)
	}
}

func TestFromEnvReadsTheWindowGuardAndTTL(t *testing.T) {
	s, err := FromEnv(env(map[string]string{
		"ACCOUNTS": "111111111111", "REGIONS": "us-east-1", "ROLE_NAME": "r",
		"MIN_INTERVAL": "12h", "OUTSIDE_WINDOW": "true", "RECORD_TTL_DAYS": "30", "EXPECTED_DEPLOYMENT_TIME": "25m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.DeploymentTime != 25*time.Minute {
		t.Fatalf("deployment time %v, want 25m", s.DeploymentTime)
	}
	if s.MinInterval != 12*time.Hour || !s.OutsideWindow || s.RecordTTL != 30*24*time.Hour {
		t.Fatalf("min interval %v, outside window %v, record TTL %v; want 12h, true, 30 days", s.MinInterval, s.OutsideWindow, s.RecordTTL)
	}
}

func TestFromEnvNamesEveryMissingOrBadVariable(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"ENROLLMENT": "some", "WINDOW_LENGTH": "six hours", "TIME_ZONE": "Mars/Olympus",
		"MIN_INTERVAL": "a day", "OUTSIDE_WINDOW": "maybe", "RECORD_TTL_DAYS": "0", "EXPECTED_DEPLOYMENT_TIME": "0s"}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"ACCOUNTS", "REGIONS", "ROLE_NAME", "ENROLLMENT", "WINDOW_LENGTH", "TIME_ZONE", "MIN_INTERVAL", "OUTSIDE_WINDOW", "RECORD_TTL_DAYS", "EXPECTED_DEPLOYMENT_TIME"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

func TestFromEnvReadsTheClusterAllowListAndTheStack(t *testing.T) {
	s, err := FromEnv(env(map[string]string{
		"ACCOUNTS": "123456789012", "REGIONS": "us-east-1", "ROLE_NAME": "r", "STACK": "dev",
		"CLUSTERS": "arn:aws:ecs:us-east-1:123456789012:cluster/wordpress-dev",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Clusters) != 1 || s.Clusters[0] != "arn:aws:ecs:us-east-1:123456789012:cluster/wordpress-dev" || s.Stack != "dev" {
		t.Fatalf("clusters %v, stack %q", s.Clusters, s.Stack)
	}
	_, err = FromEnv(env(map[string]string{"ACCOUNTS": "123456789012", "REGIONS": "us-east-1", "ROLE_NAME": "r", "CLUSTERS": "wordpress-dev"}))
	if err == nil || !strings.Contains(err.Error(), `CLUSTERS: "wordpress-dev" is not a cluster ARN`) {
		t.Errorf("a cluster name instead of its ARN: %v", err)
	}
}
