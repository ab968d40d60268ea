package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// The claim protocol adds two states to fleet.Status.
//
//	(none) --Claim--> claimed --MarkStarted--> in-progress --Finish--> completed|failed|rolled-back
//	                     |  \--Finish(gone)--> gone       (service deleted since discovery)
//	                     \--Release--> not-started --Claim--> claimed ...
//
// A service is claimed with a conditional PutItem BEFORE UpdateService is
// called, so two runs (or a duplicated invocation) can never both call it.
// A crash between the claim and MarkStarted leaves a "claimed" record: a
// rerun never calls UpdateService for it; the verifier later adopts the
// deployment UpdateService created if there is one (a PRIMARY deployment
// created after the claim), and otherwise, once the claim is older than
// any invocation can live, releases it to not-started so that the next run
// may restart the service. A claim is therefore reported, never restarted
// twice.
const (
	// StatusClaimed: the run owns today's restart of the service and is
	// about to call (or has called) UpdateService.
	StatusClaimed fleet.Status = "claimed"
	// StatusNotStarted: UpdateService certainly did not start a deployment
	// (refused, throttled past retries, or a stale claim released); a later
	// run of the same day may claim the service again.
	StatusNotStarted fleet.Status = "not-started"
)

// ErrNotOwner is returned when a conditional update finds the record in
// another state or owned by another run.
var ErrNotOwner = errors.New("run record changed by another run")

// Record is one service's restart on one day.
type Record struct {
	fleet.RunRecord
	// RunID is the run that claimed the service.
	RunID string `json:"runId"`
	// ClaimedAt is when the claim was written.
	ClaimedAt time.Time `json:"claimedAt"`
	// Stamp says whether to write fleet.RestartTag on success (only
	// services that already carry the tag are stamped, so that unenrolled
	// services keep being reported to their owners).
	Stamp bool `json:"stamp,omitempty"`
	// DeploymentTime is how long the completed deployment took (see
	// FinishCompleted); 0 when unknown or not completed.
	DeploymentTime time.Duration `json:"deploymentTime,omitempty"`
	// Before is what the service ran before the restart (its task
	// definition from the check before it, then the service revision the
	// restart's service deployment replaced) and After what the restart
	// deployed (see SetChange).
	Before fleet.Revision `json:"before,omitzero"`
	After  fleet.Revision `json:"after,omitzero"`
}

func recordAttrs(r Record) map[string]types.AttributeValue {
	av := map[string]types.AttributeValue{
		AttrPK:      str(ServicePK(r.Day, r.ARN)),
		AttrSK:      str(r.ARN),
		"day":       str(r.Day),
		"runId":     str(r.RunID),
		"account":   str(r.Account),
		"region":    str(r.Region),
		"cluster":   str(r.Cluster),
		"service":   str(r.Service),
		"batch":     num(int64(r.Batch)),
		"status":    str(string(r.Status)),
		"claimedAt": timeAttr(r.ClaimedAt),
		"stamp":     boolean(r.Stamp),
	}
	if b, err := revisionAttr(r.Before); err == nil && b != nil {
		av[attrBefore] = b
	}
	return av
}

// The revisions of a record, as JSON ("before" and "after" are DynamoDB
// reserved words).
const (
	attrBefore = "revBefore"
	attrAfter  = "revAfter"
)

func revisionAttr(r fleet.Revision) (types.AttributeValue, error) {
	if r.ARN == "" && r.TaskDefinition == "" && len(r.Images) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return str(string(b)), nil
}

func revisionFrom(av map[string]types.AttributeValue, k string) fleet.Revision {
	var r fleet.Revision
	if v := getS(av, k); v != "" {
		_ = json.Unmarshal([]byte(v), &r)
	}
	return r
}

// SetChange records what the restart replaced and what it deployed,
// whatever the record's state.
func (s *Store) SetChange(ctx context.Context, day, arn string, before, after fleet.Revision) error {
	b, err := revisionAttr(before)
	if err != nil {
		return err
	}
	a, err := revisionAttr(after)
	if err != nil {
		return err
	}
	set, values := []string{}, map[string]types.AttributeValue{}
	if b != nil {
		set, values[":b"] = append(set, attrBefore+" = :b"), b
	}
	if a != nil {
		set, values[":f"] = append(set, attrAfter+" = :f"), a
	}
	if len(set) == 0 {
		return nil
	}
	return s.update(ctx, day, arn, "SET "+strings.Join(set, ", "), "attribute_exists(runId)", values)
}

