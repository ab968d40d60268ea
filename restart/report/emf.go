package report

import (
	"encoding/json"
	"io"
	"maps"
	"slices"
	"time"
)

// Namespace is the CloudWatch namespace of the run's metrics.
const Namespace = "DailyRestart"

// Dimension is a dimension every metric of a run carries (the stack's
// name, so that two pipelines in one account and Region keep their nights
// apart).
type Dimension struct {
	Name, Value string
}

// WriteEMF writes the run's counts as CloudWatch Embedded Metric Format log
// lines (one JSON object per line): one line with the run's counts, and one
// per skip reason with a Reason dimension, each with dims as well. In
// Lambda, stdout goes to CloudWatch Logs, which extracts the metrics.
func WriteEMF(w io.Writer, s Summary, at time.Time, dims ...Dimension) error {
	c := s.Counts
	values := map[string]int{
		"Discovered": c.Discovered, "Eligible": c.Eligible, "Restarted": c.Restarted,
		"Completed": c.Completed, "Failed": c.Failed, "RolledBack": c.RolledBack,
		"Gone": c.Gone, "InProgress": c.InProgress, "NotStarted": c.NotStarted + c.Claimed,
		"NotAttempted": c.NotAttempted, "Skipped": c.Skipped, "Unenrolled": c.Unenrolled,
		"AccountsFailed": c.AccountsFailed, "ClustersNotFitting": c.ClustersNotFitting,
		"Paused": c.Paused, "Halted": c.Halted, "AccountsHalted": c.AccountsHalted, "BatchesFailed": c.BatchesFailed,
		"ImagesChanged": c.ImagesChanged, "CarriedOver": c.CarriedOver, "LeftOver": c.LeftOver,
	}
	enc := json.NewEncoder(w)
	line := map[string]any{"runId": s.RunID, "day": s.Day}
	var metrics []map[string]string
	for _, name := range slices.Sorted(maps.Keys(values)) {
		line[name] = values[name]
		metrics = append(metrics, map[string]string{"Name": name, "Unit": "Count"})
	}
	names := []string{}
	for _, d := range dims {
		line[d.Name] = d.Value
		names = append(names, d.Name)
	}
	line["_aws"] = EMFHeader(at, [][]string{names}, metrics)
	if err := enc.Encode(line); err != nil {
		return err
	}
	for _, reason := range slices.Sorted(maps.Keys(c.SkippedByReason)) {
		skip := map[string]any{
			"_aws":            EMFHeader(at, [][]string{append(slices.Clone(names), "Reason")}, []map[string]string{{"Name": "SkippedByReason", "Unit": "Count"}}),
			"runId":           s.RunID,
			"day":             s.Day,
			"Reason":          string(reason),
			"SkippedByReason": c.SkippedByReason[reason],
		}
		for _, d := range dims {
			skip[d.Name] = d.Value
		}
		if err := enc.Encode(skip); err != nil {
			return err
		}
	}
	return nil
}

// EMFHeader is the _aws member of an Embedded Metric Format line in the
// run's namespace.
func EMFHeader(at time.Time, dims [][]string, metrics []map[string]string) map[string]any {
	return map[string]any{
		"Timestamp": at.UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  Namespace,
			"Dimensions": dims,
			"Metrics":    metrics,
		}},
	}
}
