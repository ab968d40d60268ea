package fleet

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func svc(name string, mutate ...func(*Service)) Service {
	s := Service{
		Account: "123456789012", Region: "us-east-1", Cluster: "web", Service: name,
		ARN:          "arn:aws:ecs:us-east-1:123456789012:service/web/" + name,
		DesiredCount: 2, SchedulingStrategy: StrategyReplica,
		Tags: map[string]string{RestartTag: ""},
	}
	for _, m := range mutate {
		m(&s)
	}
	return s
}

func TestClassifyGivesEachServiceOneReason(t *testing.T) {
	untagged := func(s *Service) { delete(s.Tags, RestartTag) }
	for _, tc := range []struct {
		name       string
		s          Service
		enrollment Enrollment
		want       Reason // empty: eligible
	}{
		{"tagged replica service", svc("a"), EnrollTagged, ""},
		{"tag holding the last restart", svc("a", func(s *Service) { s.Tags[RestartTag] = "2025-01-01T00:00:00Z" }), EnrollTagged, ""},
		{"daemon service is restartable", svc("a", func(s *Service) { s.SchedulingStrategy = StrategyDaemon }), EnrollTagged, ""},
		{"ECS controller named explicitly", svc("a", func(s *Service) { s.DeploymentController = ControllerECS }), EnrollTagged, ""},
		{"desired count zero", svc("a", func(s *Service) { s.DesiredCount = 0 }), EnrollAll, ReasonDesiredZero},
		{"external controller", svc("a", func(s *Service) { s.DeploymentController = ControllerExtern }), EnrollAll, ReasonExternalController},
		{"CodeDeploy controller", svc("a", func(s *Service) { s.DeploymentController = ControllerCode }), EnrollAll, ReasonCodeDeploy},
		{"opted out", svc("a", func(s *Service) { s.Tags[RestartTag] = OptOutValue }), EnrollAll, ReasonOptedOut},
		{"opted out in capitals", svc("a", func(s *Service) { s.Tags[RestartTag] = " Disabled " }), EnrollAll, ReasonOptedOut},
		{"opt-out wins over desired zero", svc("a", func(s *Service) { s.Tags[RestartTag] = OptOutValue; s.DesiredCount = 0 }), EnrollAll, ReasonOptedOut},
		{"untagged with enrollment tagged", svc("a", untagged), EnrollTagged, ReasonUnenrolled},
		{"untagged with the default enrollment", svc("a", untagged), "", ReasonUnenrolled},
		{"untagged with enrollment all", svc("a", untagged), EnrollAll, ""},
		{"invalid entry", svc("a", func(s *Service) { s.ARN = "arn:aws:ecs:us-east-1:123456789012:service/web/b" }), EnrollAll, ReasonInvalid},
		{"no ARN", svc("a", func(s *Service) { s.ARN = "" }), EnrollAll, ReasonInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Classify([]Service{tc.s}, tc.enrollment)
			if len(c.Eligible)+len(c.Skipped) != 1 {
				t.Fatalf("classified %d eligible and %d skipped, want one service in all", len(c.Eligible), len(c.Skipped))
			}
			var got Reason
			if len(c.Skipped) == 1 {
				got = c.Skipped[0].Reason
				if c.Skipped[0].ARN != tc.s.ARN {
					t.Fatalf("skipped %q, want %q", c.Skipped[0].ARN, tc.s.ARN)
				}
			}
			if got != tc.want {
				t.Fatalf("reason %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClassifyListsUnenrolledByOwnerWhetherOrNotRestarted(t *testing.T) {
	untagged := func(owner, team string) func(*Service) {
		return func(s *Service) {
			s.Tags = map[string]string{}
			if owner != "" {
				s.Tags["owner"] = owner
			}
			if team != "" {
				s.Tags["team"] = team
			}
		}
	}
	services := []Service{
		svc("b", untagged("cms", "")),
		svc("a", untagged("cms", "ignored")),
		svc("c", untagged("", "payments")),
		svc("d", untagged("", "")),
		svc("e"), // enrolled
		svc("f", untagged("cms", ""), func(s *Service) { s.DesiredCount = 0 }), // not restartable anyway
		svc("g", func(s *Service) { s.Tags = map[string]string{RestartTag: "disabled", "owner": "cms"} }),
	}
	want := []OwnerServices{
		{Owner: "", ARNs: []string{services[3].ARN}},
		{Owner: "cms", ARNs: []string{services[1].ARN, services[0].ARN}},
		{Owner: "payments", ARNs: []string{services[2].ARN}},
	}
	for _, e := range []Enrollment{EnrollTagged, EnrollAll} {
		c := Classify(services, e)
		if !reflect.DeepEqual(c.Unenrolled, want) {
			t.Errorf("%s: unenrolled %+v\nwant %+v", e, c.Unenrolled, want)
		}
		wantEligible := 1
		if e == EnrollAll {
			wantEligible = 5
		}
		if len(c.Eligible) != wantEligible {
			t.Errorf("%s: %d eligible, want %d", e, len(c.Eligible), wantEligible)
		}
	}
}

func TestClassifyCollapsesIdenticalCopiesAndSkipsConflictingOnes(t *testing.T) {
	a, b := svc("a"), svc("b")
	b2 := svc("b", func(s *Service) { s.DesiredCount = 5 })
	c := Classify([]Service{a, b, a, b2, a}, EnrollTagged)
	if len(c.Eligible) != 1 || c.Eligible[0].ARN != a.ARN {
		t.Fatalf("eligible %+v, want only %s", c.Eligible, a.ARN)
	}
	want := []Skip{
		{a.ARN, ReasonDuplicate}, {a.ARN, ReasonDuplicate},
		{b.ARN, ReasonDuplicate}, {b.ARN, ReasonDuplicate},
	}
	if !reflect.DeepEqual(c.Skipped, want) {
		t.Fatalf("skipped %+v\nwant %+v", c.Skipped, want)
	}
}

func TestClassifyAccountsForEveryServiceInAnyOrder(t *testing.T) {
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 3))
		services := randomFleet(rng, 500, 5, 30)
		// Some duplicates, identical and conflicting, and invalid entries.
		for i := range 20 {
			d := services[rng.IntN(len(services))]
			if i%2 == 0 {
				d.DesiredCount++
			}
			services = append(services, d)
		}
		services = append(services, Service{}, Service{ARN: "nonsense"})
		for _, e := range []Enrollment{EnrollTagged, EnrollAll} {
			c := Classify(services, e)
			if got := len(c.Eligible) + len(c.Skipped); got != len(services) {
				t.Fatalf("seed %d: %d eligible + %d skipped = %d, want the %d inputs", seed, len(c.Eligible), len(c.Skipped), got, len(services))
			}
			shuffled := append([]Service(nil), services...)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if c2 := Classify(shuffled, e); !reflect.DeepEqual(c, c2) {
				t.Fatalf("seed %d: classification depends on input order", seed)
			}
		}
	}
}

func TestParseEnrollment(t *testing.T) {
	for in, want := range map[string]Enrollment{"": EnrollTagged, "tagged": EnrollTagged, "all": EnrollAll} {
		if got, err := ParseEnrollment(in); err != nil || got != want {
			t.Errorf("ParseEnrollment(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseEnrollment("All")
	if err == nil || !strings.Contains(err.Error(), `enrollment "All": want "tagged"`) {
		t.Fatalf("ParseEnrollment(All) = %v", err)
	}
}
