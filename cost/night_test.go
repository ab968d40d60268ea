package cost_test

import (
	"math"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/cost"
)

func TestANightIsPricedPerDimensionAtThePublishedPrices(t *testing.T) {
	n := cost.Night{
		Services: 10000, Batches: 34, Transitions: 2000,
		LambdaRequests: 100, LambdaBilledMs: 200_000, LambdaMemoryMB: 512, LambdaArch: "arm64",
		ReadUnits: 40_000, WriteUnits: 30_000, SNSRequests: 20, EmailDeliveries: 20, LogBytes: 2e9,
	}
	c, err := cost.PriceNight(n, prices(t))
	if err != nil {
		t.Fatal(err)
	}
	// 512 MB for 200 s is 100 GB-s.
	if got := n.GBSeconds(); got != 100 {
		t.Fatalf("GB-seconds = %v, want 100", got)
	}
	want := map[string]float64{
		cost.SvcStepFunctions: 2000 * 0.025 / 1000,
		cost.SvcLambda:        100*0.20/1e6 + 100*0.0000133334,
		cost.SvcDynamoDB:      30_000*0.625/1e6 + 40_000*0.125/1e6,
		cost.SvcSNS:           20*0.50/1e6 + 20*2.00/1e5,
		cost.SvcLogs:          2 * 0.50,
	}
	total := 0.0
	for svc, night := range want {
		if got := c.Service(svc); math.Abs(got-night*cost.NightsPerMonth) > 1e-9 {
			t.Errorf("%s: $%v a month, want $%v (%v a night x %d)", svc, got, night*cost.NightsPerMonth, night, cost.NightsPerMonth)
		}
		total += night
	}
	if math.Abs(c.NightUSD-total) > 1e-9 || math.Abs(c.MonthUSD-total*cost.NightsPerMonth) > 1e-9 {
		t.Errorf("night $%v month $%v, want $%v and $%v", c.NightUSD, c.MonthUSD, total, total*cost.NightsPerMonth)
	}
	if c.PricesAsOf == "" || c.Region != "us-east-1" {
		t.Errorf("prices without their date or Region: %+v", c)
	}
}

func TestX86FunctionsCostMoreComputeThanArm(t *testing.T) {
	n := cost.Night{LambdaRequests: 1, LambdaBilledMs: 1_000_000, LambdaMemoryMB: 1024, LambdaArch: "arm64"}
	arm, err := cost.PriceNight(n, prices(t))
	if err != nil {
		t.Fatal(err)
	}
	n.LambdaArch = "x86_64"
	x86, err := cost.PriceNight(n, prices(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := x86.Service(cost.SvcLambda)-arm.Service(cost.SvcLambda), 1000*(0.0000166667-0.0000133334)*cost.NightsPerMonth; math.Abs(got-want) > 1e-9 {
		t.Errorf("x86 - arm = $%v a month, want $%v", got, want)
	}
	n.LambdaArch = "ppc"
	if _, err := cost.PriceNight(n, prices(t)); err == nil || !strings.Contains(err.Error(), "arm64 or x86_64") {
		t.Errorf("unknown architecture: err = %v", err)
	}
}

func TestLambdaBillsEveryStartedMillisecond(t *testing.T) {
	for _, c := range []struct{ ms, want float64 }{{0.2, 1}, {1, 1}, {1.01, 2}, {250.5, 251}} {
		if got := cost.BilledMs(c.ms); got != c.want {
			t.Errorf("BilledMs(%v) = %v, want %v", c.ms, got, c.want)
		}
	}
}

func TestAPerServiceDesignPaysTransitionsAndCallsPerService(t *testing.T) {
	ours := cost.Night{Services: 10000, Batches: 34, Transitions: 300, LambdaRequests: 100, LambdaBilledMs: 50_000,
		LambdaMemoryMB: 512, LambdaArch: "arm64", WriteUnits: 30_000}
	cases := []struct {
		name             string
		design           cost.PerService
		transitions, req int
	}{
		// Restart, then twice Wait, Verify, Choice, then Succeed.
		{"map iteration, two checks", cost.PerService{Services: 8000, Checks: 2, LambdaMs: 100}, 8000 * 8, 8000 * 3},
		// The execution's start on top.
		{"execution, two checks", cost.PerService{Services: 8000, Checks: 2, LambdaMs: 100, Executions: true}, 8000 * 9, 8000 * 3},
		{"map iteration, one check", cost.PerService{Services: 10, Checks: 1, LambdaMs: 100}, 10 * 5, 10 * 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := c.design.Night(ours)
			if n.Transitions != c.transitions || n.LambdaRequests != c.req {
				t.Errorf("transitions %d, invocations %d; want %d and %d", n.Transitions, n.LambdaRequests, c.transitions, c.req)
			}
			if n.LambdaBilledMs != float64(c.req)*100 {
				t.Errorf("billed %v ms, want %v", n.LambdaBilledMs, float64(c.req)*100)
			}
			if n.WriteUnits != ours.WriteUnits || n.Services != ours.Services {
				t.Errorf("the per-service design changed what it shares with ours: %+v", n)
			}
		})
	}
}
