package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DynamoFaults is an HTTP proxy in front of a DynamoDB-compatible server
// (dynalite) that adds two behaviours of the real DynamoDB that a local
// server lacks:
//
//   - Per-partition throughput. A partition key takes PartitionRate write
//     units a second (one unit per started KiB of item) with a burst of
//     PartitionBurst; a write to a key past it is refused the way DynamoDB
//     refuses it: HTTP 400 with __type
//     com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException,
//     and for BatchWriteItem the throttled requests come back as
//     UnprocessedItems (the whole call is refused only when every request
//     is throttled; BatchWriteItem API reference).
//   - Eventual consistency. An item written less than Delay ago is left out
//     of global secondary index queries and of reads that are not strongly
//     consistent (GetItem, BatchGetItem, Query and Scan without
//     ConsistentRead), as an index or replica that has not caught up yet.
//
// Serve it with httptest.NewServer and point the DynamoDB client at it.
type DynamoFaults struct {
	// Upstream is the DynamoDB endpoint, e.g. http://127.0.0.1:48567.
	Upstream string
	// PartitionRate (write units a second; 0: unlimited) and
	// PartitionBurst (default PartitionRate) bound each partition key.
	PartitionRate  float64
	PartitionBurst float64
	// Delay is how long a written item stays invisible to eventually
	// consistent reads.
	Delay time.Duration

	client http.Client

	mu      sync.Mutex
	keys    map[string]tableKeys
	buckets map[string]*bucket
	written map[string]time.Time

	throttledCalls atomic.Int64
	throttledItems atomic.Int64
	hidden         atomic.Int64
	writes         atomic.Int64
	eventualReads  atomic.Int64
}

// DynamoFaultStats counts what the proxy did.
type DynamoFaultStats struct {
	// Writes is how many item writes reached the server.
	Writes int64
	// ThrottledCalls were answered ProvisionedThroughputExceededException;
	// ThrottledItems were throttled in all (those calls' items and the
	// UnprocessedItems added to BatchWriteItem answers).
	ThrottledCalls, ThrottledItems int64
	// EventualReads counts the reads that were not strongly consistent
	// (index queries included); Hidden items were left out of them.
	EventualReads, Hidden int64
}

// Stats returns the proxy's counters.
func (f *DynamoFaults) Stats() DynamoFaultStats {
	return DynamoFaultStats{Writes: f.writes.Load(), ThrottledCalls: f.throttledCalls.Load(), ThrottledItems: f.throttledItems.Load(), Hidden: f.hidden.Load(), EventualReads: f.eventualReads.Load()}
}

type tableKeys struct{ hash, rng string }

type bucket struct {
	tokens float64
	last   time.Time
}

type attrs = map[string]json.RawMessage

const ddbTarget = "DynamoDB_20120810."

func (f *DynamoFaults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), ddbTarget)
	var req map[string]json.RawMessage
	_ = json.Unmarshal(body, &req)
	now := time.Now()
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem":
		table := jsonString(req["TableName"])
		item := req["Item"]
		if op != "PutItem" {
			item = req["Key"]
		}
		pk, id := f.itemKey(r, table, item)
		if !f.take(table+"\x00"+pk, wcu(item), now) {
			f.throttledCalls.Add(1)
			f.throttledItems.Add(1)
			writeThrottled(w)
			return
		}
		status, hdr, out := f.forward(r, body)
		if status == http.StatusOK {
			f.wrote(table, id, now, 1)
		}
		reply(w, status, hdr, out)
	case "BatchWriteItem":
		f.batchWrite(w, r, req, now)
	case "Query", "Scan", "GetItem":
		status, hdr, out := f.forward(r, body)
		if jsonBool(req["ConsistentRead"]) && len(req["IndexName"]) == 0 {
			reply(w, status, hdr, out)
			return
		}
		f.eventualReads.Add(1)
		if status != http.StatusOK {
			reply(w, status, hdr, out)
			return
		}
		reply(w, status, hdr, f.hide(r, op, jsonString(req["TableName"]), out, now))
	case "BatchGetItem":
		status, hdr, out := f.forward(r, body)
		if status != http.StatusOK {
			reply(w, status, hdr, out)
			return
		}
		var items map[string]struct {
			ConsistentRead bool
		}
		_ = json.Unmarshal(req["RequestItems"], &items)
		var resp map[string]json.RawMessage
		_ = json.Unmarshal(out, &resp)
		var tables map[string][]attrs
		_ = json.Unmarshal(resp["Responses"], &tables)
		for table := range items {
			if !items[table].ConsistentRead {
				f.eventualReads.Add(1)
			}
		}
		for table, list := range tables {
			if !items[table].ConsistentRead {
				tables[table] = f.visible(r, table, list, now)
			}
		}
		resp["Responses"] = mustJSON(tables)
		reply(w, status, hdr, mustJSON(resp))
	default:
		status, hdr, out := f.forward(r, body)
		reply(w, status, hdr, out)
	}
}

