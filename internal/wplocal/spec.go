// Package wplocal runs the WordPress tier of an offline plan on this
// machine with Debian's own packages: WordPress, PHP with Apache, MariaDB.
// Nothing of it is written for the test: the tasks are Apache processes
// started with the environment the plan's task definition gives the
// container (its secrets resolved from the plan's SSM parameters), each
// with its own copy of WordPress and its own wp-config.php written the way
// the official wordpress image's entrypoint writes it; wp-content is one
// directory they share, as on EFS; MariaDB runs with the plan's port and
// parameter group and TLS; and a round-robin proxy in front evaluates the
// plan's listener rules and health check as the load balancer would.
//
// Then a browser installs WordPress by the README's first run, logs in and
// uses the dashboard across the tasks, and through a restart.
package wplocal

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/plan"
)

// Spec is what the local run takes from a plan.
type Spec struct {
	Stack string
	Plan  *plan.Plan
	// Container is the WordPress container of the service's task
	// definition.
	Container Container
	// DesiredCount is how many tasks the service runs.
	DesiredCount int
	Database     Database
	TargetGroup  TargetGroup
	// Listeners are the load balancer's, in port order.
	Listeners []Listener
}

// Container is an ECS container definition, the parts the run uses.
type Container struct {
	Name        string      `json:"name"`
	Image       string      `json:"image"`
	Environment []NameValue `json:"environment"`
	Secrets     []Secret    `json:"secrets"`
	EntryPoint  []string    `json:"entryPoint"`
	Command     []string    `json:"command"`
}

// NameValue is an environment variable or a database parameter.
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Secret is a variable ECS reads from SSM or Secrets Manager at start.
type Secret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// Without is the container with one variable removed, from its secrets
// and its environment alike.
func (c Container) Without(variable string) Container {
	out := c
	out.Environment = slices.DeleteFunc(slices.Clone(c.Environment), func(e NameValue) bool { return e.Name == variable })
	out.Secrets = slices.DeleteFunc(slices.Clone(c.Secrets), func(s Secret) bool { return s.Name == variable })
	return out
}

// Database is the RDS primary as the plan declares it.
type Database struct {
	Port int
	Name string
	User string
	// Parameters are its parameter group's.
	Parameters []NameValue
}

// TargetGroup is the service's target group and its health check.
type TargetGroup struct {
	ARN                string
	Path               string
	Matcher            string
	IntervalSeconds    int
	TimeoutSeconds     int
	HealthyThreshold   int
	UnhealthyThreshold int
}

// Listener is a load balancer listener: it forwards to the target group
// (after its rules) or redirects.
type Listener struct {
	Name     string
	ARN      string
	Port     int
	Protocol string
	// Forward is true when the default action forwards to the target
	// group; otherwise RedirectProtocol and RedirectPort say where to.
	Forward          bool
	RedirectProtocol string
	RedirectPort     string
	Rules            []plan.ListenerRule
}

// report is the JSON of `cmd/plan --format json`, the parts read here.
type report struct {
	Stack     string          `json:"stack"`
	Resources []plan.Resource `json:"resources"`
}

// ReadPlan reads the JSON the offline plan prints.
func ReadPlan(r io.Reader) (*plan.Plan, error) {
	var rep report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, fmt.Errorf("read the plan: not the JSON of `go run ./cmd/plan --format json`: %w", err)
	}
	if len(rep.Resources) == 0 {
		return nil, fmt.Errorf("read the plan: it declares no resources")
	}
	return &plan.Plan{Stack: rep.Stack, Resources: rep.Resources}, nil
}

const (
	typeService       = "aws:ecs/service:Service"
	typeTaskDef       = "aws:ecs/taskDefinition:TaskDefinition"
	typeTargetGroup   = "aws:lb/targetGroup:TargetGroup"
	typeListener      = "aws:lb/listener:Listener"
	typeDBInstance    = "aws:rds/instance:Instance"
	typeParamGroup    = "aws:rds/parameterGroup:ParameterGroup"
	typeSSMParameter  = "aws:ssm/parameter:Parameter"
	mysqlDefaultPort  = 3306
	defaultHealthPath = "/"
)

// NewSpec finds the WordPress service of a plan: the ECS service behind a
// load balancer, its task definition's container, the database and the
// listeners.
func NewSpec(p *plan.Plan) (*Spec, error) {
	s := &Spec{Stack: p.Stack, Plan: p}
	var svc plan.Resource
	for _, r := range p.OfType(typeService) {
		if len(r.List("loadBalancers")) > 0 {
			svc = r
			break
		}
	}
	if svc.URN == "" {
		return nil, fmt.Errorf("the plan has no ECS service behind a load balancer")
	}
	lbs, _ := svc.List("loadBalancers")[0].(map[string]any)
	containerName, _ := lbs["containerName"].(string)
	tgARN, _ := lbs["targetGroupArn"].(string)
	if n, ok := svc.Inputs["desiredCount"].(float64); ok {
		s.DesiredCount = int(n)
	} else {
		// ECS's default when the service names none (CreateService).
		s.DesiredCount = 1
	}

	td, ok := p.ByARN(svc.String("taskDefinition"))
	if !ok || td.Type != typeTaskDef {
		return nil, fmt.Errorf("service %s runs task definition %q, which the plan does not declare", svc.Name, svc.String("taskDefinition"))
	}
	var cs []Container
	if err := json.Unmarshal([]byte(td.String("containerDefinitions")), &cs); err != nil {
		return nil, fmt.Errorf("task definition %s: container definitions are not readable offline: %w", td.Name, err)
	}
	i := slices.IndexFunc(cs, func(c Container) bool { return c.Name == containerName })
	if i < 0 {
		return nil, fmt.Errorf("task definition %s has no container %q, which the service puts behind the load balancer", td.Name, containerName)
	}
	s.Container = cs[i]

	tg, ok := p.ByARN(tgARN)
	if !ok || tg.Type != typeTargetGroup {
		return nil, fmt.Errorf("service %s registers with target group %q, which the plan does not declare", svc.Name, tgARN)
	}
	s.TargetGroup = targetGroup(tg)

	for _, l := range p.OfType(typeListener) {
		lis, serves := listener(p, l, tgARN)
		if serves {
			s.Listeners = append(s.Listeners, lis)
		}
	}
	if !slices.ContainsFunc(s.Listeners, func(l Listener) bool { return l.Forward }) {
		return nil, fmt.Errorf("no listener forwards to target group %s", tg.Name)
	}
	slices.SortFunc(s.Listeners, func(a, b Listener) int { return a.Port - b.Port })

	db, err := database(p)
	if err != nil {
		return nil, err
	}
	s.Database = db
	return s, nil
}

