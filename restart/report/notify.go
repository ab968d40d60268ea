package report

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// Publisher is the part of the SNS client the notifier uses.
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
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
}

// maxListed bounds the services listed in one message: an SNS message is
// at most 256 KiB.
const maxListed = 500

// Notify sends the summary and one message per owner.
func (n Notifier) Notify(ctx context.Context, s Summary) error {
	if err := n.send(ctx, n.SummaryTopic, fmt.Sprintf("Daily restart %s: %d restarted, %d failed", s.Day, s.Counts.Restarted, s.Counts.Failed+s.Counts.RolledBack), SummaryText(s), ""); err != nil {
		return fmt.Errorf("send summary of run %s: %w", s.RunID, err)
	}
	for _, o := range s.Owners {
		if err := n.send(ctx, n.OwnerTopic, fmt.Sprintf("Daily restart %s: %d services need %s's attention", s.Day, len(o.Unenrolled)+len(o.Failed)+len(o.ShortARN), o.Owner), OwnerText(s.Day, o), o.Owner); err != nil {
			return fmt.Errorf("notify owner %s of run %s: %w", o.Owner, s.RunID, err)
		}
	}
	return nil
}

func (n Notifier) send(ctx context.Context, topic, subject, body, owner string) error {
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
	in := &sns.PublishInput{TopicArn: aws.String(topic), Subject: aws.String(truncate(subject, 100)), Message: aws.String(body)}
	if owner != "" {
		in.MessageAttributes = map[string]types.MessageAttributeValue{
			"owner": {DataType: aws.String("String"), StringValue: aws.String(owner)},
		}
	}
	_, err := n.SNS.Publish(ctx, in)
	return err
}

// SummaryText is the summary message.
func SummaryText(s Summary) string {
	c := s.Counts
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s (%s)\n", s.RunID, s.Day)
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
		for i, arn := range o.Unenrolled {
			if i == maxListed {
				fmt.Fprintf(&b, "  ... and %d more\n", len(o.Unenrolled)-maxListed)
				break
			}
			fmt.Fprintf(&b, "  %s\n", arn)
		}
	}
	writeShortARN(&b, o)
	if len(o.Failed) > 0 {
		fmt.Fprintf(&b, "\n%d restarts did not complete:\n", len(o.Failed))
		for i, f := range o.Failed {
			if i == maxListed {
				fmt.Fprintf(&b, "  ... and %d more\n", len(o.Failed)-maxListed)
				break
			}
			fmt.Fprintf(&b, "  %s: %s %s\n", f.ARN, f.Status, f.Detail)
		}
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