func (f *DynamoFaults) batchWrite(w http.ResponseWriter, r *http.Request, req map[string]json.RawMessage, now time.Time) {
	type writeReq struct {
		PutRequest    *struct{ Item json.RawMessage } `json:",omitempty"`
		DeleteRequest *struct{ Key json.RawMessage }  `json:",omitempty"`
	}
	var items map[string][]json.RawMessage
	_ = json.Unmarshal(req["RequestItems"], &items)
	pass := map[string][]json.RawMessage{}
	held := map[string][]json.RawMessage{}
	passed := 0
	type done struct{ table, id string }
	var ids []done
	for table, reqs := range items {
		for _, raw := range reqs {
			var wr writeReq
			_ = json.Unmarshal(raw, &wr)
			item := json.RawMessage(nil)
			if wr.PutRequest != nil {
				item = wr.PutRequest.Item
			} else if wr.DeleteRequest != nil {
				item = wr.DeleteRequest.Key
			}
			pk, id := f.itemKey(r, table, item)
			if f.take(table+"\x00"+pk, wcu(item), now) {
				pass[table] = append(pass[table], raw)
				ids = append(ids, done{table, id})
				passed++
			} else {
				held[table] = append(held[table], raw)
				f.throttledItems.Add(1)
			}
		}
	}
	if passed == 0 {
		f.throttledCalls.Add(1)
		writeThrottled(w)
		return
	}
	req["RequestItems"] = mustJSON(pass)
	status, hdr, out := f.forward(r, mustJSON(req))
	if status != http.StatusOK {
		reply(w, status, hdr, out)
		return
	}
	var resp map[string]json.RawMessage
	_ = json.Unmarshal(out, &resp)
	var unprocessed map[string][]json.RawMessage
	_ = json.Unmarshal(resp["UnprocessedItems"], &unprocessed)
	if unprocessed == nil {
		unprocessed = map[string][]json.RawMessage{}
	}
	for table, reqs := range held {
		unprocessed[table] = append(unprocessed[table], reqs...)
	}
	resp["UnprocessedItems"] = mustJSON(unprocessed)
	for _, d := range ids {
		f.wrote(d.table, d.id, now, 1)
	}
	reply(w, status, hdr, mustJSON(resp))
}

// hide removes from a read's answer the items written less than Delay ago.
func (f *DynamoFaults) hide(r *http.Request, op, table string, out []byte, now time.Time) []byte {
	var resp map[string]json.RawMessage
	if json.Unmarshal(out, &resp) != nil {
		return out
	}
	if op == "GetItem" {
		var item attrs
		if json.Unmarshal(resp["Item"], &item) == nil && item != nil && len(f.visible(r, table, []attrs{item}, now)) == 0 {
			delete(resp, "Item")
		}
		return mustJSON(resp)
	}
	var items []attrs
	_ = json.Unmarshal(resp["Items"], &items)
	kept := f.visible(r, table, items, now)
	resp["Items"] = mustJSON(kept)
	resp["Count"] = mustJSON(len(kept))
	return mustJSON(resp)
}

func (f *DynamoFaults) visible(r *http.Request, table string, items []attrs, now time.Time) []attrs {
	kept := items[:0:0]
	for _, it := range items {
		_, id := f.itemKey(r, table, mustJSON(it))
		f.mu.Lock()
		at, ok := f.written[table+"\x00"+id]
		f.mu.Unlock()
		if ok && now.Sub(at) < f.Delay {
			f.hidden.Add(1)
			continue
		}
		kept = append(kept, it)
	}
	return kept
}

