// Package store keeps the daily restart's state in DynamoDB: the day's
// inventory (with each service's batch) and one run record per service and
// day, written with conditional writes so that a service is restarted at
// most once a day whatever reruns or duplicated invocations happen.
//
// The key schema is declared here once; the Pulumi program creates the
// tables in AWS from the same names, and EnsureTables creates them locally.
package store

import "fmt"

// Default table names. A stack may prefix them (WithTables).
const (
	DefaultInventoryTable = "daily-restart-inventory"
	DefaultRunsTable      = "daily-restart-runs"
)

// Key schema shared by both tables.
const (
	// AttrDay is the partition key (S): the local day of the run, "2006-01-02".
	AttrDay = "day"
	// AttrARN is the sort key (S): a service ARN, or a "#..." meta item.
	AttrARN = "arn"
	// AttrDayBatch (S) is the partition key of BatchIndex: "<day>#<batch>"
	// with the batch zero-padded to 4 digits. It is set only on items that
	// belong to a batch, so the index is sparse.
	AttrDayBatch = "dayBatch"
	// BatchIndex is the global secondary index (keys AttrDayBatch, AttrARN,
	// projection ALL) that loads one batch's services.
	BatchIndex = "by-batch"
)

// KeyAttribute is one key attribute of a table or index.
type KeyAttribute struct {
	Name string
	// Type is the DynamoDB scalar type, "S".
	Type string
}

// Index is a global secondary index.
type Index struct {
	Name         string
	PartitionKey KeyAttribute
	SortKey      KeyAttribute
}

// TableSchema is a table's key schema, for EnsureTables and for the Pulumi
// program that creates the tables in AWS (billing on demand, PITR and KMS
// are set there).
type TableSchema struct {
	Name         string
	PartitionKey KeyAttribute
	SortKey      KeyAttribute
	Indexes      []Index
}

// Schemas returns the schema of the two tables with the given names.
func Schemas(inventoryTable, runsTable string) []TableSchema {
	pk := KeyAttribute{Name: AttrDay, Type: "S"}
	sk := KeyAttribute{Name: AttrARN, Type: "S"}
	idx := []Index{{Name: BatchIndex, PartitionKey: KeyAttribute{Name: AttrDayBatch, Type: "S"}, SortKey: sk}}
	return []TableSchema{
		{Name: inventoryTable, PartitionKey: pk, SortKey: sk, Indexes: idx},
		{Name: runsTable, PartitionKey: pk, SortKey: sk, Indexes: idx},
	}
}

// DayBatch is the BatchIndex partition key of a batch of a day.
func DayBatch(day string, batch int) string { return fmt.Sprintf("%s#%04d", day, batch) }

// Meta item sort keys. Service items have ARNs ("arn:..."), so the prefixes
// never collide and a Query with begins_with(arn, "arn:") reads services only.
const (
	metaRunKey      = "#run"
	metaAccountPref = "#account#"
	servicePrefix   = "arn:"
)
