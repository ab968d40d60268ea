package cost_test

import (
	"math"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/cost"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
)

func estimate(t *testing.T, stack string, raw map[string]string) *cost.Estimate {
	t.Helper()
	p, cfg := stacktest.Record(t, stack, raw)
	pr, err := cost.LoadPrices(cfg.Region)
	if err != nil {
		t.Fatal(err)
	}
	return cost.Compute(p, pr, cfg.Cost.Usage)
}

func TestDevCostsLessThanProd(t *testing.T) {
	dev := estimate(t, "dev", stacktest.RawConfig(t, "dev"))
	prod := estimate(t, "prod", stacktest.RawConfig(t, "prod"))
	if dev.MonthlyUSD <= 0 || dev.MonthlyUSD >= prod.MonthlyUSD {
		t.Errorf("dev $%.2f, prod $%.2f: want 0 < dev < prod", dev.MonthlyUSD, prod.MonthlyUSD)
	}
	for _, e := range []*cost.Estimate{dev, prod} {
		if e.NotPriced != 0 {
			for _, l := range e.Lines {
				if !l.Priced {
					t.Errorf("not priced: %s %s %s (%s)", l.Type, l.Name, l.Dimension, l.Note)
				}
			}
		}
	}
}

func TestNATStrategyMovesTheEstimateByTheGatewaysHourlyPrice(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	perAZ := estimate(t, "prod", raw)
	stacktest.SetNetwork(t, raw, map[string]any{"natStrategy": "single", "singleNatReason": "test"})
	single := estimate(t, "prod", raw)
	// Two gateways fewer, each with its public IPv4 address; the data
	// processed is the same traffic through one gateway instead of three.
	// The alarms that watch each gateway go with it.
	alarms := func(e *cost.Estimate) (usd float64) {
		for _, l := range e.Lines {
			if l.Type == "aws:cloudwatch/metricAlarm:MetricAlarm" {
				usd += l.MonthlyUSD
			}
		}
		return usd
	}
	want := 2 * cost.HoursPerMonth * (0.045 + 0.005)
	got := (perAZ.MonthlyUSD - alarms(perAZ)) - (single.MonthlyUSD - alarms(single))
	if math.Abs(got-want) > 0.05 {
		t.Errorf("perAz - single = $%.2f without the gateways' alarms, want $%.2f", got, want)
	}
}