func (f *DynamoFaults) wrote(table, id string, now time.Time, n int64) {
	f.writes.Add(n)
	if f.Delay <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.written == nil {
		f.written = map[string]time.Time{}
	}
	f.written[table+"\x00"+id] = now
}

// take spends cost write units of a partition's bucket, if it has them.
func (f *DynamoFaults) take(partition string, cost float64, now time.Time) bool {
	if f.PartitionRate <= 0 {
		return true
	}
	burst := f.PartitionBurst
	if burst <= 0 {
		burst = f.PartitionRate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.buckets == nil {
		f.buckets = map[string]*bucket{}
	}
	b := f.buckets[partition]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		f.buckets[partition] = b
	}
	b.tokens = math.Min(burst, b.tokens+now.Sub(b.last).Seconds()*f.PartitionRate)
	b.last = now
	if b.tokens < math.Min(cost, burst) {
		return false
	}
	b.tokens -= cost
	return true
}

// wcu is the write units of an item: one per started KiB.
func wcu(item json.RawMessage) float64 { return math.Max(1, math.Ceil(float64(len(item))/1024)) }

// itemKey returns an item's partition key value and its whole key, from
// the table's key schema (asked of the server once per table).
func (f *DynamoFaults) itemKey(r *http.Request, table string, item json.RawMessage) (pk, id string) {
	k := f.tableKeys(r, table)
	var a attrs
	_ = json.Unmarshal(item, &a)
	pk = string(a[k.hash])
	id = pk
	if k.rng != "" {
		id += "\x00" + string(a[k.rng])
	}
	return pk, id
}

func (f *DynamoFaults) tableKeys(r *http.Request, table string) tableKeys {
	f.mu.Lock()
	k, ok := f.keys[table]
	f.mu.Unlock()
	if ok {
		return k
	}
	hdr := r.Header.Clone()
	hdr.Set("X-Amz-Target", ddbTarget+"DescribeTable")
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, f.Upstream, bytes.NewReader(mustJSON(map[string]string{"TableName": table})))
	req.Header = hdr
	resp, err := f.client.Do(req)
	if err != nil {
		return k
	}
	defer resp.Body.Close()
	var d struct {
		Table struct {
			KeySchema []struct{ AttributeName, KeyType string }
		}
	}
	if json.NewDecoder(resp.Body).Decode(&d) != nil || resp.StatusCode != http.StatusOK {
		return k
	}
	for _, e := range d.Table.KeySchema {
		if e.KeyType == "HASH" {
			k.hash = e.AttributeName
		} else {
			k.rng = e.AttributeName
		}
	}
	f.mu.Lock()
	if f.keys == nil {
		f.keys = map[string]tableKeys{}
	}
	f.keys[table] = k
	f.mu.Unlock()
	return k
}

func (f *DynamoFaults) forward(r *http.Request, body []byte) (int, http.Header, []byte) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, strings.TrimRight(f.Upstream, "/")+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return http.StatusBadGateway, nil, []byte(err.Error())
	}
	req.Header = r.Header.Clone()
	req.Header.Del("Content-Length")
	resp, err := f.client.Do(req)
	if err != nil {
		return http.StatusBadGateway, nil, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

// reply writes an answer with its CRC32 header recomputed: the SDK checks
// X-Amz-Crc32 on DynamoDB answers.
func reply(w http.ResponseWriter, status int, hdr http.Header, body []byte) {
	for k, v := range hdr {
		if k != "Content-Length" && k != "X-Amz-Crc32" {
			w.Header()[k] = v
		}
	}
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

var throttledSeq atomic.Int64

func writeThrottled(w http.ResponseWriter) {
	body := mustJSON(map[string]string{
		"__type":  "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
		"message": "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
	})
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/x-amz-json-1.0")
	hdr.Set("X-Amzn-Requestid", fmt.Sprintf("THROTTLED%020d", throttledSeq.Add(1)))
	reply(w, http.StatusBadRequest, hdr, body)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func jsonString(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

func jsonBool(raw json.RawMessage) bool {
	var b bool
	_ = json.Unmarshal(raw, &b)
	return b
}
