package policy

import (
	"github.com/nequi-platform/wordpress-ecs/plan"
)

func init() {
	Checks = append(Checks, Check{
		ID:      "WP.COST.1",
		Title:   "The stack's monthly estimate stays within its budget",
		RunWith: checkBudget,
	})
}

// checkBudget compares the offline plan's estimate with cost.monthlyBudgetUSD.
// Resources the price table does not know are left out of the estimate,
// so they are named in the detail rather than silently trusted.
func checkBudget(p *plan.Plan, o Options) []Result {
	stack := plan.Resource{URN: "stack:" + p.Stack}
	switch {
	case o.Cost == nil:
		return []Result{notApplicable("the plan was not priced")}
	case o.Cost.BudgetUSD == 0:
		return []Result{notApplicable("no budget set: set cost.monthlyBudgetUSD (estimate $%.2f/month)", o.Cost.EstimateUSD)}
	case o.Cost.EstimateUSD > o.Cost.BudgetUSD:
		return []Result{fail(stack, "estimate $%.2f/month exceeds cost.monthlyBudgetUSD $%.2f by $%.2f (%d billed resources not priced); see `cmd/plan --format cost`", o.Cost.EstimateUSD, o.Cost.BudgetUSD, o.Cost.EstimateUSD-o.Cost.BudgetUSD, o.Cost.NotPriced)}
	}
	return []Result{pass(stack, "estimate $%.2f/month is within cost.monthlyBudgetUSD $%.2f (%d billed resources not priced)", o.Cost.EstimateUSD, o.Cost.BudgetUSD, o.Cost.NotPriced)}
}
