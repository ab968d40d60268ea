package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BeginNotice records that message name of the run is being sent, with a
// conditional write; it reports false when it was already sent (a retried
// Report), in which case the caller sends nothing. It implements
// report.Ledger.
func (s *Store) BeginNotice(ctx context.Context, day, runID, name string) (bool, error) {
	err := s.put(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.inventory),
		Item: map[string]types.AttributeValue{
			AttrPK: str(day), AttrSK: str(noticeKey(runID, name)), "runId": str(runID),
			"sentAt": timeAttr(s.now()), AttrTTL: s.expires(),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#s)"),
		ExpressionAttributeNames: map[string]string{"#s": AttrSK},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record notice %s of run %s: %w", name, runID, err)
	}
	return true, nil
}

// AbortNotice forgets a BeginNotice whose message could not be sent, so
// that a retry sends it.
func (s *Store) AbortNotice(ctx context.Context, day, runID, name string) error {
	err := s.retrying(ctx, func() (bool, error) {
		_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.inventory), Key: key(day, noticeKey(runID, name))})
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("forget notice %s of run %s: %w", name, runID, err)
	}
	return nil
}

func noticeKey(runID, name string) string { return metaNoticePref + runID + "#" + name }