func recordFrom(av map[string]types.AttributeValue) Record {
	return Record{
		RunRecord: fleet.RunRecord{
			Day:          getS(av, "day"),
			ARN:          getS(av, AttrSK),
			Account:      getS(av, "account"),
			Region:       getS(av, "region"),
			Cluster:      getS(av, "cluster"),
			Service:      getS(av, "service"),
			Batch:        int(getN(av, "batch")),
			DeploymentID: getS(av, "deploymentId"),
			Status:       fleet.Status(getS(av, "status")),
			Detail:       getS(av, "detail"),
			StartedAt:    getTime(av, "startedAt"),
			FinishedAt:   getTime(av, "finishedAt"),
		},
		RunID:          getS(av, "runId"),
		ClaimedAt:      getTime(av, "claimedAt"),
		Stamp:          getBool(av, "stamp"),
		DeploymentTime: time.Duration(getN(av, attrDeploymentMs)) * time.Millisecond,
		Before:         revisionFrom(av, attrBefore),
		After:          revisionFrom(av, attrAfter),
	}
}

// attrDeploymentMs holds Record.DeploymentTime in milliseconds.
const attrDeploymentMs = "deploymentMs"

// Claim takes today's restart of r.ARN for r.RunID. It reports false, with
// no error, when the service is already claimed, started or finished today
// (by this run or another); a not-started record can be claimed again.
func (s *Store) Claim(ctx context.Context, r Record) (bool, error) {
	r.Status = StatusClaimed
	item := recordAttrs(r)
	item[AttrTTL] = s.expires()
	err := s.put(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.runs),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(#a) OR #s = :ns"),
		ExpressionAttributeNames:  map[string]string{"#a": AttrSK, "#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ns": str(string(StatusNotStarted))},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim %s for %s: %w", r.ARN, r.Day, err)
	}
	return true, nil
}

// MarkStarted records the deployment UpdateService started for the run's
// claim. A verifier running at the same time may have adopted that very
// deployment first (it finds a PRIMARY created after the claim): the
// record then already holds it, and MarkStarted succeeds without writing.
func (s *Store) MarkStarted(ctx context.Context, day, arn, runID, deploymentID string, at time.Time) error {
	err := s.update(ctx, day, arn, "SET #s = :new, deploymentId = :dep, startedAt = :at",
		"#s = :claimed AND runId = :run",
		map[string]types.AttributeValue{
			":new": str(string(fleet.StatusStarted)), ":dep": str(deploymentID), ":at": timeAttr(at),
			":claimed": str(string(StatusClaimed)), ":run": str(runID),
		})
	if !errors.Is(err, ErrNotOwner) || deploymentID == "" {
		return err
	}
	r, ok, gerr := s.GetRecord(ctx, day, arn)
	if gerr != nil {
		return fmt.Errorf("%w (then: %w)", err, gerr)
	}
	if ok && r.DeploymentID == deploymentID {
		return nil
	}
	return err
}

// GetRecord reads the service's run record of the day (consistent read);
// ok is false when there is none.
func (s *Store) GetRecord(ctx context.Context, day, arn string) (r Record, ok bool, err error) {
	var out *dynamodb.GetItemOutput
	err = s.retrying(ctx, func() (bool, error) {
		var err error
		out, err = s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.runs), Key: key(ServicePK(day, arn), arn), ConsistentRead: aws.Bool(true)})
		return err == nil, err
	})
	if err != nil {
		return Record{}, false, fmt.Errorf("read run record %s of %s: %w", arn, day, err)
	}
	if out.Item == nil {
		return Record{}, false, nil
	}
	return recordFrom(out.Item), true, nil
}

// Adopt records a deployment found for a stale claim (the claiming run
// crashed after UpdateService): the record moves to in-progress whoever
// claimed it.
func (s *Store) Adopt(ctx context.Context, day, arn, deploymentID string, at time.Time, detail string) error {
	return s.update(ctx, day, arn, "SET #s = :new, deploymentId = :dep, startedAt = :at, detail = :detail",
		"#s = :claimed",
		map[string]types.AttributeValue{
			":new": str(string(fleet.StatusStarted)), ":dep": str(deploymentID), ":at": timeAttr(at),
			":detail": str(detail), ":claimed": str(string(StatusClaimed)),
		})
}

// Release marks a claim whose UpdateService certainly started nothing as
// not-started, so that a later run may claim the service again.
func (s *Store) Release(ctx context.Context, day, arn, detail string) error {
	return s.update(ctx, day, arn, "SET #s = :new, detail = :detail",
		"#s = :claimed",
		map[string]types.AttributeValue{
			":new": str(string(StatusNotStarted)), ":detail": str(detail), ":claimed": str(string(StatusClaimed)),
		})
}

