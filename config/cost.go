package config

import (
	"reflect"

	"github.com/nequi-platform/wordpress-ecs/cost"
)

// Cost is wordpress:cost: the stack's monthly budget and the usage its
// estimate assumes.
type Cost struct {
	// MonthlyBudgetUSD fails the policy check WP.COST.1 when the estimate
	// of the offline plan exceeds it; 0 sets no budget.
	MonthlyBudgetUSD float64 `json:"monthlyBudgetUSD"`
	// Usage is what the plan cannot know (traffic, volume, requests);
	// fields left out keep cost.DefaultUsage.
	Usage cost.Usage `json:"usage"`
}

func (c Cost) validate() Problems {
	var p Problems
	if c.MonthlyBudgetUSD < 0 {
		p.addf("cost.monthlyBudgetUSD must be 0 (no budget) or more, got %g", c.MonthlyBudgetUSD)
	}
	v := reflect.ValueOf(c.Usage)
	for i := range v.NumField() {
		if f := v.Field(i).Float(); f < 0 {
			tag := v.Type().Field(i).Tag.Get("json")
			p.addf("cost.usage.%s must be 0 or more, got %g", tag, f)
		}
	}
	return p
}
