package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// TableAPI is what EnsureTables needs on top of API.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// SDKRetryer is the retryer for the store's DynamoDB client (its
// Options.Retryer). DynamoDB throttles one partition at a time and the
// store resends throttled and unprocessed requests itself, with a backoff
// that restarts whenever part of a batch goes through, until the step's
// deadline (see retrying); the SDK only retries briefly underneath, with
// no client-wide retry quota (which sustained throttling would empty,
// failing every call at once: aws-sdk-go-v2 #1665) and no backoff longer
// than half a second (the SDK's default goes up to 20 s, which would leave
// the writers idle while the partitions have room).
func SDKRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.MaxBackoff = 500 * time.Millisecond
		o.RateLimiter = ratelimit.None
	})
}

// DefaultRecordTTL is how long the items are kept (DynamoDB's time to
// live deletes them afterwards).
const DefaultRecordTTL = 90 * 24 * time.Hour

// Store reads and writes the restart state. Its methods are safe for
// concurrent use.
type Store struct {
	db          API
	inventory   string
	runs        string
	baseBackoff time.Duration
	maxBackoff  time.Duration
	budget      time.Duration
	writers     int
	ttl         time.Duration
	now         func() time.Time
	retries     atomic.Int64
}

// Option configures a Store.
type Option func(*Store)

// WithTables sets the table names (default DefaultInventoryTable and
// DefaultRunsTable).
func WithTables(inventory, runs string) Option {
	return func(s *Store) { s.inventory, s.runs = inventory, runs }
}

// WithBackoff sets the backoff between two attempts of a throttled write
// (full jitter from base, doubling up to max; default 50ms and 2s).
func WithBackoff(base, maxDelay time.Duration) Option {
	return func(s *Store) { s.baseBackoff, s.maxBackoff = base, maxDelay }
}

// WithRetryBudget bounds how long a throttled call is retried when its
// context has no deadline (default 15 minutes, a Lambda invocation's
// longest life). With a deadline, it is retried until shortly before it.
func WithRetryBudget(d time.Duration) Option { return func(s *Store) { s.budget = d } }

// WithWriters sets how many BatchWriteItem calls run at once (default 4).
func WithWriters(n int) Option { return func(s *Store) { s.writers = max(1, n) } }

// WithRecordTTL sets how long the items live (DefaultRecordTTL when zero
// or less): each item carries AttrTTL = write time + d.
func WithRecordTTL(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.ttl = d
		}
	}
}

// WithClock sets the time source of the TTL (time.Now by default).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns a Store over a DynamoDB client.
func New(db API, opts ...Option) *Store {
	s := &Store{
		db: db, inventory: DefaultInventoryTable, runs: DefaultRunsTable,
		baseBackoff: 50 * time.Millisecond, maxBackoff: 2 * time.Second, budget: 15 * time.Minute,
		writers: 4, ttl: DefaultRecordTTL, now: time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Tables returns the inventory and runs table names.
func (s *Store) Tables() (inventory, runs string) { return s.inventory, s.runs }

// Retries returns how many times the store has resent throttled or
// unprocessed requests since it was made.
func (s *Store) Retries() int64 { return s.retries.Load() }

// EnsureTables creates the tables when they do not exist and waits until
// they are active. For local use (dynalite); in AWS the Pulumi program
// creates them.
func (s *Store) EnsureTables(ctx context.Context, db TableAPI) error {
	for _, t := range Schemas(s.inventory, s.runs) {
		if err := ensureTable(ctx, db, t); err != nil {
			return fmt.Errorf("ensure table %s: %w", t.Name, err)
		}
	}
	return nil
}

func ensureTable(ctx context.Context, db TableAPI, t TableSchema) error {
	if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.Name)}); err == nil {
		return waitActive(ctx, db, t.Name)
	} else if !errors.As(err, new(*types.ResourceNotFoundException)) {
		return err
	}
	attrs := map[string]types.ScalarAttributeType{
		t.PartitionKey.Name: types.ScalarAttributeType(t.PartitionKey.Type),
		t.SortKey.Name:      types.ScalarAttributeType(t.SortKey.Type),
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(t.Name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(t.PartitionKey.Name), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(t.SortKey.Name), KeyType: types.KeyTypeRange},
		},
	}
	for _, ix := range t.Indexes {
		attrs[ix.PartitionKey.Name] = types.ScalarAttributeType(ix.PartitionKey.Type)
		attrs[ix.SortKey.Name] = types.ScalarAttributeType(ix.SortKey.Type)
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.PartitionKey.Name), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.SortKey.Name), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	for name, typ := range attrs {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: typ})
	}
	if _, err := db.CreateTable(ctx, in); err != nil && !errors.As(err, new(*types.ResourceInUseException)) {
		return err
	}
	return waitActive(ctx, db, t.Name)
}

