// Package cost prices a recorded plan: for every resource AWS bills, the
// dimension it is billed by, the quantity, the unit price and the monthly
// amount, then totals per component and for the stack. Prices come from
// data files beside this package (prices/<region>.json), each with the date
// and the AWS pricing page it was read from; usage the plan cannot know
// (GB through the NAT, requests, log volume) comes from the stack's
// wordpress:cost.usage with documented defaults.
package cost

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed prices/*.json
var priceFiles embed.FS

// Price is one unit price.
type Price struct {
	USD    float64 `json:"usd"`
	Unit   string  `json:"unit"`
	Source string  `json:"source"`
}

// Prices are the prices of one Region.
type Prices struct {
	Region   string           `json:"region"`
	Currency string           `json:"currency"`
	AsOf     string           `json:"asOf"`
	Note     string           `json:"note"`
	Prices   map[string]Price `json:"prices"`
}

// LoadPrices reads the prices of a Region from the embedded data files.
func LoadPrices(region string) (*Prices, error) {
	b, err := priceFiles.ReadFile("prices/" + region + ".json")
	if err != nil {
		return nil, fmt.Errorf("no prices for region %s; known: %s (add cost/prices/%s.json from the AWS pricing pages)", region, strings.Join(Regions(), ", "), region)
	}
	var p Prices
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("cost/prices/%s.json: %w", region, err)
	}
	for key, pr := range p.Prices {
		if pr.USD < 0 || pr.Unit == "" || !strings.HasPrefix(pr.Source, "https://aws.amazon.com/") {
			return nil, fmt.Errorf("cost/prices/%s.json: price %s needs a non-negative usd, a unit and its AWS pricing page as source", region, key)
		}
	}
	return &p, nil
}

// Regions lists the Regions that have a price file.
func Regions() []string {
	entries, _ := fs.ReadDir(priceFiles, "prices")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(out)
	return out
}

// lookup returns a price, or false when the file lacks it (the line is then
// reported as not priced, never as free).
func (p *Prices) lookup(key string) (Price, bool) {
	pr, ok := p.Prices[key]
	return pr, ok
}
