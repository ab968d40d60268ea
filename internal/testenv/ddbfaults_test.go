package testenv_test

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// client talks to ep without retrying, so that every fault is seen.
func client(ep string) *dynamodb.Client {
	return dynamodb.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ep) })
}

func table(t *testing.T, db *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("faults-%d", time.Now().UnixNano())
	s := func(n string) *string { return aws.String(n) }
	_, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName: s(name), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: s("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: s("sk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: s("g"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: s("pk"), KeyType: types.KeyTypeHash}, {AttributeName: s("sk"), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: s("by-g"), KeySchema: []types.KeySchemaElement{{AttributeName: s("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(t.Context(), &dynamodb.DescribeTableInput{TableName: s(name)}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return name
}

func item(pk string, i int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: fmt.Sprint(i)},
		"g": &types.AttributeValueMemberS{Value: "G"},
	}
}

// A hot partition key is throttled the way DynamoDB throttles it: a
// single write fails with ProvisionedThroughputExceededException (HTTP
// 400), a batch gets its throttled requests back as UnprocessedItems,
// and another key is not affected.
func TestDynamoFaultsThrottleAHotKeyAsDynamoDBDoes(t *testing.T) {
	ddb := testenv.DynamoDB(t)
	f := &testenv.DynamoFaults{Upstream: ddb, PartitionRate: 1, PartitionBurst: 10}
	srv := httptest.NewServer(f)
	defer srv.Close()
	db := client(srv.URL)
	name := table(t, db)
	ctx := t.Context()

	var reqs []types.WriteRequest
	for i := range 25 {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item("hot", i)}})
	}
	out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{name: reqs}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.UnprocessedItems[name]); n != 15 {
		t.Fatalf("%d of 25 writes to a key with a burst of 10 came back unprocessed, want 15", n)
	}
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: item("hot", 99)})
	var pte *types.ProvisionedThroughputExceededException
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &pte) || !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Fatalf("write to a throttled key: %v, want ProvisionedThroughputExceededException with HTTP 400", err)
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ProvisionedThroughputExceededException" {
		t.Fatalf("error code %v", err)
	}
	_, err = db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{name: reqs[:2]}})
	if !errors.As(err, &pte) {
		t.Fatalf("a batch whose every write is throttled: %v, want ProvisionedThroughputExceededException", err)
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: item("cold", 1)}); err != nil {
		t.Fatalf("another key was throttled too: %v", err)
	}
	if st := f.Stats(); st.ThrottledCalls != 2 || st.ThrottledItems != 18 || st.Writes != 11 {
		t.Fatalf("stats = %+v, want 2 calls and 18 items throttled, 11 writes", st)
	}
}

// A fresh write is invisible to an index query and to an eventually
// consistent read for the delay; a strongly consistent read sees it.
func TestDynamoFaultsDelayIndexAndEventuallyConsistentReads(t *testing.T) {
	ddb := testenv.DynamoDB(t)
	f := &testenv.DynamoFaults{Upstream: ddb, Delay: 300 * time.Millisecond}
	srv := httptest.NewServer(f)
	defer srv.Close()
	db := client(srv.URL)
	name := table(t, db)
	ctx := t.Context()
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: item("p", 1)}); err != nil {
		t.Fatal(err)
	}
	index := func() int32 {
		out, err := db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(name), IndexName: aws.String("by-g"),
			KeyConditionExpression:    aws.String("g = :g"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: "G"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.Count
	}
	get := func(consistent bool) bool {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(name), Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "p"}, "sk": &types.AttributeValueMemberS{Value: "1"},
		}, ConsistentRead: aws.Bool(consistent)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item != nil
	}
	if n := index(); n != 0 {
		t.Fatalf("index query right after the write found %d items, want 0", n)
	}
	if get(false) {
		t.Fatal("eventually consistent read right after the write found the item")
	}
	if !get(true) {
		t.Fatal("strongly consistent read did not find the item")
	}
	time.Sleep(350 * time.Millisecond)
	if n := index(); n != 1 || !get(false) {
		t.Fatalf("after the delay: index %d items, eventual read found it %v; want both", n, get(false))
	}
	if st := f.Stats(); st.Hidden != 2 || st.EventualReads != 4 {
		t.Fatalf("stats = %+v, want 2 hidden in 4 eventually consistent reads", st)
	}
}