func waitActive(ctx context.Context, db TableAPI, name string) error {
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return err
		}
		active := out.Table.TableStatus == types.TableStatusActive
		for _, ix := range out.Table.GlobalSecondaryIndexes {
			active = active && ix.IndexStatus == types.IndexStatusActive
		}
		if active {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// batchWrite writes items 25 at a time (BatchWriteItem's limit), with
// s.writers calls in flight; unprocessed items and throttled calls are
// resent (see retrying). Nothing is dropped silently: what cannot be
// written before the deadline makes it fail.
func (s *Store) batchWrite(ctx context.Context, table string, items []map[string]types.AttributeValue) error {
	var chunks [][]map[string]types.AttributeValue
	for i := 0; i < len(items); i += 25 {
		chunks = append(chunks, items[i:min(i+25, len(items))])
	}
	return s.parallel(ctx, len(chunks), func(ctx context.Context, i int) error {
		return s.writeChunk(ctx, table, chunks[i])
	})
}

// parallel calls fn(0..n-1) with s.writers calls at once and returns the
// first error (the others are cancelled).
func (s *Store) parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range min(s.writers, max(1, n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func (s *Store) writeChunk(ctx context.Context, table string, chunk []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(chunk))
	for i, it := range chunk {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	pending := map[string][]types.WriteRequest{table: reqs}
	err := s.retryingProgress(ctx, func() (bool, bool, error) {
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return false, false, err
		}
		if len(out.UnprocessedItems[table]) == 0 {
			return true, true, nil
		}
		progressed := len(out.UnprocessedItems[table]) < len(pending[table])
		pending = out.UnprocessedItems
		return false, progressed, nil
	})
	if err != nil {
		return fmt.Errorf("batch write %d items to %s: %w", len(pending[table]), table, err)
	}
	return nil
}

// retrying calls try until it reports done, resending after a throttling
// error or an incomplete answer (unprocessed items or keys) with a
// jittered exponential backoff, until the context's deadline (or the
// retry budget when it has none). DynamoDB throttles a partition that
// takes more than its share; "Error retries and exponential backoff" in
// the DynamoDB developer guide asks callers to resend the unprocessed part
// with backoff, not to give up after a fixed count. Other errors are
// returned at once (the SDK's retryer has already retried them).
func (s *Store) retrying(ctx context.Context, try func() (done bool, err error)) error {
	return s.retryingProgress(ctx, func() (bool, bool, error) {
		done, err := try()
		return done, false, err
	})
}

// retryingProgress is retrying for calls that may do part of their work:
// when an attempt made progress (fewer unprocessed items), the backoff
// starts again from its base, so that a batch that DynamoDB takes a part
// of at a time is not slowed down as if nothing went through.
func (s *Store) retryingProgress(ctx context.Context, try func() (done, progressed bool, err error)) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(s.budget)
	}
	delay := s.baseBackoff
	for attempt := 1; ; attempt++ {
		done, progressed, err := try()
		switch {
		case err == nil && done:
			return nil
		case err != nil && !isThrottle(err):
			return err
		case progressed:
			delay = s.baseBackoff
		}
		wait := time.Duration(rand.Int64N(int64(delay) + 1))
		// Keep a moment before the deadline to report instead of being
		// cut off (a Lambda invocation is killed at its deadline).
		if time.Until(deadline) < wait+100*time.Millisecond {
			if err == nil {
				err = errors.New("requests still unprocessed")
			}
			return fmt.Errorf("still throttled after %d attempts, at the deadline: %w", attempt, err)
		}
		s.retries.Add(1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		delay = min(2*delay, s.maxBackoff)
	}
}

// isThrottle reports whether err is DynamoDB throttling a request (the
// SDK's throttle codes: ProvisionedThroughputExceededException,
// ThrottlingException, RequestLimitExceeded...).
func isThrottle(err error) bool {
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool()
}

// query runs a Query over all pages and calls fn for every item.
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, fn func(map[string]types.AttributeValue) error) error {
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		var page *dynamodb.QueryOutput
		// A failed NextPage keeps its place: asking again reads the same page.
		err := s.retrying(ctx, func() (bool, error) {
			var err error
			page, err = p.NextPage(ctx)
			return err == nil, err
		})
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			if err := fn(it); err != nil {
				return err
			}
		}
	}
	return nil
}