// Finish records the final state of a claimed or in-progress record. A
// record already final is left alone (ErrNotOwner).
func (s *Store) Finish(ctx context.Context, day, arn string, status fleet.Status, detail string, at time.Time) error {
	return s.update(ctx, day, arn, "SET #s = :new, detail = :detail, finishedAt = :at",
		"#s IN (:claimed, :started)",
		map[string]types.AttributeValue{
			":new": str(string(status)), ":detail": str(detail), ":at": timeAttr(at),
			":claimed": str(string(StatusClaimed)), ":started": str(string(fleet.StatusStarted)),
		})
}

// FinishCompleted records that the restart's deployment completed, and
// how long it took (took, rounded to the millisecond; not recorded when 0
// or less): the next night's plan judges from it whether the cluster's
// restarts fit the window. Like Finish, it leaves a final record alone.
func (s *Store) FinishCompleted(ctx context.Context, day, arn, detail string, at time.Time, took time.Duration) error {
	if took <= 0 {
		return s.Finish(ctx, day, arn, fleet.StatusCompleted, detail, at)
	}
	return s.update(ctx, day, arn, "SET #s = :new, detail = :detail, finishedAt = :at, "+attrDeploymentMs+" = :took",
		"#s IN (:claimed, :started)",
		map[string]types.AttributeValue{
			":new": str(string(fleet.StatusCompleted)), ":detail": str(detail), ":at": timeAttr(at), ":took": num(took.Milliseconds()),
			":claimed": str(string(StatusClaimed)), ":started": str(string(fleet.StatusStarted)),
		})
}

// Note records a detail on an unfinished record (e.g. "still in progress").
func (s *Store) Note(ctx context.Context, day, arn, detail string) error {
	return s.update(ctx, day, arn, "SET detail = :detail", "#s IN (:claimed, :started)",
		map[string]types.AttributeValue{
			":detail": str(detail), ":claimed": str(string(StatusClaimed)), ":started": str(string(fleet.StatusStarted)),
		})
}

func (s *Store) update(ctx context.Context, day, arn, set, cond string, values map[string]types.AttributeValue) error {
	names := map[string]string{"#a": AttrSK}
	if strings.Contains(set+cond, "#s") {
		names["#s"] = "status"
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.runs),
		Key:                       key(ServicePK(day, arn), arn),
		UpdateExpression:          aws.String(set),
		ConditionExpression:       aws.String("attribute_exists(#a) AND " + cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
	err := s.retrying(ctx, func() (bool, error) {
		_, err := s.db.UpdateItem(ctx, in)
		return err == nil, err
	})
	if isConditionFailed(err) {
		return fmt.Errorf("update %s of %s: %w", arn, day, ErrNotOwner)
	}
	if err != nil {
		return fmt.Errorf("update %s of %s: %w", arn, day, err)
	}
	return nil
}

// LoadRunBatch returns the day's run records of the services of one
// batch of the run's plan: the members come from the batch's manifest and
// the records are read by key, both with strongly consistent reads.
func (s *Store) LoadRunBatch(ctx context.Context, day, runID string, batch int) ([]Record, error) {
	items, err := s.LoadBatch(ctx, day, runID, batch)
	if err != nil {
		return nil, fmt.Errorf("load run records of batch %d of %s: %w", batch, day, err)
	}
	arns := make([]string, len(items))
	for i, it := range items {
		arns[i] = it.ARN
	}
	recs, err := s.GetRecords(ctx, day, arns)
	if err != nil {
		return nil, fmt.Errorf("load run records of batch %d of %s: %w", batch, day, err)
	}
	return recs, nil
}

// GetRecords returns the day's run records of the given services (those
// that have one).
func (s *Store) GetRecords(ctx context.Context, day string, arns []string) ([]Record, error) {
	// BatchGetItem refuses a request that names a key twice.
	seen := make(map[string]bool, len(arns))
	keys := make([]map[string]types.AttributeValue, 0, len(arns))
	for _, arn := range arns {
		if !seen[arn] {
			seen[arn] = true
			keys = append(keys, key(ServicePK(day, arn), arn))
		}
	}
	var out []Record
	err := s.batchGet(ctx, s.runs, keys, func(av map[string]types.AttributeValue) {
		out = append(out, recordFrom(av))
	})
	if err != nil {
		return nil, fmt.Errorf("read run records of %s: %w", day, err)
	}
	return out, nil
}

// LoadRuns returns all of the day's run records.
func (s *Store) LoadRuns(ctx context.Context, day string) ([]Record, error) {
	var out []Record
	err := s.queryShards(ctx, s.runs, day, func(av map[string]types.AttributeValue) error {
		out = append(out, recordFrom(av))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load run records of %s: %w", day, err)
	}
	slices.SortFunc(out, func(a, b Record) int { return strings.Compare(a.ARN, b.ARN) })
	return out, nil
}
