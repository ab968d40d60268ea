package report

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// Publisher is the part of the SNS client the notifier uses.
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Ledger remembers which messages of a run were sent, so that a retried
// Report (a Lambda retry, a redriven execution) does not send them again
// (store.Store implements it with a conditional write per run and
// message).
type Ledger interface {
	// BeginNotice records message name of the run as sent and reports
	// whether it was not sent before.
	BeginNotice(ctx context.Context, day, runID, name string) (bool, error)
	// AbortNotice forgets a BeginNotice whose message could not be sent.
	AbortNotice(ctx context.Context, day, runID, name string) error
}

// Notifier sends the summary and the owners' notifications. With no
// Publisher or no topic (local runs) the messages are written to Out.
type Notifier struct {
	SNS Publisher
	// SummaryTopic receives the run's summary (the platform team).
	SummaryTopic string
	// OwnerTopic receives one message per owner, with an "owner" message
	// attribute that the owners' subscriptions filter on.
	OwnerTopic string
	// Out receives the messages that are not published.
	Out io.Writer
	// Ledger, when set, makes each message of a run go out once.
	Ledger Ledger
}

// SNS's limits on Publish (Amazon SNS API reference, Publish): a message
// is at most 256 KiB (262,144 bytes, message attributes included) and a
// subject "must be ASCII text that begins with a letter, number, or
// punctuation mark; must not include line breaks or control characters;
// and must be less than 100 characters long".
const (
	// MaxMessageBytes leaves room under 256 KiB for the attributes and the
	// "(part i of n)" line.
	MaxMessageBytes = 250_000
	// MaxSubject is the longest subject SNS accepts.
	MaxSubject = 99
	// maxLine bounds one listed service (an ARN and its detail).
	maxLine = 2048
)

// Notify sends the summary and one message per owner; a list too long for
// one message is sent in parts.
func (n Notifier) Notify(ctx context.Context, s Summary) error {
	subject := fmt.Sprintf("Daily restart %s: %d restarted, %d failed", s.Day, s.Counts.Restarted, s.Counts.Failed+s.Counts.RolledBack)
	if h := s.Halted; h != nil {
		subject = fmt.Sprintf("Daily restart %s %s: %d restarted, %d failed, %d not attempted", s.Day, strings.ToUpper(h.Kind), s.Counts.Restarted,
			s.Counts.Failed+s.Counts.RolledBack, h.NotAttempted)
	}
	if err := n.send(ctx, s, n.SummaryTopic, subject, SummaryText(s), "", "summary"); err != nil {
		return fmt.Errorf("send summary of run %s: %w", s.RunID, err)
	}
	for _, o := range s.Owners {
		subject := fmt.Sprintf("Daily restart %s: %d services need %s's attention", s.Day, len(o.Unenrolled)+len(o.Failed)+len(o.ShortARN)+len(o.Skipped), o.Owner)
		if err := n.send(ctx, s, n.OwnerTopic, subject, OwnerText(s.Day, o), o.Owner, "owner#"+o.Owner); err != nil {
			return fmt.Errorf("notify owner %s of run %s: %w", o.Owner, s.RunID, err)
		}
	}
	return nil
}

func (n Notifier) send(ctx context.Context, s Summary, topic, subject, body, owner, name string) error {
	parts := SplitMessage(body, MaxMessageBytes)
	for i, part := range parts {
		subj, key := subject, name
		if len(parts) > 1 {
			subj = fmt.Sprintf("(part %d of %d) %s", i+1, len(parts), subject)
			part = fmt.Sprintf("(part %d of %d)\n%s", i+1, len(parts), part)
			key = fmt.Sprintf("%s#part%d", name, i+1)
		}
		subj = Subject(subj)
		if n.Ledger != nil {
			first, err := n.Ledger.BeginNotice(ctx, s.Day, s.RunID, key)
			if err != nil {
				return err
			}
			if !first {
				continue // sent by an earlier attempt of this run's report
			}
		}
		if err := n.publish(ctx, topic, subj, part, owner); err != nil {
			if n.Ledger != nil {
				if aerr := n.Ledger.AbortNotice(ctx, s.Day, s.RunID, key); aerr != nil {
					return fmt.Errorf("%w (and %w: a retry will not resend it)", err, aerr)
				}
			}
			return err
		}
	}
	return nil
}

