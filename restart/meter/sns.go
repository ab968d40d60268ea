package meter

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// SNSAPI is the SNS call the notifier makes.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Publisher counts every Publish. With Next it publishes there; without
// (a local run, where no SNS exists) it writes each message to Out, so
// that a local night counts the publishes the deployed functions make.
type Publisher struct {
	Meter *Meter
	Next  SNSAPI
	Out   io.Writer
}

// Publish publishes in and counts it once it went out.
func (p Publisher) Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if p.Next != nil {
		out, err := p.Next.Publish(ctx, in, optFns...)
		if err == nil {
			p.Meter.Published(aws.ToString(in.TopicArn), PublishSize(in))
		}
		return out, err
	}
	if p.Out != nil {
		to := aws.ToString(in.TopicArn)
		if a, ok := in.MessageAttributes["owner"]; ok {
			to += " owner " + aws.ToString(a.StringValue)
		}
		if _, err := fmt.Fprintf(p.Out, "--- notification to %s: %s\n%s\n", to, aws.ToString(in.Subject), aws.ToString(in.Message)); err != nil {
			return nil, err
		}
	}
	p.Meter.Published(aws.ToString(in.TopicArn), PublishSize(in))
	return &sns.PublishOutput{MessageId: aws.String("local")}, nil
}

// PublishSize is a publish's billed payload: the message, its subject and
// its message attributes' names, types and values.
func PublishSize(in *sns.PublishInput) int {
	n := len(aws.ToString(in.Message)) + len(aws.ToString(in.Subject))
	for k, v := range in.MessageAttributes {
		n += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue)) + len(v.BinaryValue)
	}
	return n
}
