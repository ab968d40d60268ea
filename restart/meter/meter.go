// Package meter counts what one invocation of a restart step uses of the
// services AWS bills by the request: DynamoDB read and write request
// units, SNS publish requests, and the bytes the function would log. The
// local state machine runner (restart-sfn cost) adds the counts of every
// invocation of a night and prices them.
//
// DynamoDB's units are DynamoDB's own: every data-plane request asks for
// ReturnConsumedCapacity=TOTAL and the meter adds what the response
// reports. dynalite computes it as DynamoDB does (one write unit per
// started KiB of the larger of the old and new item, one read unit per
// started 4 KiB read strongly consistent, half for an eventually
// consistent read, a Query's items summed before rounding). A conditional
// write whose condition fails returns an error without ConsumedCapacity,
// yet DynamoDB bills it ("Condition expressions", DynamoDB developer
// guide: a failed conditional write still consumes write capacity): the
// meter counts one write unit for it, the least it can cost.
package meter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Op is what one DynamoDB operation used.
type Op struct {
	Calls      int     `json:"calls"`
	ReadUnits  float64 `json:"readUnits"`
	WriteUnits float64 `json:"writeUnits"`
	// ConditionFailed counts conditional writes refused by their
	// condition (billed one write unit each, see the package comment).
	ConditionFailed int `json:"conditionFailed,omitempty"`
}

// Counts are the counts of one invocation.
type Counts struct {
	// Handler is the step that ran.
	Handler string `json:"handler"`
	// InitMs is the time from process start to the handler's start, and
	// HandlerMs the handler's own time.
	InitMs    float64 `json:"initMs"`
	HandlerMs float64 `json:"handlerMs"`
	// DynamoDB is keyed by operation name (PutItem, Query, ...).
	DynamoDB map[string]Op `json:"dynamodb"`
	// SNSPublishes are Publish calls; SNSRequests the billed requests
	// (every started 64 KB of a message is one request, Amazon SNS
	// pricing); keyed by topic.
	SNSPublishes map[string]int `json:"snsPublishes"`
	SNSRequests  int            `json:"snsRequests"`
	// LogBytes is what the function writes to its log (the EMF metric
	// lines, and the notifications when no topic is set).
	LogBytes int64 `json:"logBytes"`
}

// ReadUnits is the invocation's read request units.
func (c Counts) ReadUnits() float64 {
	var n float64
	for _, op := range c.DynamoDB {
		n += op.ReadUnits
	}
	return n
}

// WriteUnits is the invocation's write request units.
func (c Counts) WriteUnits() float64 {
	var n float64
	for _, op := range c.DynamoDB {
		n += op.WriteUnits
	}
	return n
}

// Meter collects the counts of one invocation. Its methods are safe for
// concurrent use.
type Meter struct {
	mu sync.Mutex
	c  Counts
}

// New returns a meter for an invocation of handler.
func New(handler string) *Meter {
	return &Meter{c: Counts{Handler: handler, DynamoDB: map[string]Op{}, SNSPublishes: map[string]int{}}}
}

// Counts returns a copy of the counts so far.
func (m *Meter) Counts() Counts {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.c
	c.DynamoDB = make(map[string]Op, len(m.c.DynamoDB))
	for k, v := range m.c.DynamoDB {
		c.DynamoDB[k] = v
	}
	c.SNSPublishes = make(map[string]int, len(m.c.SNSPublishes))
	for k, v := range m.c.SNSPublishes {
		c.SNSPublishes[k] = v
	}
	return c
}

// Timing records the invocation's init and handler times.
func (m *Meter) Timing(initMs, handlerMs float64) {
	m.mu.Lock()
	m.c.InitMs, m.c.HandlerMs = initMs, handlerMs
	m.mu.Unlock()
}

// DynamoDB is a DynamoDB client option that meters every request.
func (m *Meter) DynamoDB(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("MeterCapacity", m.handle), middleware.After)
	})
}