// targetGroup reads the health check with the target group defaults
// (CreateTargetGroup, HTTP targets): path "/", matcher 200, 30 s, 5 s
// timeout, 5 healthy and 2 unhealthy checks.
func targetGroup(tg plan.Resource) TargetGroup {
	hc, _ := tg.Inputs["healthCheck"].(map[string]any)
	str := func(k, def string) string {
		if v, ok := hc[k].(string); ok && v != "" {
			return v
		}
		return def
	}
	num := func(k string, def int) int {
		if v, ok := hc[k].(float64); ok {
			return int(v)
		}
		return def
	}
	return TargetGroup{
		ARN:                tg.ARN,
		Path:               str("path", defaultHealthPath),
		Matcher:            str("matcher", "200"),
		IntervalSeconds:    num("interval", 30),
		TimeoutSeconds:     num("timeout", 5),
		HealthyThreshold:   num("healthyThreshold", 5),
		UnhealthyThreshold: num("unhealthyThreshold", 2),
	}
}

// listener reads a listener and reports whether it belongs to the load
// balancer that serves the target group: it forwards there, or redirects
// and shares the load balancer of one that does.
func listener(p *plan.Plan, l plan.Resource, tgARN string) (Listener, bool) {
	port, _ := l.Inputs["port"].(float64)
	out := Listener{Name: l.Name, ARN: l.ARN, Port: int(port), Protocol: l.String("protocol")}
	acts := l.List("defaultActions")
	if len(acts) == 0 {
		return out, false
	}
	a, _ := acts[len(acts)-1].(map[string]any)
	switch a["type"] {
	case "forward":
		if a["targetGroupArn"] != tgARN {
			return out, false
		}
		out.Forward = true
		out.Rules = p.ListenerRules(l.ARN)
		return out, true
	case "redirect":
		r, _ := a["redirect"].(map[string]any)
		out.RedirectProtocol, _ = r["protocol"].(string)
		out.RedirectPort, _ = r["port"].(string)
		for _, other := range p.OfType(typeListener) {
			if other.String("loadBalancerArn") != l.String("loadBalancerArn") || other.URN == l.URN {
				continue
			}
			for _, oa := range other.List("defaultActions") {
				if m, _ := oa.(map[string]any); m["targetGroupArn"] == tgARN {
					return out, true
				}
			}
		}
	}
	return out, false
}

// database reads the RDS primary (the instance that replicates nothing)
// and its parameter group.
func database(p *plan.Plan) (Database, error) {
	for _, r := range p.OfType(typeDBInstance) {
		if r.String("replicateSourceDb") != "" {
			continue
		}
		db := Database{Port: mysqlDefaultPort, Name: r.String("dbName"), User: r.String("username")}
		if port, ok := r.Inputs["port"].(float64); ok {
			db.Port = int(port)
		}
		if group := r.String("parameterGroupName"); group != "" {
			for _, pg := range p.OfType(typeParamGroup) {
				if pg.String("name") != group && pg.Name != group {
					continue
				}
				for _, prm := range pg.List("parameters") {
					m, _ := prm.(map[string]any)
					name, _ := m["name"].(string)
					value, _ := m["value"].(string)
					db.Parameters = append(db.Parameters, NameValue{Name: name, Value: value})
				}
			}
		}
		return db, nil
	}
	return Database{}, fmt.Errorf("the plan has no RDS DB instance for WordPress")
}

// EnvValue is a container environment variable's plain value.
func (c Container) EnvValue(name string) (string, bool) {
	for _, e := range c.Environment {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// String names a listener for messages: "HTTPS:443".
func (l Listener) String() string { return l.Protocol + ":" + strconv.Itoa(l.Port) }

// matcher reads a target group matcher: "200", "200-399" or "200,302".
func matcher(m string) (func(int) bool, error) {
	type span struct{ lo, hi int }
	var spans []span
	for _, part := range strings.Split(m, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("health check matcher %q: %w", m, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("health check matcher %q: %w", m, err)
			}
		}
		spans = append(spans, span{a, b})
	}
	return func(code int) bool {
		return slices.ContainsFunc(spans, func(s span) bool { return s.lo <= code && code <= s.hi })
	}, nil
}
