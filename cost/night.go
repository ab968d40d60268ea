package cost

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// NightsPerMonth is the month the night's cost is multiplied by.
const NightsPerMonth = 30

// Night is what one night of the restart pipeline uses of the services
// billed by the request, counted from an execution of its state machine.
type Night struct {
	// Services is the fleet's size and Batches the plan's batches.
	Services int `json:"services"`
	Batches  int `json:"batches"`
	// Transitions are the Step Functions Standard state transitions billed
	// (see restart-sfn's counting: the execution's start, every state
	// entered, every retry).
	Transitions int `json:"transitions"`
	// LambdaRequests are the functions' invocations and LambdaBilledMs
	// their durations, each rounded up to the millisecond as Lambda bills.
	LambdaRequests int     `json:"lambdaRequests"`
	LambdaBilledMs float64 `json:"lambdaBilledMs"`
	// LambdaMemoryMB and LambdaArch are the functions' configured memory
	// and architecture (arm64 or x86_64).
	LambdaMemoryMB int    `json:"lambdaMemoryMb"`
	LambdaArch     string `json:"lambdaArch"`
	// ReadUnits and WriteUnits are DynamoDB on-demand request units.
	ReadUnits  float64 `json:"readUnits"`
	WriteUnits float64 `json:"writeUnits"`
	// SNSRequests are billed SNS publish requests (64 KB chunks) and
	// EmailDeliveries the email notifications they fan out to.
	SNSRequests     int `json:"snsRequests"`
	EmailDeliveries int `json:"emailDeliveries"`
	// LogBytes is what the functions log (CloudWatch Logs ingestion).
	LogBytes int64 `json:"logBytes"`
}

// GBSeconds is the night's Lambda compute: memory in GB times billed
// seconds.
func (n Night) GBSeconds() float64 {
	return float64(n.LambdaMemoryMB) / 1024 * n.LambdaBilledMs / 1000
}

// BilledMs is a Lambda invocation's billed duration: Lambda rounds up to
// the next millisecond (AWS Lambda pricing, "Duration is ... rounded up to
// the nearest 1 ms").
func BilledMs(ms float64) float64 { return math.Ceil(ms) }

// NightLine is one priced dimension of a night.
type NightLine struct {
	Service   string  `json:"service"`
	Dimension string  `json:"dimension"`
	Quantity  float64 `json:"quantity"`
	Unit      string  `json:"unit"`
	// UnitUSD is the price of one Unit.
	UnitUSD  float64 `json:"unitUsd"`
	NightUSD float64 `json:"nightUsd"`
	MonthUSD float64 `json:"monthUsd"`
	Source   string  `json:"source"`
}

// NightCost is a night priced.
type NightCost struct {
	Region     string      `json:"region"`
	PricesAsOf string      `json:"pricesAsOf"`
	Lines      []NightLine `json:"lines"`
	NightUSD   float64     `json:"nightUsd"`
	MonthUSD   float64     `json:"monthUsd"`
}

// Service returns the monthly amount of one service's lines.
func (c NightCost) Service(name string) float64 {
	var t float64
	for _, l := range c.Lines {
		if l.Service == name {
			t += l.MonthUSD
		}
	}
	return t
}

// Services billed by a night.
const (
	SvcStepFunctions = "Step Functions"
	SvcLambda        = "Lambda"
	SvcDynamoDB      = "DynamoDB"
	SvcSNS           = "SNS"
	SvcLogs          = "CloudWatch Logs"
)

