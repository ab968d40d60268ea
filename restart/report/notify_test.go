package report

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// ledger is an in-memory Ledger.
type ledger struct{ sent map[string]bool }

func (l *ledger) BeginNotice(_ context.Context, day, runID, name string) (bool, error) {
	k := day + "/" + runID + "/" + name
	if l.sent[k] {
		return false, nil
	}
	l.sent[k] = true
	return true, nil
}

func (l *ledger) AbortNotice(_ context.Context, day, runID, name string) error {
	delete(l.sent, day+"/"+runID+"/"+name)
	return nil
}

// failing fails the publishes whose subject contains fail.
type failing struct {
	publisher
	fail string
}

func (f *failing) Publish(ctx context.Context, in *sns.PublishInput, o ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if f.fail != "" && strings.Contains(aws.ToString(in.Subject), f.fail) {
		return nil, errors.New("SNS unavailable")
	}
	return f.publisher.Publish(ctx, in, o...)
}

func TestARetriedReportDoesNotResendWhatWasSent(t *testing.T) {
	l := &ledger{sent: map[string]bool{}}
	p := &failing{fail: "cards"}
	n := Notifier{SNS: p, SummaryTopic: "arn:sns:summary", OwnerTopic: "arn:sns:owners", Ledger: l}
	if err := n.Notify(t.Context(), sample()); err == nil {
		t.Fatal("a failed publish was not reported")
	}
	if len(p.in) != 1 {
		t.Fatalf("%d messages before the failure, want the summary", len(p.in))
	}
	p.fail = ""
	if err := n.Notify(t.Context(), sample()); err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, in := range p.in {
		subjects = append(subjects, aws.ToString(in.Subject))
	}
	if len(p.in) != 4 || strings.Count(strings.Join(subjects, "|"), "restarted") != 1 {
		t.Fatalf("messages after the retry: %q; want the summary once and each owner once", subjects)
	}
	if err := n.Notify(t.Context(), sample()); err != nil || len(p.in) != 4 {
		t.Fatalf("a third attempt sent %d more messages (%v), want none", len(p.in)-4, err)
	}
	s := sample()
	s.RunID = "r2"
	if err := n.Notify(t.Context(), s); err != nil || len(p.in) != 8 {
		t.Fatalf("another run sent %d messages (%v), want 4", len(p.in)-4, err)
	}
}

func TestSubjectsAreShortPrintableASCII(t *testing.T) {
	for _, in := range []string{
		"Daily restart 2026-11-26: 3 services need equipo-señal's attention",
		"Daily restart 2026-11-26: 3 services need " + strings.Repeat("very-long-owner-name-", 10) + "'s attention",
		"line\nbreak\tand\x01control",
		"  ",
	} {
		s := Subject(in)
		if len(s) == 0 || len(s) > MaxSubject {
			t.Errorf("Subject(%q) = %q: %d characters, want 1..%d", in, s, len(s), MaxSubject)
		}
		for _, r := range s {
			if r < 0x20 || r > 0x7e {
				t.Errorf("Subject(%q) = %q holds %q, not printable ASCII", in, s, r)
			}
		}
		if s[0] == ' ' {
			t.Errorf("Subject(%q) = %q starts with a space", in, s)
		}
	}
	if got := Subject("equipo-señal"); got != "equipo-se?al" {
		t.Errorf("Subject kept non-ASCII: %q", got)
	}
}

// An owner with thousands of failed services gets every one of them, in
// as many messages as SNS's 256 KiB limit needs, each part numbered.
func TestALongFailureListIsSplitUnderSNSMessageLimit(t *testing.T) {
	var outcomes []Outcome
	for i := range 6000 {
		arn := fmt.Sprintf("arn:aws:ecs:us-east-1:111111111111:service/cluster-%03d/a-rather-long-service-name-%05d", i%300, i)
		outcomes = append(outcomes, Outcome{Service: fleet.Service{ARN: arn, Tags: map[string]string{"owner": "payments"}}, Status: fleet.StatusRolledBack,
			Detail: "deployment ecs-svc/123 rolled back by the circuit breaker: tasks failed to start"})
	}
	s := Build("r1", "2026-11-26", outcomes, nil)
	p := &publisher{}
	if err := (Notifier{SNS: p, OwnerTopic: "arn:sns:owners"}).Notify(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	if len(p.in) < 3 {
		t.Fatalf("%d messages, want the list split in several", len(p.in))
	}
	listed := 0
	for i, in := range p.in {
		msg := aws.ToString(in.Message)
		if len(msg)+len("payments")+len("owner")+len("String") > 256*1024 {
			t.Errorf("message %d is %d bytes, over SNS's 256 KiB", i, len(msg))
		}
		if want := fmt.Sprintf("(part %d of %d)", i+1, len(p.in)); !strings.HasPrefix(msg, want) || !strings.HasPrefix(aws.ToString(in.Subject), want) {
			t.Errorf("message %d does not start with %q: %.60q", i, want, msg)
		}
		if len(aws.ToString(in.Subject)) > MaxSubject {
			t.Errorf("subject %q is over %d characters", aws.ToString(in.Subject), MaxSubject)
		}
		listed += strings.Count(msg, "rolled-back deployment")
	}
	if listed != 6000 {
		t.Errorf("%d failed services listed across the parts, want all 6000", listed)
	}
}
