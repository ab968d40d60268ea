package cost

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/plan"
)

// HoursPerMonth is AWS's billing month (365 days x 24 h / 12).
const HoursPerMonth = 730

// Line is one priced dimension of one resource.
type Line struct {
	Resource  string  `json:"resource"`
	Type      string  `json:"type"`
	Name      string  `json:"name"`
	Component string  `json:"component"`
	Dimension string  `json:"dimension"`
	Quantity  float64 `json:"quantity"`
	Unit      string  `json:"unit"`
	UnitUSD   float64 `json:"unitUsd"`
	// MonthlyUSD is Quantity x UnitUSD, rounded to the cent.
	MonthlyUSD float64 `json:"monthlyUsd"`
	// Priced is false for a billed resource whose price is not known: it
	// is listed so, never counted as zero.
	Priced bool   `json:"priced"`
	Note   string `json:"note,omitempty"`
}

// ComponentTotal is the monthly amount of one component.
type ComponentTotal struct {
	Component  string  `json:"component"`
	MonthlyUSD float64 `json:"monthlyUsd"`
}

// Estimate is a stack's monthly estimate.
type Estimate struct {
	Region     string           `json:"region"`
	PricesAsOf string           `json:"pricesAsOf"`
	Lines      []Line           `json:"lines"`
	Components []ComponentTotal `json:"components"`
	MonthlyUSD float64          `json:"monthlyUsd"`
	// Free counts the resources AWS does not bill.
	Free int `json:"free"`
	// NotPriced counts the lines whose price is unknown.
	NotPriced int   `json:"notPriced"`
	Usage     Usage `json:"usage"`
}

// Compute prices every resource of p.
func Compute(p *plan.Plan, prices *Prices, usage Usage) *Estimate {
	e := &estimator{plan: p, prices: prices, usage: usage, byURN: map[string]plan.Resource{}}
	for _, r := range p.Resources {
		e.byURN[r.URN] = r
	}
	out := &Estimate{Region: prices.Region, PricesAsOf: prices.AsOf, Usage: usage}
	for _, r := range p.Resources {
		if strings.HasPrefix(r.Type, "wordpress:") {
			continue // components are groupings, not AWS resources
		}
		if free[r.Type] {
			out.Free++
			continue
		}
		rule, known := rules[r.Type]
		if !known {
			out.Lines = append(out.Lines, e.notPriced(r, "resource type", "this type is billed or may be; cost/estimate.go does not price it yet"))
			continue
		}
		lines := rule(e, r)
		if len(lines) == 0 {
			out.Free++ // e.g. a gateway endpoint, a standard parameter
		}
		out.Lines = append(out.Lines, lines...)
	}
	totals := map[string]float64{}
	for i := range out.Lines {
		l := &out.Lines[i]
		if !l.Priced {
			out.NotPriced++
			continue
		}
		totals[l.Component] += l.MonthlyUSD
		out.MonthlyUSD += l.MonthlyUSD
	}
	for c, usd := range totals {
		out.Components = append(out.Components, ComponentTotal{Component: c, MonthlyUSD: cents(usd)})
	}
	sort.Slice(out.Components, func(i, j int) bool { return out.Components[i].Component < out.Components[j].Component })
	out.MonthlyUSD = cents(out.MonthlyUSD)
	return out
}

type estimator struct {
	plan   *plan.Plan
	prices *Prices
	usage  Usage
	byURN  map[string]plan.Resource
}

// component is the resource's topmost wordpress component, by name.
func (e *estimator) component(r plan.Resource) string {
	name := "(stack)"
	for cur := r; cur.Parent != ""; {
		parent, ok := e.byURN[cur.Parent]
		if !ok {
			break
		}
		if strings.HasPrefix(parent.Type, "wordpress:") {
			name = parent.Type
		}
		cur = parent
	}
	return name
}

// line prices quantity units of the price key for r.
func (e *estimator) line(r plan.Resource, dimension, key string, quantity float64, note string) Line {
	l := Line{Resource: r.URN, Type: r.Type, Name: r.Name, Component: e.component(r), Dimension: dimension, Quantity: quantity, Note: note}
	pr, ok := e.prices.lookup(key)
	if !ok {
		l.Note = strings.TrimSpace(fmt.Sprintf("no price %q in cost/prices/%s.json %s", key, e.prices.Region, note))
		return l
	}
	l.Unit, l.UnitUSD, l.Priced = pr.Unit, pr.USD, true
	l.MonthlyUSD = cents(quantity * pr.USD)
	return l
}

func (e *estimator) notPriced(r plan.Resource, dimension, note string) Line {
	return Line{Resource: r.URN, Type: r.Type, Name: r.Name, Component: e.component(r), Dimension: dimension, Note: note}
}

func cents(usd float64) float64 { return math.Round(usd*100) / 100 }

// count returns how many resources of a type the plan has.
func (e *estimator) count(typ string) int { return len(e.plan.OfType(typ)) }

func number(r plan.Resource, key string, def float64) float64 {
	switch v := r.Inputs[key].(type) {
	case float64:
		return v
	case string:
		var f float64
		if _, err := fmt.Sscan(v, &f); err == nil {
			return f
		}
	}
	return def
}
