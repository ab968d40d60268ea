package cost

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteText prints the estimate for people: one line per priced dimension,
// grouped by component, then the lines that are not priced, then totals.
func (est *Estimate) WriteText(w io.Writer, stack string) error {
	fmt.Fprintf(w, "monthly estimate of stack %s, %s prices as of %s (on-demand, before free tiers)\n\n", stack, est.Region, est.PricesAsOf)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	byComponent := map[string][]Line{}
	for _, l := range est.Lines {
		if l.Priced {
			byComponent[l.Component] = append(byComponent[l.Component], l)
		}
	}
	for _, c := range est.Components {
		fmt.Fprintf(tw, "%s\t\t\t\t%s\n", c.Component, usd(c.MonthlyUSD))
		lines := byComponent[c.Component]
		sort.SliceStable(lines, func(i, j int) bool { return lines[i].Name < lines[j].Name })
		for _, l := range lines {
			fmt.Fprintf(tw, "  %s\t%s\t%s x %s\t%s\t%s\n", l.Name, l.Dimension, quantity(l.Quantity, l.Unit), usd4(l.UnitUSD), usd(l.MonthlyUSD), l.Note)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if est.NotPriced > 0 {
		fmt.Fprintf(w, "\nnot priced (%d): billed resources the price table does not know; the total leaves them out\n", est.NotPriced)
		for _, l := range est.Lines {
			if !l.Priced {
				fmt.Fprintf(w, "  %s %s: %s (%s)\n", l.Type, l.Name, l.Dimension, l.Note)
			}
		}
	}
	fmt.Fprintf(w, "\n%d resources are free; total %s per month\n", est.Free, usd(est.MonthlyUSD))
	return nil
}

// Delta is the change of one line between two estimates.
type Delta struct {
	Key        string  `json:"key"`
	BeforeUSD  float64 `json:"beforeUsd"`
	AfterUSD   float64 `json:"afterUsd"`
	MonthlyUSD float64 `json:"monthlyUsd"`
}

// Diff compares an estimate with an earlier one, line by line (resource
// and dimension), for a pull-request comment.
func Diff(before, after *Estimate) []Delta {
	key := func(l Line) string { return l.Type + " " + l.Name + ": " + l.Dimension }
	was := map[string]float64{}
	for _, l := range before.Lines {
		was[key(l)] += l.MonthlyUSD
	}
	is := map[string]float64{}
	for _, l := range after.Lines {
		is[key(l)] += l.MonthlyUSD
	}
	var out []Delta
	for k, v := range is {
		if d := cents(v - was[k]); d != 0 {
			out = append(out, Delta{Key: k, BeforeUSD: was[k], AfterUSD: v, MonthlyUSD: d})
		}
	}
	for k, v := range was {
		if _, still := is[k]; !still && v != 0 {
			out = append(out, Delta{Key: k, BeforeUSD: v, MonthlyUSD: -v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// WriteDiff prints what a change adds or removes per month.
func WriteDiff(w io.Writer, before, after *Estimate) {
	deltas := Diff(before, after)
	fmt.Fprintf(w, "monthly cost: %s -> %s (%s)\n", usd(before.MonthlyUSD), usd(after.MonthlyUSD), signed(cents(after.MonthlyUSD-before.MonthlyUSD)))
	if len(deltas) == 0 {
		fmt.Fprintln(w, "no priced line changes")
		return
	}
	for _, d := range deltas {
		fmt.Fprintf(w, "  %10s  %s\n", signed(d.MonthlyUSD), d.Key)
	}
}

func usd(v float64) string { return fmt.Sprintf("$%.2f", v) }
func usd4(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("$%.6f", v), "0"), ".")
}

func signed(v float64) string {
	if v >= 0 {
		return "+" + usd(v)
	}
	return "-" + usd(-v)
}

func quantity(q float64, unit string) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", q), "0"), ".") + " " + unit
}