// queryPrefix reads the items of one partition whose sort key starts with
// prefix, with strongly consistent reads.
func (s *Store) queryPrefix(ctx context.Context, table, pk, prefix string, fn func(map[string]types.AttributeValue) error) error {
	return s.query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("#p = :p AND begins_with(#s, :s)"),
		ExpressionAttributeNames:  map[string]string{"#p": AttrPK, "#s": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(pk), ":s": str(prefix)},
		ConsistentRead:            aws.Bool(true),
	}, fn)
}

// queryShards reads the day's service items of every shard, s.writers
// shards at once; fn is called from one goroutine at a time.
func (s *Store) queryShards(ctx context.Context, table, day string, fn func(map[string]types.AttributeValue) error) error {
	var mu sync.Mutex
	return s.parallel(ctx, Shards, func(ctx context.Context, shard int) error {
		var page []map[string]types.AttributeValue
		if err := s.queryPrefix(ctx, table, ShardPK(day, shard), servicePrefix, func(av map[string]types.AttributeValue) error {
			page = append(page, av)
			return nil
		}); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, av := range page {
			if err := fn(av); err != nil {
				return err
			}
		}
		return nil
	})
}

// batchGet reads items by key, 100 per BatchGetItem (its limit), with
// strongly consistent reads; unprocessed keys are asked again.
func (s *Store) batchGet(ctx context.Context, table string, keys []map[string]types.AttributeValue, fn func(map[string]types.AttributeValue)) error {
	var mu sync.Mutex
	n := (len(keys) + 99) / 100
	return s.parallel(ctx, n, func(ctx context.Context, i int) error {
		pending := map[string]types.KeysAndAttributes{table: {Keys: keys[i*100 : min(i*100+100, len(keys))], ConsistentRead: aws.Bool(true)}}
		err := s.retrying(ctx, func() (bool, error) {
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return false, err
			}
			mu.Lock()
			for _, av := range out.Responses[table] {
				fn(av)
			}
			mu.Unlock()
			if len(out.UnprocessedKeys[table].Keys) == 0 {
				return true, nil
			}
			pending = out.UnprocessedKeys
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("batch get from %s: %w", table, err)
		}
		return nil
	})
}

// put writes one item, resending it while throttled.
func (s *Store) put(ctx context.Context, in *dynamodb.PutItemInput) error {
	return s.retrying(ctx, func() (bool, error) {
		_, err := s.db.PutItem(ctx, in)
		return err == nil, err
	})
}

// expires is the TTL attribute of an item written now.
func (s *Store) expires() types.AttributeValue { return num(s.now().Add(s.ttl).Unix()) }

// Attribute helpers: the items are small and flat, so they are marshalled
// by hand rather than through reflection.

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func boolean(v bool) types.AttributeValue {
	return &types.AttributeValueMemberBOOL{Value: v}
}

func timeAttr(t time.Time) types.AttributeValue {
	return str(t.UTC().Format(time.RFC3339Nano))
}

func getS(it map[string]types.AttributeValue, k string) string {
	if v, ok := it[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(it map[string]types.AttributeValue, k string) int64 {
	if v, ok := it[k].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func getBool(it map[string]types.AttributeValue, k string) bool {
	if v, ok := it[k].(*types.AttributeValueMemberBOOL); ok {
		return v.Value
	}
	return false
}

func getTime(it map[string]types.AttributeValue, k string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, getS(it, k))
	return t
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: str(pk), AttrSK: str(sk)}
}

// isConditionFailed reports whether err is a failed condition of a
// conditional write.
func isConditionFailed(err error) bool {
	return errors.As(err, new(*types.ConditionalCheckFailedException))
}
