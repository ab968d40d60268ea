package policy

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/plan"
)

// wordpressChecks are about WordPress as its users meet it: logins that
// hold on every task, an install nobody else can take, core files that
// stay the image's, and the site reaching itself for WP-Cron.
var wordpressChecks = []Check{
	{ID: "WP.APP.1", Title: "WordPress's keys and salts are the same on every task and kept secret", Run: checkAuthKeys, Scope: "WordPress containers"},
	{ID: "WP.APP.2", Title: "WordPress's install pages answer only the admin ranges", Run: checkInstallPages, Scope: "WordPress services behind a load balancer"},
	{ID: "WP.APP.3", Title: "WordPress core is never updated in place", Run: checkCoreUpdates, Scope: "WordPress containers"},
	{ID: "WP.APP.4", Title: "WordPress's theme and plugin file editor is off", Run: checkFileEditor, Scope: "WordPress containers"},
	{ID: "WP.APP.5", Title: "WordPress can reach its own URL (WP-Cron, Site Health)", Run: checkSiteReachesItself, Scope: "WordPress services behind a load balancer"},
}

func init() { Checks = append(Checks, wordpressChecks...) }

// authKeyVariables are the official image's eight key and salt variables
// (wp-config-docker.php); a missing one is random per container.
var authKeyVariables = []string{
	"WORDPRESS_AUTH_KEY", "WORDPRESS_SECURE_AUTH_KEY", "WORDPRESS_LOGGED_IN_KEY", "WORDPRESS_NONCE_KEY",
	"WORDPRESS_AUTH_SALT", "WORDPRESS_SECURE_AUTH_SALT", "WORDPRESS_LOGGED_IN_SALT", "WORDPRESS_NONCE_SALT",
}

// isWordPress says whether a container runs WordPress the official
// image's way: it is given any WORDPRESS_ variable.
func isWordPress(c container) bool {
	for _, e := range c.Environment {
		if strings.HasPrefix(e.Name, "WORDPRESS_") {
			return true
		}
	}
	for _, s := range c.Secrets {
		if strings.HasPrefix(s.Name, "WORDPRESS_") {
			return true
		}
	}
	return false
}

// eachWordPress runs f over every WordPress container of the plan.
func eachWordPress(p *plan.Plan, f func(td plan.Resource, c container) Result) []Result {
	var out []Result
	for _, td := range p.OfType(typeTaskDefinition) {
		cs, err := containers(td)
		if err != nil {
			out = append(out, fail(td, "%v", err))
			continue
		}
		for _, c := range cs {
			if isWordPress(c) {
				out = append(out, f(td, c))
			}
		}
	}
	return out
}

func checkAuthKeys(p *plan.Plan) []Result {
	return eachWordPress(p, func(td plan.Resource, c container) Result {
		env := map[string]bool{}
		for _, e := range c.Environment {
			env[e.Name] = true
		}
		from := map[string]string{}
		for _, s := range c.Secrets {
			from[s.Name] = s.ValueFrom
		}
		var bad []string
		sources := map[string]string{}
		for _, v := range authKeyVariables {
			src, ok := from[v]
			switch {
			case env[v]:
				bad = append(bad, fmt.Sprintf("%s is a plain environment variable, readable by anyone who can describe the task definition", v))
			case !ok:
				bad = append(bad, fmt.Sprintf("%s is missing, so each task draws a random one and refuses the cookies and nonces of the others (and of itself after a restart)", v))
			case !secureSource(p, src):
				bad = append(bad, fmt.Sprintf("%s comes from %s, which is not a SecureString parameter or a Secrets Manager secret of the stack", v, src))
			case sources[src] != "":
				bad = append(bad, fmt.Sprintf("%s and %s share parameter %s; each key and salt needs its own value", sources[src], v, src))
			}
			sources[src] = v
		}
		if len(bad) > 0 {
			return fail(td, "container %s: %s; give all eight as secrets from their own SecureString parameters (data.NewAuthKeys)", c.Name, strings.Join(bad, "; "))
		}
		return pass(td, "container %s reads all eight keys and salts from SecureString parameters, the same on every task", c.Name)
	})
}

// secureSource says whether a secret's valueFrom is a SecureString
// parameter the plan declares, or a Secrets Manager secret.
func secureSource(p *plan.Plan, valueFrom string) bool {
	if strings.Contains(valueFrom, ":secretsmanager:") {
		return true
	}
	prm, ok := p.ByARN(valueFrom)
	return ok && prm.Type == "aws:ssm/parameter:Parameter" && prm.String("type") == "SecureString"
}

// installProbes are the paths an attacker would try for the install pages:
// Apache serves each as install.php or setup-config.php.
var installProbes = []string{
	"/wp-admin/install.php", "/wp-admin//install.php", "/wp-admin/install.php/x", "//wp-admin/install.php",
	"/wp-admin/setup-config.php", "/wp-admin//setup-config.php", "/wp-admin/setup-config.php/x",
}

