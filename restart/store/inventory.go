package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// NoBatch is Item.Batch for a service that is in no batch (not planned yet,
// or skipped).
const NoBatch = -1

// Item is one service of the day's inventory with its place in the plan.
type Item struct {
	fleet.Service
	// RunID is the run whose discovery wrote the item; items left by an
	// earlier run of the same day are ignored.
	RunID string
	// Batch is the index of the service's batch, or NoBatch.
	Batch int
	// Start is the batch start "HH:MM".
	Start string
	// Skip is why the service is in no batch, empty when it is planned.
	Skip fleet.Reason
	// Unenrolled is set when the service lacks fleet.RestartTag.
	Unenrolled bool
}

// PutInventory writes the day's inventory (or its planned form): one item per
// service, 25 per BatchWriteItem, unprocessed items resent.
func (s *Store) PutInventory(ctx context.Context, day string, items []Item) error {
	avs := make([]map[string]types.AttributeValue, 0, len(items))
	for _, it := range items {
		avs = append(avs, itemAttrs(day, it))
	}
	if err := s.batchWrite(ctx, s.inventory, avs); err != nil {
		return fmt.Errorf("write inventory of %s: %w", day, err)
	}
	return nil
}

func itemAttrs(day string, it Item) map[string]types.AttributeValue {
	av := map[string]types.AttributeValue{
		AttrDay:                str(day),
		AttrARN:                str(it.ARN),
		"runId":                str(it.RunID),
		"account":              str(it.Account),
		"region":               str(it.Region),
		"cluster":              str(it.Cluster),
		"service":              str(it.Service.Service),
		"desiredCount":         num(int64(it.DesiredCount)),
		"schedulingStrategy":   str(it.SchedulingStrategy),
		"deploymentController": str(it.DeploymentController),
		"tags":                 mapAttr(it.Tags),
		"batch":                num(int64(it.Batch)),
		"unenrolled":           boolean(it.Unenrolled),
	}
	if it.Batch != NoBatch {
		av[AttrDayBatch] = str(DayBatch(day, it.Batch))
		av["start"] = str(it.Start)
	}
	if it.Skip != "" {
		av["skip"] = str(string(it.Skip))
	}
	if it.ShortARN {
		av["shortArn"] = boolean(true)
	}
	return av
}

func itemFrom(av map[string]types.AttributeValue) Item {
	return Item{
		Service: fleet.Service{
			Account:              getS(av, "account"),
			Region:               getS(av, "region"),
			Cluster:              getS(av, "cluster"),
			Service:              getS(av, "service"),
			ARN:                  getS(av, AttrARN),
			DesiredCount:         int32(getN(av, "desiredCount")),
			SchedulingStrategy:   getS(av, "schedulingStrategy"),
			DeploymentController: getS(av, "deploymentController"),
			Tags:                 getMap(av, "tags"),
			ShortARN:             getBool(av, "shortArn"),
		},
		RunID:      getS(av, "runId"),
		Batch:      int(getN(av, "batch")),
		Start:      getS(av, "start"),
		Skip:       fleet.Reason(getS(av, "skip")),
		Unenrolled: getBool(av, "unenrolled"),
	}
}

