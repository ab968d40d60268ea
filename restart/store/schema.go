// Package store keeps the daily restart's state in DynamoDB: the day's
// inventory, the plan of each run (one manifest per batch) and one run
// record per service and day, written with conditional writes so that a
// service is restarted at most once a day whatever reruns or duplicated
// invocations happen.
//
// The key schema is declared here once (Schemas); the Pulumi program
// creates the tables in AWS from it, and EnsureTables creates them locally.
//
// Keys are chosen for a night of 100,000 services. A DynamoDB partition
// serves at most 1,000 write units and 3,000 read units per second
// ("Best practices for designing and using partition keys effectively",
// DynamoDB developer guide), so the services of a day are spread over
// Shards partition keys "<day>#<shard>" by a hash of the ARN. A batch's
// members are read from its manifest, written by Plan and read with
// strongly consistent reads: global secondary indexes are only eventually
// consistent, and a batch starts moments after Plan writes it.
package store

import (
	"fmt"
	"hash/fnv"
)

// Default table names. A stack may prefix them (WithTables).
const (
	DefaultInventoryTable = "daily-restart-inventory"
	DefaultRunsTable      = "daily-restart-runs"
)

// Key schema shared by both tables.
const (
	// AttrPK is the partition key (S): "<day>#<shard>" for a service's
	// items, "<day>" for the day's meta items (run description, account
	// results, sent notifications), "<day>#batch#<batch>" for a batch's
	// manifest and "<day>#skip" for the plan's skip lists.
	AttrPK = "pk"
	// AttrSK is the sort key (S): a service ARN, or a "#..." meta item.
	AttrSK = "sk"
	// AttrTTL (N, epoch seconds) is the tables' time-to-live attribute:
	// DynamoDB deletes an item some time after it passes (WithRecordTTL).
	AttrTTL = "expiresAt"
)

// Shards is how many partition keys share a day's services. It is part of
// the key format: changing it makes the days already written unreadable
// (they expire with their TTL). 32 partitions take a 100,000-service
// discovery at 32,000 writes a second, far above what the engine issues.
const Shards = 32

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
	// Indexes are the table's global secondary indexes (none: the engine
	// never reads an index, see the package comment).
	Indexes []Index
	// TTLAttribute is the attribute to enable time to live on
	// (UpdateTimeToLive / the table's ttl setting).
	TTLAttribute string
}

// Schemas returns the schema of the two tables with the given names.
func Schemas(inventoryTable, runsTable string) []TableSchema {
	pk := KeyAttribute{Name: AttrPK, Type: "S"}
	sk := KeyAttribute{Name: AttrSK, Type: "S"}
	return []TableSchema{
		{Name: inventoryTable, PartitionKey: pk, SortKey: sk, TTLAttribute: AttrTTL},
		{Name: runsTable, PartitionKey: pk, SortKey: sk, TTLAttribute: AttrTTL},
	}
}

// Shard is the shard of a service ARN, 0..Shards-1.
func Shard(arn string) int {
	h := fnv.New32a()
	h.Write([]byte(arn))
	return int(h.Sum32() % Shards)
}

// ServicePK is the partition key of a service's items of a day.
func ServicePK(day, arn string) string { return ShardPK(day, Shard(arn)) }

// ShardPK is the partition key of one shard of a day.
func ShardPK(day string, shard int) string { return fmt.Sprintf("%s#%02d", day, shard) }

// BatchPK is the partition key of a batch's manifest.
func BatchPK(day string, batch int) string { return fmt.Sprintf("%s#batch#%04d", day, batch) }

// skipPK is the partition key of the plan's skip lists of a day.
func skipPK(day string) string { return day + "#skip" }

// Meta item sort keys. Service items have ARNs ("arn:..."), so the prefixes
// never collide and a Query with begins_with(sk, "arn:") reads services only.
const (
	metaRunKey      = "#run"
	metaAccountPref = "#account#"
	metaNoticePref  = "#notice#"
	servicePrefix   = "arn:"
)