// PriceNight prices a night at p's on-demand prices, before free tiers:
// the free tiers (4,000 transitions, a million Lambda requests and
// 400,000 GB-s, a million SNS publishes and 1,000 emails a month) are an
// account's, shared with everything else it runs.
func PriceNight(n Night, p *Prices) (NightCost, error) {
	gbs := "lambdaArmGBSecond"
	switch n.LambdaArch {
	case "arm64":
	case "x86_64":
		gbs = "lambdaX86GBSecond"
	default:
		return NightCost{}, fmt.Errorf("lambda architecture %q: want arm64 or x86_64", n.LambdaArch)
	}
	type dim struct {
		service, dimension, key string
		quantity, per           float64
	}
	dims := []dim{
		{SvcStepFunctions, "state transitions (Standard)", "sfnTransitionsThousand", float64(n.Transitions), 1000},
		{SvcLambda, "requests", "lambdaRequestsMillion", float64(n.LambdaRequests), 1e6},
		{SvcLambda, fmt.Sprintf("compute, %d MB %s", n.LambdaMemoryMB, n.LambdaArch), gbs, n.GBSeconds(), 1},
		{SvcDynamoDB, "write request units (on-demand)", "dynamodbWriteMillion", n.WriteUnits, 1e6},
		{SvcDynamoDB, "read request units (on-demand)", "dynamodbReadMillion", n.ReadUnits, 1e6},
		{SvcSNS, "publish requests (64 KB chunks)", "snsPublishMillion", float64(n.SNSRequests), 1e6},
		{SvcSNS, "email notifications", "snsEmailHundredThousand", float64(n.EmailDeliveries), 1e5},
		{SvcLogs, "log ingestion (GB)", "logsIngestGB", float64(n.LogBytes) / 1e9, 1},
	}
	c := NightCost{Region: p.Region, PricesAsOf: p.AsOf}
	for _, d := range dims {
		pr, ok := p.lookup(d.key)
		if !ok {
			return NightCost{}, fmt.Errorf("cost/prices/%s.json has no price %s (%s %s)", p.Region, d.key, d.service, d.dimension)
		}
		unit := pr.USD / d.per
		night := d.quantity * unit
		c.Lines = append(c.Lines, NightLine{
			Service: d.service, Dimension: d.dimension, Quantity: d.quantity, Unit: unitOf(pr.Unit, d.per),
			UnitUSD: unit, NightUSD: night, MonthUSD: night * NightsPerMonth, Source: pr.Source,
		})
		c.NightUSD += night
	}
	c.MonthUSD = c.NightUSD * NightsPerMonth
	return c, nil
}

// unitOf names one unit of a price quoted per many ("1,000 transitions"
// becomes "transition").
func unitOf(unit string, per float64) string {
	if per == 1 {
		return unit
	}
	f := strings.Fields(unit)
	if len(f) > 1 {
		return strings.TrimSuffix(strings.Join(f[1:], " "), "s")
	}
	return unit
}

// WriteText prints the night's cost for people: one line per dimension,
// then the totals.
func (c NightCost) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "service\tdimension\tper night\tunit price\t$ per night\t$ per month (%d nights)\t\n", NightsPerMonth)
	for _, l := range c.Lines {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.4f\t%.4f\t\n", l.Service, l.Dimension, trimFloat(l.Quantity), fmt.Sprintf("$%.3g", l.UnitUSD), l.NightUSD, l.MonthUSD)
	}
	fmt.Fprintf(tw, "total\t\t\t\t%.4f\t%.4f\t\n", c.NightUSD, c.MonthUSD)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s prices as of %s, on-demand, before free tiers (cost/prices/%s.json)\n", c.Region, c.PricesAsOf, c.Region)
	return err
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

// PerService is the design the nightly restart is compared with: one
// state machine execution (or one Map iteration) per service, which
// restarts the service, then waits and checks its deployment until it
// finishes:
//
//	Restart (Task) -> Wait -> Verify (Task) -> Done? (Choice) -> ... -> Succeed
//
// Each service takes 2 + 3 x checks transitions (3 + 3 x checks when it
// is an execution of its own, whose start is billed too) and 1 + checks
// Lambda invocations. The DynamoDB writes and SNS publishes are those of
// the batch design: the same records are kept per service.
type PerService struct {
	// Services is how many services the night restarts.
	Services int
	// Checks is how many times each service's deployment is verified.
	Checks float64
	// Executions is true for one execution per service, false for one
	// Map iteration per service.
	Executions bool
	// LambdaMs is the billed duration of one per-service invocation.
	LambdaMs float64
}

// Night returns the night of the per-service design with the same fleet,
// DynamoDB request units, SNS publishes and logs as n.
func (d PerService) Night(n Night) Night {
	per := 2 + 3*d.Checks
	if d.Executions {
		per++
	}
	out := n
	out.Transitions = int(math.Ceil(float64(d.Services) * per))
	out.LambdaRequests = int(math.Ceil(float64(d.Services) * (1 + d.Checks)))
	out.LambdaBilledMs = float64(out.LambdaRequests) * BilledMs(d.LambdaMs)
	return out
}
