package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
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
	// Skip is why the service is in no batch, empty when it is planned;
	// SkipDetail says more (the check before a restart).
	Skip       fleet.Reason
	SkipDetail string
	// Unenrolled is set when the service lacks fleet.RestartTag.
	Unenrolled bool
	// Deferrals counts how many times a batch's check moved the service
	// to a later batch (a deployment of its own was in progress).
	Deferrals int
}

// PutInventory writes what discovery found on the day: one item per
// service, under its shard's partition key, 25 per BatchWriteItem. Each
// item is written once: the plan goes to the batch manifests (PutPlan).
func (s *Store) PutInventory(ctx context.Context, day string, items []Item) error {
	avs := make([]map[string]types.AttributeValue, 0, len(items))
	exp := s.expires()
	for _, it := range items {
		av, err := itemAttrs(day, it)
		if err != nil {
			return fmt.Errorf("write inventory of %s: %w", day, err)
		}
		av[AttrTTL] = exp
		avs = append(avs, av)
	}
	if err := s.batchWrite(ctx, s.inventory, avs); err != nil {
		return fmt.Errorf("write inventory of %s: %w", day, err)
	}
	return nil
}

// itemAttrs is a service's inventory item: the service as JSON (so that
// every field of fleet.Service is kept) and, for people reading the table,
// its names as attributes.
func itemAttrs(day string, it Item) (map[string]types.AttributeValue, error) {
	doc, err := json.Marshal(it.Service)
	if err != nil {
		return nil, err
	}
	return map[string]types.AttributeValue{
		AttrPK:    str(ServicePK(day, it.ARN)),
		AttrSK:    str(it.ARN),
		"runId":   str(it.RunID),
		"account": str(it.Account),
		"region":  str(it.Region),
		"cluster": str(it.Cluster),
		"service": str(it.Service.Service),
		"doc":     str(string(doc)),
	}, nil
}

func itemFrom(av map[string]types.AttributeValue) (Item, error) {
	it := Item{RunID: getS(av, "runId"), Batch: NoBatch}
	if err := json.Unmarshal([]byte(getS(av, "doc")), &it.Service); err != nil {
		return it, fmt.Errorf("inventory item %s: %w", getS(av, AttrSK), err)
	}
	return it, nil
}