func (m *Meter) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	write := askCapacity(in.Parameters)
	out, md, err := next.HandleInitialize(ctx, in)
	op := awsmiddleware.GetOperationName(ctx)
	var consumed []types.ConsumedCapacity
	if err == nil {
		consumed = consumedOf(out.Result)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o := m.c.DynamoDB[op]
	o.Calls++
	for _, c := range consumed {
		units := 0.0
		if c.CapacityUnits != nil {
			units = *c.CapacityUnits
		}
		if write {
			o.WriteUnits += units
		} else {
			o.ReadUnits += units
		}
	}
	var ccf *types.ConditionalCheckFailedException
	if err != nil && write && errors.As(err, &ccf) {
		o.ConditionFailed++
		o.WriteUnits++
	}
	m.c.DynamoDB[op] = o
	return out, md, err
}

// askCapacity sets ReturnConsumedCapacity on a data-plane request and
// reports whether it writes. Control-plane calls (CreateTable,
// DescribeTable) are not billed by the request and are counted as calls
// only.
func askCapacity(params any) (write bool) {
	const total = types.ReturnConsumedCapacityTotal
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.ScanInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = total
		return true
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = total
		return true
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = total
		return true
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = total
		return true
	}
	return false
}

func consumedOf(result any) []types.ConsumedCapacity {
	one := func(c *types.ConsumedCapacity) []types.ConsumedCapacity {
		if c == nil {
			return nil
		}
		return []types.ConsumedCapacity{*c}
	}
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.QueryOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.ScanOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.PutItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.BatchGetItemOutput:
		return out.ConsumedCapacity
	case *dynamodb.BatchWriteItemOutput:
		return out.ConsumedCapacity
	}
	return nil
}

// snsChunk is the size by which SNS bills a publish: "each 64 KB chunk of
// published data is billed as 1 request" (Amazon SNS pricing).
const snsChunk = 64 * 1024

// Published counts one Publish to topic of a message of size bytes.
func (m *Meter) Published(topic string, size int) {
	m.mu.Lock()
	m.c.SNSPublishes[topic]++
	m.c.SNSRequests += max(1, (size+snsChunk-1)/snsChunk)
	m.mu.Unlock()
}

// Logged counts n bytes written to the function's log.
func (m *Meter) Logged(n int) {
	m.mu.Lock()
	m.c.LogBytes += int64(n)
	m.mu.Unlock()
}

// Log wraps w (which may be nil) so that what is written to it counts as
// log output.
func (m *Meter) Log(w io.Writer) io.Writer {
	return logWriter{m: m, w: w}
}

type logWriter struct {
	m *Meter
	w io.Writer
}

func (l logWriter) Write(p []byte) (int, error) {
	l.m.Logged(len(p))
	if l.w == nil {
		return len(p), nil
	}
	return l.w.Write(p)
}

// Append writes the counts as one JSON line at the end of file (several
// processes may append to it one after the other).
func (m *Meter) Append(file string) error {
	b, err := json.Marshal(m.Counts())
	if err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("usage file: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("usage file %s: %w", file, err)
	}
	return f.Close()
}

// Read reads the JSON lines Append wrote.
func Read(r io.Reader) ([]Counts, error) {
	dec := json.NewDecoder(r)
	var out []Counts
	for {
		var c Counts
		if err := dec.Decode(&c); err == io.EOF {
			return out, nil
		} else if err != nil {
			return out, fmt.Errorf("usage line %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
}

// Total adds counts up per DynamoDB operation.
func Total(cs []Counts) (ops map[string]Op, names []string) {
	ops = map[string]Op{}
	for _, c := range cs {
		for name, o := range c.DynamoDB {
			t := ops[name]
			t.Calls += o.Calls
			t.ReadUnits += o.ReadUnits
			t.WriteUnits += o.WriteUnits
			t.ConditionFailed += o.ConditionFailed
			ops[name] = t
		}
	}
	for name := range ops {
		names = append(names, name)
	}
	sort.Strings(names)
	return ops, names
}
