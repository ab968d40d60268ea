package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CarryOver is what a night leaves to the next: the services that were
// eligible but not attempted (the window closed, a pause, a breaker, a
// failed batch, a deployment of their own in progress), which the next
// night's plan places first.
type CarryOver struct {
	// Day is the night that left them.
	Day  string   `json:"day"`
	ARNs []string `json:"arns"`
}

func carryPK(day string) string { return day + "#carry" }

const carryPrefix = "page#"

// PutCarryOver replaces the day's carry-over.
func (s *Store) PutCarryOver(ctx context.Context, c CarryOver) error {
	arns := slices.Clone(c.ARNs)
	slices.Sort(arns)
	docs, err := pages(arns)
	if err != nil {
		return fmt.Errorf("write the carry-over of %s: %w", c.Day, err)
	}
	if len(docs) == 0 {
		docs = []string{"[]"}
	}
	if err := s.batchWrite(ctx, s.inventory, s.pageItems(carryPK(c.Day), carryPrefix, docs, nil)); err != nil {
		return fmt.Errorf("write the carry-over of %s: %w", c.Day, err)
	}
	return nil
}

// LoadCarryOver returns the day's carry-over; ok is false when that night
// left none (it was not reported).
func (s *Store) LoadCarryOver(ctx context.Context, day string) (c CarryOver, ok bool, err error) {
	c.Day = day
	var got [][]string
	want := -1
	err = s.queryPrefix(ctx, s.inventory, carryPK(day), carryPrefix, func(av map[string]types.AttributeValue) error {
		var p []string
		if err := json.Unmarshal([]byte(getS(av, "doc")), &p); err != nil {
			return fmt.Errorf("%s: %w", getS(av, AttrSK), err)
		}
		if want < 0 {
			want = int(getN(av, "pages"))
		}
		got = append(got, p)
		return nil
	})
	if err != nil {
		return c, false, fmt.Errorf("load the carry-over of %s: %w", day, err)
	}
	if want < 0 {
		return c, false, nil
	}
	if want > len(got) {
		return c, false, fmt.Errorf("load the carry-over of %s: %d of %d pages found", day, len(got), want)
	}
	for _, p := range got[:want] {
		c.ARNs = append(c.ARNs, p...)
	}
	return c, true, nil
}
