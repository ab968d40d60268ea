package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// TableAPI is what EnsureTables needs on top of API.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Store reads and writes the restart state. Its methods are safe for
// concurrent use.
type Store struct {
	db          API
	inventory   string
	runs        string
	maxAttempts int
	baseBackoff time.Duration
	writers     int
}

// Option configures a Store.
type Option func(*Store)

// WithTables sets the table names (default DefaultInventoryTable and
// DefaultRunsTable).
func WithTables(inventory, runs string) Option {
	return func(s *Store) { s.inventory, s.runs = inventory, runs }
}

// WithUnprocessedRetries bounds how often BatchWriteItem's UnprocessedItems
// are resent (default 10 attempts, backoff from 50ms doubling to 2s).
func WithUnprocessedRetries(attempts int, base time.Duration) Option {
	return func(s *Store) { s.maxAttempts, s.baseBackoff = attempts, base }
}

// WithWriters sets how many BatchWriteItem calls run at once (default 4).
func WithWriters(n int) Option { return func(s *Store) { s.writers = max(1, n) } }

// New returns a Store over a DynamoDB client.
func New(db API, opts ...Option) *Store {
	s := &Store{db: db, inventory: DefaultInventoryTable, runs: DefaultRunsTable, maxAttempts: 10, baseBackoff: 50 * time.Millisecond, writers: 4}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Tables returns the inventory and runs table names.
func (s *Store) Tables() (inventory, runs string) { return s.inventory, s.runs }

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

// batchWrite writes items 25 at a time, resending UnprocessedItems with a
// bounded backoff. Items still unprocessed after the last attempt make it
// fail: nothing is dropped silently.
func (s *Store) batchWrite(ctx context.Context, table string, items []map[string]types.AttributeValue) error {
	var chunks [][]map[string]types.AttributeValue
	for i := 0; i < len(items); i += 25 {
		chunks = append(chunks, items[i:min(i+25, len(items))])
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan []map[string]types.AttributeValue)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range min(s.writers, max(1, len(chunks))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range work {
				if err := s.writeChunk(ctx, table, chunk); err != nil {
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
	for _, c := range chunks {
		select {
		case work <- c:
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
	delay := s.baseBackoff
	for attempt := 1; ; attempt++ {
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return fmt.Errorf("batch write %d items to %s: %w", len(pending[table]), table, err)
		}
		if len(out.UnprocessedItems[table]) == 0 {
			return nil
		}
		pending = out.UnprocessedItems
		if attempt >= s.maxAttempts {
			return fmt.Errorf("batch write to %s: %d items still unprocessed after %d attempts", table, len(pending[table]), attempt)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// query runs a Query over all pages and calls fn for every item.
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, fn func(map[string]types.AttributeValue) error) error {
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
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

func (s *Store) queryDayPrefix(ctx context.Context, table, day, prefix string, fn func(map[string]types.AttributeValue) error) error {
	return s.query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("#d = :d AND begins_with(#a, :p)"),
		ExpressionAttributeNames:  map[string]string{"#d": AttrDay, "#a": AttrARN},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": str(day), ":p": str(prefix)},
		ConsistentRead:            aws.Bool(true),
	}, fn)
}

func (s *Store) queryBatch(ctx context.Context, table, day string, batch int, fn func(map[string]types.AttributeValue) error) error {
	return s.query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		IndexName:                 aws.String(BatchIndex),
		KeyConditionExpression:    aws.String("#b = :b"),
		ExpressionAttributeNames:  map[string]string{"#b": AttrDayBatch},
		ExpressionAttributeValues: map[string]types.AttributeValue{":b": str(DayBatch(day, batch))},
	}, fn)
}

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

func getMap(it map[string]types.AttributeValue, k string) map[string]string {
	m, ok := it[k].(*types.AttributeValueMemberM)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m.Value))
	for key, v := range m.Value {
		if sv, ok := v.(*types.AttributeValueMemberS); ok {
			out[key] = sv.Value
		}
	}
	return out
}

func mapAttr(m map[string]string) types.AttributeValue {
	v := make(map[string]types.AttributeValue, len(m))
	for k, s := range m {
		v[k] = str(s)
	}
	return &types.AttributeValueMemberM{Value: v}
}

func key(day, arn string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrDay: str(day), AttrARN: str(arn)}
}

// isConditionFailed reports whether err is a failed condition of a
// conditional write.
func isConditionFailed(err error) bool {
	return errors.As(err, new(*types.ConditionalCheckFailedException))
}