// LoadInventory returns the services the given run discovered on the day,
// with their place in the run's plan when it was planned (the batch
// manifests and skip lists, including the services its restarts skipped).
func (s *Store) LoadInventory(ctx context.Context, day, runID string) ([]Item, error) {
	var items []Item
	err := s.queryShards(ctx, s.inventory, day, func(av map[string]types.AttributeValue) error {
		if getS(av, "runId") != runID {
			return nil
		}
		it, err := itemFrom(av)
		if err != nil {
			return err
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load inventory of %s: %w", day, err)
	}
	slices.SortFunc(items, func(a, b Item) int { return strings.Compare(a.ARN, b.ARN) })
	meta, err := s.getRunMeta(ctx, day, metaRunKey+"#"+runID)
	if errors.Is(err, errNoRun) || (err == nil && !meta.Planned) {
		return items, nil // not planned: the items are in no batch
	}
	if err != nil {
		return nil, fmt.Errorf("load inventory of %s: read run %s: %w", day, runID, err)
	}
	byARN := make(map[string]*Item, len(items))
	for i := range items {
		byARN[items[i].ARN] = &items[i]
	}
	for _, b := range meta.Batches {
		members, err := s.LoadBatch(ctx, day, runID, b.Index)
		if err != nil {
			return nil, fmt.Errorf("load inventory of %s: %w", day, err)
		}
		for _, m := range members {
			if it := byARN[m.ARN]; it != nil {
				it.Batch, it.Start, it.Unenrolled = m.Batch, m.Start, m.Unenrolled
			}
		}
	}
	skips, err := s.loadSkips(ctx, day, runID)
	if err != nil {
		return nil, fmt.Errorf("load inventory of %s: %w", day, err)
	}
	for _, sk := range skips {
		if it := byARN[sk.ARN]; it != nil {
			// A batch's skip list does not repeat the enrollment.
			it.Batch, it.Start, it.Skip, it.SkipDetail, it.Unenrolled = NoBatch, "", sk.Reason, sk.Detail, it.Unenrolled || sk.Unenrolled
		}
	}
	return items, nil
}

// manifestEntry is one service of a batch manifest or of a skip list.
type manifestEntry struct {
	fleet.Service
	Unenrolled bool         `json:"unenrolled,omitempty"`
	Reason     fleet.Reason `json:"reason,omitempty"`
	Detail     string       `json:"detail,omitempty"`
	Deferrals  int          `json:"deferrals,omitempty"`
}

// maxPageBytes bounds the JSON of one manifest page: a DynamoDB item is
// at most 400 KB, names and values included ("Service, account, and table
// quotas in Amazon DynamoDB").
const maxPageBytes = 300 << 10

// pages splits entries into JSON arrays of at most maxPageBytes (one entry
// larger than that gets a page of its own, and fails to write).
func pages[T any](entries []T) ([]string, error) {
	var out []string
	var b []byte
	for _, e := range entries {
		j, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		if len(b) > 0 && len(b)+len(j)+2 > maxPageBytes {
			out = append(out, string(append(b, ']')))
			b = nil
		}
		if len(b) == 0 {
			b = append(b, '[')
		} else {
			b = append(b, ',')
		}
		b = append(b, j...)
	}
	if len(b) > 0 {
		out = append(out, string(append(b, ']')))
	}
	return out, nil
}

// pageItems are the items of a manifest or skip list: sort keys
// "<prefix><page>", each page knowing how many there are so that a reader
// ignores pages left by an earlier, longer write.
func (s *Store) pageItems(pk, prefix string, docs []string, extra map[string]types.AttributeValue) []map[string]types.AttributeValue {
	exp := s.expires()
	var out []map[string]types.AttributeValue
	for i, d := range docs {
		av := map[string]types.AttributeValue{
			AttrPK: str(pk), AttrSK: str(fmt.Sprintf("%s%04d", prefix, i)),
			"pages": num(int64(len(docs))), "doc": str(d), AttrTTL: exp,
		}
		maps.Copy(av, extra)
		out = append(out, av)
	}
	return out
}

// readPages reads the pages written by pageItems and decodes their
// entries; it fails when a page is missing.
func (s *Store) readPages(ctx context.Context, pk, prefix string, fn func(av map[string]types.AttributeValue, e manifestEntry)) error {
	type page struct {
		av      map[string]types.AttributeValue
		entries []manifestEntry
	}
	var got []page
	want := -1
	err := s.queryPrefix(ctx, s.inventory, pk, prefix, func(av map[string]types.AttributeValue) error {
		var p page
		p.av = av
		if err := json.Unmarshal([]byte(getS(av, "doc")), &p.entries); err != nil {
			return fmt.Errorf("%s %s: %w", pk, getS(av, AttrSK), err)
		}
		got = append(got, p)
		if len(got) == 1 {
			want = int(getN(av, "pages"))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if want > len(got) {
		return fmt.Errorf("%s %s: %d of %d pages found", pk, prefix, len(got), want)
	}
	for _, p := range got[:max(want, 0)] {
		for _, e := range p.entries {
			fn(p.av, e)
		}
	}
	return nil
}

func batchPrefix(runID string) string { return runID + "#" }

func skipPrefix(runID, from string) string { return runID + "#" + from + "#" }

// PutPlan writes the run's plan: for each batch a manifest holding its
// services (read back by LoadBatch with consistent reads), and the list of
// skipped services with their reasons. Items with Batch = NoBatch and no
// Skip are left out (not planned).
func (s *Store) PutPlan(ctx context.Context, day, runID string, items []Item) error {
	batches := map[int][]manifestEntry{}
	starts := map[int]string{}
	var skipped []manifestEntry
	for _, it := range items {
		switch {
		case it.Batch != NoBatch:
			batches[it.Batch] = append(batches[it.Batch], manifestEntry{Service: it.Service, Unenrolled: it.Unenrolled})
			starts[it.Batch] = it.Start
		case it.Skip != "":
			skipped = append(skipped, manifestEntry{Service: minimal(it.Service), Unenrolled: it.Unenrolled, Reason: it.Skip})
		}
	}
	var avs []map[string]types.AttributeValue
	for b, entries := range batches {
		docs, err := pages(entries)
		if err != nil {
			return fmt.Errorf("write plan of run %s: %w", runID, err)
		}
		avs = append(avs, s.pageItems(BatchPK(day, b), batchPrefix(runID), docs, map[string]types.AttributeValue{
			"batch": num(int64(b)), "start": str(starts[b]),
		})...)
	}
	docs, err := pages(skipped)
	if err != nil {
		return fmt.Errorf("write plan of run %s: %w", runID, err)
	}
	avs = append(avs, s.pageItems(skipPK(day), skipPrefix(runID, "plan"), docs, nil)...)
	if err := s.batchWrite(ctx, s.inventory, avs); err != nil {
		return fmt.Errorf("write plan of run %s: %w", runID, err)
	}
	return nil
}

// minimal keeps what a skip list needs of a service: its identity.
func minimal(svc fleet.Service) fleet.Service {
	return fleet.Service{Account: svc.Account, Region: svc.Region, Cluster: svc.Cluster, Service: svc.Service, ARN: svc.ARN}
}

// Skip is a service a batch's restart skipped, with the reason and what
// the check before the restart saw.
type Skip struct {
	ARN    string
	Reason fleet.Reason
	Detail string
}

// PutBatchSkips records the services of a batch that its restart skipped
// (e.g. restarted recently by another run): the report lists them with
// their reason instead of as planned. Writing the same batch again
// replaces the list.
func (s *Store) PutBatchSkips(ctx context.Context, day, runID string, batch int, skips []Skip) error {
	entries := make([]manifestEntry, len(skips))
	for i, sk := range skips {
		entries[i] = manifestEntry{Service: fleet.Service{ARN: sk.ARN}, Reason: sk.Reason, Detail: sk.Detail}
	}
	docs, err := pages(entries)
	if err != nil {
		return fmt.Errorf("write skips of batch %d of run %s: %w", batch, runID, err)
	}
	if len(docs) == 0 {
		docs = []string{"[]"}
	}
	avs := s.pageItems(skipPK(day), skipPrefix(runID, fmt.Sprintf("b%04d", batch)), docs, nil)
	if err := s.batchWrite(ctx, s.inventory, avs); err != nil {
		return fmt.Errorf("write skips of batch %d of run %s: %w", batch, runID, err)
	}
	return nil
}

type skipEntry struct {
	ARN        string
	Reason     fleet.Reason
	Detail     string
	Unenrolled bool
}

// loadSkips returns the run's skip lists, the plan's first and then each
// batch's, so that a later list wins.
func (s *Store) loadSkips(ctx context.Context, day, runID string) ([]skipEntry, error) {
	// Each list has its own page count: find the lists, then read each.
	var froms []string
	err := s.queryPrefix(ctx, s.inventory, skipPK(day), runID+"#", func(av map[string]types.AttributeValue) error {
		from, _, _ := strings.Cut(strings.TrimPrefix(getS(av, AttrSK), runID+"#"), "#")
		if !slices.Contains(froms, from) {
			froms = append(froms, from)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(froms, func(a, b string) int {
		// "plan" first, then the batches in order ("b0001"...).
		if a == "plan" || b == "plan" {
			return boolCmp(b == "plan", a == "plan")
		}
		return strings.Compare(a, b)
	})
	var out []skipEntry
	for _, from := range froms {
		err := s.readPages(ctx, skipPK(day), skipPrefix(runID, from), func(_ map[string]types.AttributeValue, e manifestEntry) {
			out = append(out, skipEntry{ARN: e.ARN, Reason: e.Reason, Detail: e.Detail, Unenrolled: e.Unenrolled})
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// LoadBatch returns the services of one batch of the run's plan, from the
// batch's manifest and the services an earlier batch deferred to it
// (strongly consistent reads).
func (s *Store) LoadBatch(ctx context.Context, day, runID string, batch int) ([]Item, error) {
	var items []Item
	for _, prefix := range []string{batchPrefix(runID), deferPrefix(runID)} {
		err := s.readPages(ctx, BatchPK(day, batch), prefix, func(av map[string]types.AttributeValue, e manifestEntry) {
			items = append(items, Item{Service: e.Service, RunID: runID, Batch: int(getN(av, "batch")), Start: getS(av, "start"),
				Unenrolled: e.Unenrolled, Deferrals: e.Deferrals})
		})
		if err != nil {
			return nil, fmt.Errorf("load batch %d of %s: %w", batch, day, err)
		}
	}
	return items, nil
}

// deferPrefix is the sort key prefix of the services deferred to a batch
// (run ids, Step Functions execution names, never hold '#').
func deferPrefix(runID string) string { return "defer#" + runID + "#" }

// PutDeferrals records the services that batch from's check deferred to
// batch to (start "HH:MM"): LoadBatch of batch to returns them with its
// own. Only the batch before it defers to a batch, so a retried check of
// that batch replaces the list.
func (s *Store) PutDeferrals(ctx context.Context, day, runID string, to int, start string, items []Item) error {
	entries := make([]manifestEntry, len(items))
	for i, it := range items {
		entries[i] = manifestEntry{Service: it.Service, Unenrolled: it.Unenrolled, Deferrals: it.Deferrals}
	}
	docs, err := pages(entries)
	if err != nil {
		return fmt.Errorf("defer services to batch %d of run %s: %w", to, runID, err)
	}
	if len(docs) == 0 {
		docs = []string{"[]"}
	}
	avs := s.pageItems(BatchPK(day, to), deferPrefix(runID), docs, map[string]types.AttributeValue{"batch": num(int64(to)), "start": str(start)})
	if err := s.batchWrite(ctx, s.inventory, avs); err != nil {
		return fmt.Errorf("defer services to batch %d of run %s: %w", to, runID, err)
	}
	return nil
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
	// Fit is whether the plan's clusters fit the window (fleet.Fit), its
	// list of clusters that do not cut to what one item holds (FitTruncated
	// counts the ones left out).
	Fit          *fleet.FitReport `json:"fit,omitempty"`
	FitTruncated int              `json:"fitTruncated,omitempty"`
	// CarriedOver is how many of the plan's services the night before
	// left not attempted, placed first (CarriedFrom is that night).
	CarriedOver int    `json:"carriedOver,omitempty"`
	CarriedFrom string `json:"carriedFrom,omitempty"`
	// Halted is set when discovery found the pause on or the fleet's
	// breaker open: nothing was discovered or restarted ("paused" or
	// "breaker").
	Halted string `json:"halted,omitempty"`
}

// PutRunMeta writes the run's description, as the day's latest run and as
// the run's own (which LoadInventory reads, so that an earlier run of the
// day can still be reported).
func (s *Store) PutRunMeta(ctx context.Context, m RunMeta) error {
	doc, err := json.Marshal(m)
	if err != nil {
		return err
	}
	for _, sk := range []string{metaRunKey, metaRunKey + "#" + m.RunID} {
		err = s.put(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.inventory),
			Item: map[string]types.AttributeValue{
				AttrPK: str(m.Day), AttrSK: str(sk), "runId": str(m.RunID), "doc": str(string(doc)), AttrTTL: s.expires(),
			},
		})
		if err != nil {
			return fmt.Errorf("write run %s of %s: %w", m.RunID, m.Day, err)
		}
	}
	return nil
}

// GetRunMeta reads the run's description; it fails when the day's latest
// run is another one.
func (s *Store) GetRunMeta(ctx context.Context, day, runID string) (RunMeta, error) {
	m, err := s.getRunMeta(ctx, day, metaRunKey)
	if err != nil {
		return RunMeta{}, fmt.Errorf("read run %s of %s: %w", runID, day, err)
	}
	if runID != "" && m.RunID != runID {
		return RunMeta{}, fmt.Errorf("read run %s of %s: the day's latest run is %s", runID, day, m.RunID)
	}
	return m, nil
}

// GetRun reads the description of the given run of the day, whether or
// not it is the day's latest.
func (s *Store) GetRun(ctx context.Context, day, runID string) (RunMeta, error) {
	m, err := s.getRunMeta(ctx, day, metaRunKey+"#"+runID)
	if err != nil {
		return RunMeta{}, fmt.Errorf("read run %s of %s: %w", runID, day, err)
	}
	return m, nil
}

func (s *Store) getRunMeta(ctx context.Context, day, sk string) (RunMeta, error) {
	var out *dynamodb.GetItemOutput
	err := s.retrying(ctx, func() (bool, error) {
		var err error
		out, err = s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.inventory), Key: key(day, sk), ConsistentRead: aws.Bool(true)})
		return err == nil, err
	})
	if err != nil {
		return RunMeta{}, err
	}
	if out.Item == nil {
		return RunMeta{}, errNoRun
	}
	var m RunMeta
	if err := json.Unmarshal([]byte(getS(out.Item, "doc")), &m); err != nil {
		return RunMeta{}, err
	}
	return m, nil
}

var errNoRun = errors.New("no run discovered that day")

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
			AttrPK: str(day), AttrSK: str(metaAccountPref + r.Account + "#" + r.Region),
			"runId": str(r.RunID), "doc": str(string(doc)), AttrTTL: s.expires(),
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
	err := s.queryPrefix(ctx, s.inventory, day, metaAccountPref, func(av map[string]types.AttributeValue) error {
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