func (n Notifier) publish(ctx context.Context, topic, subject, body, owner string) error {
	if n.SNS == nil || topic == "" {
		if n.Out == nil {
			return nil
		}
		to := "summary"
		if owner != "" {
			to = "owner " + owner
		}
		_, err := fmt.Fprintf(n.Out, "--- notification to %s: %s\n%s\n", to, subject, body)
		return err
	}
	in := &sns.PublishInput{TopicArn: aws.String(topic), Subject: aws.String(subject), Message: aws.String(body)}
	if owner != "" {
		in.MessageAttributes = map[string]types.MessageAttributeValue{
			"owner": {DataType: aws.String("String"), StringValue: aws.String(owner)},
		}
	}
	_, err := n.SNS.Publish(ctx, in)
	return err
}

// Subject makes s an SNS subject: printable ASCII only (other characters
// become '?', line breaks and controls spaces), starting with a letter,
// digit or punctuation, and at most MaxSubject characters.
func Subject(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b = append(b, ' ')
		case r < 0x20 || r == 0x7f:
		case r > 0x7e:
			b = append(b, '?')
		default:
			b = append(b, byte(r))
		}
	}
	out := strings.TrimLeft(string(b), " ")
	if out == "" {
		out = "Daily restart"
	}
	if len(out) > MaxSubject {
		out = out[:MaxSubject-3] + "..."
	}
	return out
}

// SplitMessage cuts text at line ends into parts of at most limit bytes
// (a line longer than maxLine is shortened first), so that every part is
// a valid SNS message.
func SplitMessage(text string, limit int) []string {
	var parts []string
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if len(line) > maxLine {
			line = cutUTF8(line, maxLine-4) + "...\n"
		}
		if b.Len() > 0 && b.Len()+len(line) > limit {
			parts = append(parts, b.String())
			b.Reset()
		}
		b.WriteString(line)
	}
	if b.Len() > 0 || len(parts) == 0 {
		parts = append(parts, b.String())
	}
	return parts
}

// cutUTF8 returns at most n bytes of s, not splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// SummaryText is the summary message.
func SummaryText(s Summary) string {
	c := s.Counts
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s (%s)\n", s.RunID, s.Day)
	writeHalt(&b, s)
	fmt.Fprintf(&b, "discovered %d, eligible %d, restarted %d\n", c.Discovered, c.Eligible, c.Restarted)
	fmt.Fprintf(&b, "completed %d, failed %d, rolled back %d, gone %d, still in progress %d\n", c.Completed, c.Failed, c.RolledBack, c.Gone, c.InProgress)
	if n := c.NotStarted + c.Claimed + c.NotAttempted; n > 0 {
		fmt.Fprintf(&b, "not restarted: %d not started, %d claimed without outcome, %d not attempted\n", c.NotStarted, c.Claimed, c.NotAttempted)
	}
	fmt.Fprintf(&b, "skipped %d", c.Skipped)
	for _, r := range sortedReasons(c.SkippedByReason) {
		fmt.Fprintf(&b, ", %s %d", r, c.SkippedByReason[r])
	}
	fmt.Fprintf(&b, "\nunenrolled %d (owners notified: %d)\n", c.Unenrolled, len(s.Owners))
	fmt.Fprintf(&b, "accounts failed %d\n", c.AccountsFailed)
	for _, a := range s.Accounts {
		fmt.Fprintf(&b, "  %s %s: %s\n", a.Account, a.Region, a.Error)
	}
	writeClustersGone(&b, s)
	writeFit(&b, s)
	if c.ShortARN > 0 {
		fmt.Fprintf(&b, "short ARNs %d (cannot be tagged; owners told to move to the long ARN format)\n", c.ShortARN)
	}
	return b.String()
}

// OwnerText is the message to one owner.
func OwnerText(day string, o OwnerReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Daily restart of %s, owner %s.\n", day, o.Owner)
	if len(o.Unenrolled) > 0 {
		fmt.Fprintf(&b, "\n%d services lack the tag ecs_task_daily_restart; add it (any value, or \"disabled\" to opt out):\n", len(o.Unenrolled))
		for _, arn := range o.Unenrolled {
			fmt.Fprintf(&b, "  %s\n", arn)
		}
	}
	writeShortARN(&b, o)
	if len(o.Failed) > 0 {
		fmt.Fprintf(&b, "\n%d restarts did not complete:\n", len(o.Failed))
		for _, f := range o.Failed {
			fmt.Fprintf(&b, "  %s: %s %s%s\n", f.ARN, f.Status, f.Detail, changed(f))
		}
	}
	if len(o.Skipped) > 0 {
		fmt.Fprintf(&b, "\n%d services were not restarted tonight, checked just before their restart:\n", len(o.Skipped))
		for _, f := range o.Skipped {
			fmt.Fprintf(&b, "  %s: %s: %s\n", f.ARN, f.Status, f.Detail)
		}
	}
	return b.String()
}
