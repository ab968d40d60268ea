package meter_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/meter"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func item(pk string, bytes int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":  &types.AttributeValueMemberS{Value: pk},
		"pad": &types.AttributeValueMemberS{Value: strings.Repeat("x", bytes)},
	}
}

func key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
}

// TestDynamoDBRequestUnitsAreCountedAsOnDemandBillsThem checks the meter
// against DynamoDB's rules, through dynalite's ConsumedCapacity: a write
// unit per started KiB, a read unit per started 4 KiB read strongly
// consistent and half of one eventually consistent, and a write unit for a
// conditional write that fails.
func TestDynamoDBRequestUnitsAreCountedAsOnDemandBillsThem(t *testing.T) {
	ctx := context.Background()
	m := meter.New("plan")
	db := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(testenv.DynamoDB(t)),
	}, m.DynamoDB)
	table := fmt.Sprintf("meter-%d", time.Now().UnixNano())
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	steps := []struct {
		name   string
		call   func() error
		op     string
		rru    float64
		wru    float64
		failed int
	}{
		{"1.5 KiB item written: 2 WRU", func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item("a", 1500)})
			return err
		}, "PutItem", 0, 2, 0},
		{"conditional write refused: 1 WRU", func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item("a", 10), ConditionExpression: aws.String("attribute_not_exists(pk)")})
			if err == nil {
				return fmt.Errorf("the condition held")
			}
			return nil
		}, "PutItem", 0, 1, 1},
		{"5 KiB item written: 5 WRU", func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item("b", 5000)})
			return err
		}, "PutItem", 0, 5, 0},
		{"5 KiB read strongly consistent: 2 RRU", func() error {
			_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("b"), ConsistentRead: aws.Bool(true)})
			return err
		}, "GetItem", 2, 0, 0},
		{"5 KiB read eventually consistent: 1 RRU", func() error {
			_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("b")})
			return err
		}, "GetItem", 1, 0, 0},
		{"three small items in a batch: 3 WRU", func() error {
			var reqs []types.WriteRequest
			for _, pk := range []string{"c", "d", "e"} {
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item(pk, 100)}})
			}
			_, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
			return err
		}, "BatchWriteItem", 0, 3, 0},
	}
	for _, s := range steps {
		before := m.Counts().DynamoDB[s.op]
		if err := s.call(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		after := m.Counts().DynamoDB[s.op]
		if after.Calls != before.Calls+1 || after.ReadUnits-before.ReadUnits != s.rru || after.WriteUnits-before.WriteUnits != s.wru || after.ConditionFailed-before.ConditionFailed != s.failed {
			t.Errorf("%s: counted %+v after %+v; want one call, %v RRU, %v WRU, %d refused", s.name, after, before, s.rru, s.wru, s.failed)
		}
	}
	c := m.Counts()
	if c.ReadUnits() != 3 || c.WriteUnits() != 11 {
		t.Errorf("totals %v RRU %v WRU, want 3 and 11", c.ReadUnits(), c.WriteUnits())
	}
	if c.DynamoDB["CreateTable"].Calls != 1 || c.DynamoDB["CreateTable"].WriteUnits != 0 {
		t.Errorf("control-plane calls are counted, never billed as request units: %+v", c.DynamoDB["CreateTable"])
	}
}

func TestPublishesAreCountedPerStarted64KB(t *testing.T) {
	m := meter.New("report")
	var out bytes.Buffer
	p := meter.Publisher{Meter: m, Out: &out}
	for _, size := range []int{100, 64*1024 - 200, 100_000} {
		in := &sns.PublishInput{TopicArn: aws.String("local-owners"), Subject: aws.String("s"), Message: aws.String(strings.Repeat("y", size))}
		if _, err := p.Publish(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	c := m.Counts()
	if c.SNSPublishes["local-owners"] != 3 || c.SNSRequests != 4 {
		t.Errorf("%d publishes, %d requests; want 3 and 4 (the 100,000-byte message is two 64 KB chunks)", c.SNSPublishes["local-owners"], c.SNSRequests)
	}
	if strings.Count(out.String(), "--- notification to local-owners") != 3 {
		t.Errorf("the local publisher did not write the messages:\n%.200s", out.String())
	}
}

func TestCountsGoOutAsOneLinePerInvocation(t *testing.T) {
	file := filepath.Join(t.TempDir(), "usage.jsonl")
	for i, h := range []string{"restart", "verify"} {
		m := meter.New(h)
		m.Timing(float64(i), 10)
		m.Logged(100)
		if err := m.Append(file); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cs, err := meter.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Handler != "restart" || cs[1].Handler != "verify" || cs[1].InitMs != 1 || cs[1].LogBytes != 100 {
		t.Errorf("read back %+v", cs)
	}
}