// widestAdminBits is the widest admin range the check accepts: anything
// wider than a /16 (65,536 addresses) is not one office's or VPN's egress.
var widestAdminBits = map[bool]int{true: 16, false: 48} // IPv4, IPv6

// servingListeners are the listeners of a load balancer that forward to a
// target group: an HTTP listener that only redirects serves nothing.
func servingListeners(p *plan.Plan, lb plan.Resource) []plan.Resource {
	var out []plan.Resource
	for _, l := range listenersOf(p, lb) {
		for _, a := range l.List("defaultActions") {
			if m, _ := a.(map[string]any); m["type"] == "forward" {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// wordpressServices are the ECS services that run a WordPress container,
// with the load balancers that reach them.
func wordpressServices(p *plan.Plan) map[string][]plan.Resource {
	wp := map[string]bool{}
	for _, td := range p.OfType(typeTaskDefinition) {
		if cs, err := containers(td); err == nil && slices.ContainsFunc(cs, isWordPress) {
			wp[td.ARN] = true
		}
	}
	out := map[string][]plan.Resource{}
	for _, s := range p.OfType(typeECSService) {
		if !wp[s.String("taskDefinition")] {
			continue
		}
		var lbs []plan.Resource
		for _, lb := range albs(p) {
			for _, l := range servingListeners(p, lb) {
				for _, a := range l.List("defaultActions") {
					m, _ := a.(map[string]any)
					for _, want := range s.List("loadBalancers") {
						w, _ := want.(map[string]any)
						if m["targetGroupArn"] != nil && m["targetGroupArn"] == w["targetGroupArn"] && !slices.ContainsFunc(lbs, func(x plan.Resource) bool { return x.URN == lb.URN }) {
							lbs = append(lbs, lb)
						}
					}
				}
			}
		}
		out[s.URN] = lbs
	}
	return out
}

func eachWordPressService(p *plan.Plan, f func(svc plan.Resource, lbs []plan.Resource) Result) []Result {
	var out []Result
	services := wordpressServices(p)
	for _, s := range p.OfType(typeECSService) {
		if lbs, ok := services[s.URN]; ok && len(lbs) > 0 {
			out = append(out, f(s, lbs))
		}
	}
	return out
}

func checkInstallPages(p *plan.Plan) []Result {
	return eachWordPressService(p, func(svc plan.Resource, lbs []plan.Resource) Result {
		var bad, good []string
		for _, lb := range lbs {
			for _, l := range servingListeners(p, lb) {
				problems, closedBy := installRuleProblems(p.ListenerRules(l.ARN))
				if len(problems) > 0 {
					bad = append(bad, fmt.Sprintf("listener %s: %s", l.Name, strings.Join(problems, "; ")))
					continue
				}
				if !slices.Contains(svc.DependsOn, closedBy.URN) {
					bad = append(bad, fmt.Sprintf("service %s may start serving before rule %s exists; make it depend on the rule", svc.Name, closedBy.Name))
					continue
				}
				good = append(good, fmt.Sprintf("listener %s answers 403 to the install pages (rule %s)", l.Name, closedBy.Name))
			}
		}
		if len(bad) > 0 {
			return fail(svc, "%s; whoever submits the install form first becomes the administrator: keep the 403 rule and list only your own ranges in compute.adminCidrs", strings.Join(bad, "; "))
		}
		return pass(svc, "%s, except from compute.adminCidrs", strings.Join(good, "; "))
	})
}

// installRuleProblems checks that the first rule each install probe meets
// answers 403, or forwards only narrow admin ranges; it returns the 403
// rule.
func installRuleProblems(rules []plan.ListenerRule) ([]string, plan.Resource) {
	var problems []string
	var closed plan.Resource
	for _, probe := range installProbes {
		answered := false
		for _, r := range rules {
			if !r.MatchesPath(probe) {
				continue
			}
			if r.Action == "fixed-response" && r.StatusCode == "403" && r.SourceIP == nil && len(r.Other) == 0 {
				closed, answered = r.Resource, true
				break
			}
			if len(r.SourceIP) == 0 && len(r.Other) == 0 {
				problems = append(problems, fmt.Sprintf("rule %s lets the install pages through from anywhere", r.Resource.Name))
				answered = true
				break
			}
			for _, s := range r.SourceIP {
				pfx, err := netip.ParsePrefix(s)
				if widest := widestAdminBits[err != nil || pfx.Addr().Is4()]; err != nil || pfx.Bits() < widest {
					problems = append(problems, fmt.Sprintf("rule %s admits the install pages from %s, wider than a /%d", r.Resource.Name, s, widest))
				}
			}
		}
		if !answered {
			problems = append(problems, fmt.Sprintf("nothing answers 403 to %s", probe))
		}
	}
	return dedupe(problems), closed
}

func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// configExtra is a container's WORDPRESS_CONFIG_EXTRA.
func configExtra(c container) string {
	for _, e := range c.Environment {
		if e.Name == "WORDPRESS_CONFIG_EXTRA" {
			return e.Value
		}
	}
	return ""
}

// defines reports whether PHP code defines a constant to a value.
func defines(php, constant, value string) bool {
	re := regexp.MustCompile(`define\(\s*['"]` + regexp.QuoteMeta(constant) + `['"]\s*,\s*` + regexp.QuoteMeta(value) + `\s*\)`)
	return re.MatchString(php)
}

// noUpdateCore matches the hook that maps update_core to do_not_allow.
var noUpdateCore = regexp.MustCompile(`'map_meta_cap'.*'update_core'.*do_not_allow`)

func checkCoreUpdates(p *plan.Plan) []Result {
	return eachWordPress(p, func(td plan.Resource, c container) Result {
		extra := configExtra(c)
		var bad []string
		if !defines(extra, "WP_AUTO_UPDATE_CORE", "false") {
			bad = append(bad, "core updates itself in the background (WP_AUTO_UPDATE_CORE is not false)")
		}
		if !noUpdateCore.MatchString(extra) && !defines(extra, "DISALLOW_FILE_MODS", "true") {
			bad = append(bad, "an administrator can update core from the dashboard (update_core is allowed and DISALLOW_FILE_MODS is off)")
		}
		if len(bad) > 0 {
			return fail(td, "container %s: %s; one task would then run another WordPress than the image until its next restart, answering 503 while it updates: turn core updates off in WORDPRESS_CONFIG_EXTRA (compute.ConfigExtra)", c.Name, strings.Join(bad, "; "))
		}
		return pass(td, "container %s runs the image's WordPress: no automatic or dashboard core updates", c.Name)
	})
}

func checkFileEditor(p *plan.Plan) []Result {
	return eachWordPress(p, func(td plan.Resource, c container) Result {
		extra := configExtra(c)
		if defines(extra, "DISALLOW_FILE_EDIT", "true") || defines(extra, "DISALLOW_FILE_MODS", "true") {
			return pass(td, "container %s has no theme or plugin file editor", c.Name)
		}
		return fail(td, "container %s lets administrators edit theme and plugin PHP in the dashboard, which every task then runs; set compute.wordpress.disallowFileEdit: true", c.Name)
	})
}

func checkSiteReachesItself(p *plan.Plan) []Result {
	return eachWordPressService(p, func(svc plan.Resource, lbs []plan.Resource) Result {
		port, scheme := 80, "http"
		for _, lb := range lbs {
			for _, l := range servingListeners(p, lb) {
				if l.String("protocol") == "HTTPS" {
					port, scheme = 443, "https"
				}
			}
		}
		if extra := siteConfigExtra(p, svc); defines(extra, "DISABLE_WP_CRON", "true") {
			return fail(svc, "service %s turns WP-Cron off (DISABLE_WP_CRON) and the stack schedules no call of wp-cron.php; remove DISABLE_WP_CRON", svc.Name)
		}
		groups := stringList(obj(svc.Inputs, "networkConfiguration")["securityGroups"])
		if !slices.ContainsFunc(groups, func(g string) bool { return egressToInternet(p, g, port) }) {
			return fail(svc, "the tasks of %s cannot open %s connections to the internet, so WordPress cannot reach its own %s:// URL for WP-Cron and Site Health; open egress on %d from the tasks' group in package security", svc.Name, scheme, scheme, port)
		}
		for _, id := range stringList(obj(svc.Inputs, "networkConfiguration")["subnets"]) {
			sn, ok := p.ByID(id)
			if !ok {
				continue
			}
			rt, ok := routeTableOf(p, sn)
			if !ok || !slices.ContainsFunc(defaultRoutes(p, rt), func(r map[string]any) bool { return r["natGatewayId"] != nil }) {
				return fail(svc, "the tasks of %s in subnet %s have no NAT route, so WordPress cannot reach its own %s:// URL through the load balancer's public address for WP-Cron and Site Health; set network.natStrategy to single or perAz", svc.Name, sn.Name, scheme)
			}
		}
		return pass(svc, "the tasks of %s reach the site's %s:// URL through the NAT on %d: WP-Cron and Site Health run", svc.Name, scheme, port)
	})
}

// siteConfigExtra is the WORDPRESS_CONFIG_EXTRA of the service's task.
func siteConfigExtra(p *plan.Plan, svc plan.Resource) string {
	td, ok := p.ByARN(svc.String("taskDefinition"))
	if !ok {
		return ""
	}
	cs, _ := containers(td)
	for _, c := range cs {
		if isWordPress(c) {
			return configExtra(c)
		}
	}
	return ""
}

// egressToInternet says whether a group may open TCP connections to the
// whole internet on port.
func egressToInternet(p *plan.Plan, group string, port int) bool {
	for _, r := range p.OfType(typeSGEgress) {
		if r.String("securityGroupId") != group || r.String("cidrIpv4") != internetIPv4 {
			continue
		}
		proto := r.String("ipProtocol")
		from, _ := r.Inputs["fromPort"].(float64)
		to, _ := r.Inputs["toPort"].(float64)
		if proto == "-1" || (proto == "tcp" || proto == strconv.Itoa(6)) && int(from) <= port && port <= int(to) {
			return true
		}
	}
	return false
}