// LoadInventory returns the services the given run discovered on the day.
func (s *Store) LoadInventory(ctx context.Context, day, runID string) ([]Item, error) {
	var items []Item
	err := s.queryDayPrefix(ctx, s.inventory, day, servicePrefix, func(av map[string]types.AttributeValue) error {
		if it := itemFrom(av); it.RunID == runID {
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load inventory of %s: %w", day, err)
	}
	return items, nil
}

// LoadBatch returns the services of one batch of the run's plan.
func (s *Store) LoadBatch(ctx context.Context, day, runID string, batch int) ([]Item, error) {
	var items []Item
	err := s.queryBatch(ctx, s.inventory, day, batch, func(av map[string]types.AttributeValue) error {
		if it := itemFrom(av); it.RunID == runID {
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load batch %d of %s: %w", batch, day, err)
	}
	return items, nil
}

// Slot is one batch of the plan: its index and start.
type Slot struct {
	Index int `json:"index"`
	// Start is "HH:MM" local time.
	Start string `json:"start"`
	// StartAt is the absolute start time.
	StartAt time.Time `json:"startAt"`
	// Services is how many services the batch holds.
	Services int `json:"services"`
}

// RunMeta describes one run: what it discovered and planned.
type RunMeta struct {
	RunID      string           `json:"runId"`
	Day        string           `json:"day"`
	StartedAt  time.Time        `json:"startedAt"`
	Enrollment fleet.Enrollment `json:"enrollment,omitempty"`
	Discovered int              `json:"discovered"`
	Planned    bool             `json:"planned"`
	Batches    []Slot           `json:"batches,omitempty"`
}

// PutRunMeta writes the run's description (latest run of the day wins).
func (s *Store) PutRunMeta(ctx context.Context, m RunMeta) error {
	doc, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.inventory),
		Item: map[string]types.AttributeValue{
			AttrDay: str(m.Day), AttrARN: str(metaRunKey), "runId": str(m.RunID), "doc": str(string(doc)),
		},
	})
	if err != nil {
		return fmt.Errorf("write run %s of %s: %w", m.RunID, m.Day, err)
	}
	return nil
}

// GetRunMeta reads the run's description; it fails when the day's latest
// run is another one.
func (s *Store) GetRunMeta(ctx context.Context, day, runID string) (RunMeta, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.inventory), Key: key(day, metaRunKey), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return RunMeta{}, fmt.Errorf("read run %s of %s: %w", runID, day, err)
	}
	if out.Item == nil {
		return RunMeta{}, fmt.Errorf("read run %s of %s: no run discovered that day", runID, day)
	}
	var m RunMeta
	if err := json.Unmarshal([]byte(getS(out.Item, "doc")), &m); err != nil {
		return RunMeta{}, fmt.Errorf("read run %s of %s: %w", runID, day, err)
	}
	if runID != "" && m.RunID != runID {
		return RunMeta{}, fmt.Errorf("read run %s of %s: the day's latest run is %s", runID, day, m.RunID)
	}
	return m, nil
}

// AccountResult is how discovery went in one account and region.
type AccountResult struct {
	Account  string `json:"account"`
	Region   string `json:"region"`
	RunID    string `json:"runId"`
	Clusters int    `json:"clusters"`
	Services int    `json:"services"`
	// Error is empty when the account was fully discovered.
	Error string `json:"error,omitempty"`
	// ClustersGone are clusters deleted during discovery.
	ClustersGone []string `json:"clustersGone,omitempty"`
}

// PutAccountResults records discovery's outcome per account and region.
func (s *Store) PutAccountResults(ctx context.Context, day string, results []AccountResult) error {
	avs := make([]map[string]types.AttributeValue, 0, len(results))
	for _, r := range results {
		doc, err := json.Marshal(r)
		if err != nil {
			return err
		}
		avs = append(avs, map[string]types.AttributeValue{
			AttrDay: str(day), AttrARN: str(metaAccountPref + r.Account + "#" + r.Region),
			"runId": str(r.RunID), "doc": str(string(doc)),
		})
	}
	if err := s.batchWrite(ctx, s.inventory, avs); err != nil {
		return fmt.Errorf("write account results of %s: %w", day, err)
	}
	return nil
}

// LoadAccountResults returns the run's per-account discovery outcomes.
func (s *Store) LoadAccountResults(ctx context.Context, day, runID string) ([]AccountResult, error) {
	var out []AccountResult
	err := s.queryDayPrefix(ctx, s.inventory, day, metaAccountPref, func(av map[string]types.AttributeValue) error {
		if getS(av, "runId") != runID {
			return nil
		}
		var r AccountResult
		if err := json.NewDecoder(strings.NewReader(getS(av, "doc"))).Decode(&r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load account results of %s: %w", day, err)
	}
	return out, nil
}
