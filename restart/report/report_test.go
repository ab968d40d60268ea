package report

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

func outcome(arn string, tags map[string]string, skip fleet.Reason, unenrolled bool, st fleet.Status) Outcome {
	return Outcome{Service: fleet.Service{ARN: arn, Tags: tags}, Skip: skip, Unenrolled: unenrolled, Status: st}
}

func sample() Summary {
	a := map[string]string{"owner": "payments"}
	b := map[string]string{"team": "cards"}
	return Build("r1", "2026-11-26", []Outcome{
		outcome("arn:1", a, fleet.ReasonUnenrolled, true, ""),
		outcome("arn:2", a, fleet.ReasonUnenrolled, true, ""),
		outcome("arn:3", a, "", false, fleet.StatusFailed),
		outcome("arn:4", b, "", false, fleet.StatusCompleted),
		outcome("arn:5", b, "", false, fleet.StatusRolledBack),
		outcome("arn:6", nil, "", true, fleet.StatusCompleted), // enrollment all: restarted, still reported
		outcome("arn:7", nil, fleet.ReasonDesiredZero, false, ""),
		outcome("arn:8", b, "", false, fleet.StatusGone),
		outcome("arn:9", b, "", false, ""),
	}, []AccountError{{Account: "333333333333", Region: "us-east-1", Error: "AccessDenied"}})
}

func TestBuildCountsEveryServiceOnce(t *testing.T) {
	c := sample().Counts
	want := Counts{Discovered: 9, Eligible: 6, Restarted: 4, Completed: 2, Failed: 1, RolledBack: 1, Gone: 1,
		NotAttempted: 1, Skipped: 3, Unenrolled: 3, AccountsFailed: 1}
	c.SkippedByReason = nil
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("counts = %+v\nwant     %+v", c, want)
	}
	if err := sample().Counts.Accounted(); err != nil {
		t.Fatal(err)
	}
	if n := sample().Counts.SkippedByReason[fleet.ReasonUnenrolled]; n != 2 {
		t.Fatalf("skipped unenrolled = %d, want 2", n)
	}
}

func TestOwnersGetOneReportEachAndUnownedGoToThePlatform(t *testing.T) {
	s := sample()
	var owners []string
	for _, o := range s.Owners {
		owners = append(owners, o.Owner)
	}
	if strings.Join(owners, ",") != "cards,payments,platform" {
		t.Fatalf("owners = %v", owners)
	}
	pay := s.Owners[1]
	if len(pay.Unenrolled) != 2 || len(pay.Failed) != 1 || pay.Failed[0].ARN != "arn:3" {
		t.Fatalf("payments report = %+v", pay)
	}
	if len(s.Owners[0].Failed) != 1 || s.Owners[0].Failed[0].Status != fleet.StatusRolledBack {
		t.Fatalf("cards report = %+v", s.Owners[0])
	}
}

type publisher struct{ in []*sns.PublishInput }

func (p *publisher) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	p.in = append(p.in, in)
	return &sns.PublishOutput{}, nil
}

func TestNotifyPublishesOneMessagePerOwner(t *testing.T) {
	p := &publisher{}
	n := Notifier{SNS: p, SummaryTopic: "arn:sns:summary", OwnerTopic: "arn:sns:owners"}
	if err := n.Notify(t.Context(), sample()); err != nil {
		t.Fatal(err)
	}
	if len(p.in) != 4 {
		t.Fatalf("%d messages, want a summary and 3 owner messages", len(p.in))
	}
	if aws.ToString(p.in[0].TopicArn) != "arn:sns:summary" || p.in[0].MessageAttributes != nil {
		t.Fatalf("first message is not the summary: %+v", p.in[0])
	}
	for _, in := range p.in[1:] {
		owner := aws.ToString(in.MessageAttributes["owner"].StringValue)
		if aws.ToString(in.TopicArn) != "arn:sns:owners" || owner == "" || !strings.Contains(aws.ToString(in.Message), owner) {
			t.Fatalf("owner message = %+v", in)
		}
	}
}

func TestNotifyWritesMessagesWithoutATopic(t *testing.T) {
	var buf bytes.Buffer
	if err := (Notifier{Out: &buf}).Notify(t.Context(), sample()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "--- notification to owner "); n != 3 {
		t.Fatalf("%d owner messages written, want 3:\n%s", n, buf.String())
	}
}

func TestEMFLinesDeclareTheirMetrics(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteEMF(&buf, sample(), time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 { // counts + 2 skip reasons
		t.Fatalf("%d lines, want 3:\n%s", len(lines), buf.String())
	}
	for _, l := range lines {
		var doc map[string]any
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatal(err)
		}
		meta := doc["_aws"].(map[string]any)
		if meta["Timestamp"].(float64) != 1700000000000 {
			t.Fatalf("timestamp = %v", meta["Timestamp"])
		}
		for _, d := range meta["CloudWatchMetrics"].([]any) {
			d := d.(map[string]any)
			if d["Namespace"] != Namespace {
				t.Fatalf("namespace = %v", d["Namespace"])
			}
			for _, m := range d["Metrics"].([]any) {
				name := m.(map[string]any)["Name"].(string)
				if _, ok := doc[name].(float64); !ok {
					t.Fatalf("metric %s has no value in %s", name, l)
				}
			}
			for _, set := range d["Dimensions"].([]any) {
				for _, dim := range set.([]any) {
					if _, ok := doc[dim.(string)].(string); !ok {
						t.Fatalf("dimension %s has no value in %s", dim, l)
					}
				}
			}
		}
	}
	if !strings.Contains(lines[0], `"Failed":1`) || !strings.Contains(lines[0], `"AccountsFailed":1`) {
		t.Fatalf("counts line = %s", lines[0])
	}
}
