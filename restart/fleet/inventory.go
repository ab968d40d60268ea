package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// The values ECS reports for a service's scheduling strategy and deployment
// controller. An empty value in the inventory means the ECS default
// (REPLICA, ECS), as DescribeServices omits the controller when it is ECS.
const (
	StrategyReplica  = "REPLICA"
	StrategyDaemon   = "DAEMON"
	ControllerECS    = "ECS"
	ControllerCode   = "CODE_DEPLOY"
	ControllerExtern = "EXTERNAL"
)

// maxProblems caps the problems an InventoryError keeps: enough to show a
// pattern, few enough to read. The total is still counted.
const maxProblems = 50

// InventoryError lists everything wrong with an inventory, each problem
// naming the entry, the field and the fix, so that one run shows them all.
type InventoryError struct {
	// Problems holds the first problems found, at most 50.
	Problems []string
	// Total counts every problem, including those not kept.
	Total int
}

func (e *InventoryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "inventory: %d problem", e.Total)
	if e.Total != 1 {
		b.WriteString("s")
	}
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p)
	}
	if more := e.Total - len(e.Problems); more > 0 {
		fmt.Fprintf(&b, "\n  ... and %d more", more)
	}
	return b.String()
}

func (e *InventoryError) add(format string, args ...any) {
	e.Total++
	if len(e.Problems) < maxProblems {
		e.Problems = append(e.Problems, fmt.Sprintf(format, args...))
	}
}

// ReadInventory reads the inventory that `restartctl plan --inventory` takes:
// a JSON array of services in Service's JSON form. Every entry is checked
// (see Service.Validate), field names must match exactly (so that a typo
// such as "desiredcount" is an error rather than a silent zero), and
// account, region, cluster, service, arn and desiredCount are required. All
// problems are reported at once in an *InventoryError; nothing is dropped.
// An inventory of valid entries, the usual case, takes a fast path (see
// decodeInventoryFast) whose services' strings share one copy of the input.
//
// Entries with the same ARN are accepted here and resolved by Classify,
// which reports the extra copies as duplicate-arn.
func ReadInventory(r io.Reader) ([]Service, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	if services, ok := decodeInventoryFast(data); ok {
		return services, nil
	}
	return decodeInventory([]byte(data))
}

// decodeInventory is the general decoder: encoding/json, entry by entry and
// field by field, so that every problem is found and named.
func decodeInventory(data []byte) ([]Service, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("inventory: %w", describeJSONError(data, err))
	}
	if raw == nil {
		return nil, errors.New("inventory: got null, want a JSON array of services ([] when there are none)")
	}
	services := make([]Service, len(raw))
	ierr := &InventoryError{}
	for i, m := range raw {
		decodeEntry(m, &services[i], fmt.Sprintf("inventory[%d]", i), ierr)
	}
	if ierr.Total > 0 {
		return nil, ierr
	}
	return services, nil
}

// readAll reads r whole into a string, which the fast decoder's services
// share. A file, or a reader that knows its length, is read into a string
// of its size through a small buffer: io.ReadAll would grow a buffer from
// 512 bytes, copying a 40 MB inventory about twenty times, and converting
// it to a string would copy it again.
func readAll(r io.Reader) (string, error) {
	var b strings.Builder
	// One byte more than the size, so that reading it whole ends in EOF
	// without a last grow.
	switch f := r.(type) {
	case interface{ Stat() (fs.FileInfo, error) }:
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			b.Grow(int(st.Size()) + 1)
		}
	case interface{ Len() int }: // bytes.Reader, strings.Reader
		b.Grow(f.Len() + 1)
	}
	buf := make([]byte, 256<<10)
	for {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
	}
}

// describeJSONError turns a syntax or type error from encoding/json into one
// that says where in the input it is.
func describeJSONError(data []byte, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := position(data, syn.Offset)
		return fmt.Errorf("invalid JSON at line %d, column %d: %w", line, col, err)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Errorf("got a JSON %s, want an array of services", typ.Value)
	}
	return err
}

func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}

// inventoryFields are the fields of an entry, in the contract's order, and
// whether each must be present.
var inventoryFields = []struct {
	name     string
	required bool
}{
	{"account", true}, {"region", true}, {"cluster", true}, {"service", true},
	{"arn", true}, {"desiredCount", true}, {"schedulingStrategy", false},
	{"deploymentController", false}, {"tags", false},
}

// decodeEntry decodes one entry field by field, so that every unknown,
// missing or mistyped field is reported, not only the first.
func decodeEntry(m json.RawMessage, s *Service, where string, ierr *InventoryError) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(m, &fields); err != nil || fields == nil {
		ierr.add("%s: got %s, want an object {\"account\",\"region\",\"cluster\",\"service\",\"arn\",\"desiredCount\",...}", where, jsonKind(m))
		return
	}
	for name := range fields {
		known := false
		for _, f := range inventoryFields {
			if f.name == name {
				known = true
				break
			}
		}
		if !known {
			hint := ""
			for _, f := range inventoryFields {
				if strings.EqualFold(f.name, name) {
					hint = fmt.Sprintf(" (did you mean %q?)", f.name)
				}
			}
			ierr.add("%s.%s: unknown field%s; the fields are account, region, cluster, service, arn, desiredCount, schedulingStrategy, deploymentController, tags", where, name, hint)
		}
	}
	typeOK := map[string]bool{}
	for _, f := range inventoryFields {
		v, ok := fields[f.name]
		if !ok || string(v) == "null" {
			if f.required {
				ierr.add("%s.%s: missing; %s", where, f.name, requiredWhy(f.name))
			}
			continue
		}
		var err error
		switch f.name {
		case "account":
			err = json.Unmarshal(v, &s.Account)
		case "region":
			err = json.Unmarshal(v, &s.Region)
		case "cluster":
			err = json.Unmarshal(v, &s.Cluster)
		case "service":
			err = json.Unmarshal(v, &s.Service)
		case "arn":
			err = json.Unmarshal(v, &s.ARN)
		case "desiredCount":
			err = json.Unmarshal(v, &s.DesiredCount)
		case "schedulingStrategy":
			err = json.Unmarshal(v, &s.SchedulingStrategy)
		case "deploymentController":
			err = json.Unmarshal(v, &s.DeploymentController)
		case "tags":
			err = decodeTags(v, s, where, ierr)
		}
		if err != nil {
			ierr.add("%s.%s: got %s, want %s", where, f.name, jsonKind(v), wantKind(f.name))
			continue
		}
		typeOK[f.name] = true
	}
	for _, f := range []struct{ name, value string }{
		{"account", s.Account}, {"region", s.Region}, {"cluster", s.Cluster},
		{"service", s.Service}, {"arn", s.ARN},
	} {
		if typeOK[f.name] && f.value == "" {
			ierr.add("%s.%s: empty; %s", where, f.name, requiredWhy(f.name))
		}
	}
	// Check the values of the fields that decoded, so that a mistyped field
	// is reported once, as a type problem.
	s.check(func(field, problem string) {
		name, _, _ := strings.Cut(field, ".")
		if typeOK[name] {
			ierr.add("%s.%s: %s", where, field, problem)
		}
	})
}

func decodeTags(v json.RawMessage, s *Service, where string, ierr *InventoryError) error {
	var tags map[string]json.RawMessage
	if err := json.Unmarshal(v, &tags); err != nil {
		return err
	}
	s.Tags = make(map[string]string, len(tags))
	for k, tv := range tags {
		var str string
		if err := json.Unmarshal(tv, &str); err != nil || string(tv) == "null" {
			ierr.add("%s.tags[%q]: got %s, want a string (ECS tag values are strings)", where, k, jsonKind(tv))
			continue
		}
		s.Tags[k] = str
	}
	return nil
}

func requiredWhy(field string) string {
	switch field {
	case "arn":
		return "every service needs its ARN, it is the service's identity in the plan"
	case "desiredCount":
		return "give the service's desired count, 0 if it is scaled in (a missing count is not taken as 0)"
	default:
		return "every service needs its " + field + ", as DescribeServices reports it"
	}
}

func wantKind(field string) string {
	switch field {
	case "desiredCount":
		return "a whole number from 0 to 2147483647"
	case "tags":
		return "an object of string values"
	default:
		return "a string"
	}
}

// jsonKind names the JSON type of a value for error messages.
func jsonKind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "the number " + truncate(string(v), 24)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Validate reports what is wrong with a service's fields, all problems at
// once, or nil. It checks the shape of each value, not that the service
// exists: the account is 12 digits, the ARN is an ECS service ARN that
// names the same account, region, cluster and service as the other fields,
// the desired count is not negative and the strategy and controller are
// values ECS uses (or empty for the defaults). Account, region, cluster,
// service and ARN must not be empty.
func (s Service) Validate() error {
	var problems []string
	for _, f := range []struct{ name, value string }{
		{"account", s.Account}, {"region", s.Region}, {"cluster", s.Cluster},
		{"service", s.Service}, {"arn", s.ARN},
	} {
		if f.value == "" {
			problems = append(problems, f.name+": missing")
		}
	}
	s.check(func(field, problem string) {
		problems = append(problems, field+": "+problem)
	})
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("service %s: %s", strconv.Quote(s.ARN), strings.Join(problems, "; "))
}

// valid is Validate without building the message, for the planner's
// 100,000 services.
func (s *Service) valid() bool {
	if s.Account == "" || s.Region == "" || s.Cluster == "" || s.Service == "" || s.ARN == "" {
		return false
	}
	if s.plainValid() {
		return true
	}
	ok := true
	s.check(func(string, string) { ok = false })
	return ok
}

// plainValid recognises in one pass the shape of nearly every service: the
// ARN is arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE made of the
// entry's own valid fields, the cluster is a plain name, the strategy and
// controller are known and no tag key is empty. check finds nothing wrong
// with such a service (it checks the same, each field on its own); false
// means only that check must decide.
func (s *Service) plainValid() bool {
	if !isRegion(s.Region) || !isAccountID(s.Account) || !isResourceName(s.Cluster) || !isResourceName(s.Service) {
		return false
	}
	a := s.ARN
	const partition, resource = "arn:aws:ecs:", ":service/"
	n := len(partition) + len(s.Region) + 1 + len(s.Account) + len(resource) + len(s.Cluster) + 1 + len(s.Service)
	if len(a) != n || a[:len(partition)] != partition {
		return false
	}
	a = a[len(partition):]
	if a[:len(s.Region)] != s.Region || a[len(s.Region)] != ':' {
		return false
	}
	a = a[len(s.Region)+1:]
	if a[:len(s.Account)] != s.Account || a[len(s.Account):len(s.Account)+len(resource)] != resource {
		return false
	}
	a = a[len(s.Account)+len(resource):]
	if a[:len(s.Cluster)] != s.Cluster || a[len(s.Cluster)] != '/' || a[len(s.Cluster)+1:] != s.Service {
		return false
	}
	switch s.SchedulingStrategy {
	case "", StrategyReplica, StrategyDaemon:
	default:
		return false
	}
	switch s.DeploymentController {
	case "", ControllerECS, ControllerCode, ControllerExtern:
	default:
		return false
	}
	_, emptyKey := s.Tags[""]
	return s.DesiredCount >= 0 && !emptyKey
}

// check calls report for each problem with a field of s. Empty required
// fields are reported by the caller that knows whether they were absent.
func (s Service) check(report func(field, problem string)) {
	if s.Account != "" && !isAccountID(s.Account) {
		report("account", fmt.Sprintf("%q is not an AWS account id; want its 12 digits, leading zeros kept", truncate(s.Account, 40)))
	}
	if s.Region != "" && !isRegion(s.Region) {
		report("region", fmt.Sprintf("%q is not an AWS region; want a name such as us-east-1", truncate(s.Region, 40)))
	}
	cluster := s.Cluster
	if strings.HasPrefix(cluster, "arn:") {
		// Discovery may record the cluster by ARN; the name is what the
		// service ARN carries.
		if _, name, ok := strings.Cut(cluster, ":cluster/"); ok {
			cluster = name
		}
	}
	if s.Cluster != "" && !isResourceName(cluster) {
		report("cluster", fmt.Sprintf("%q is not an ECS cluster name; want up to 255 letters, digits, hyphens and underscores", truncate(s.Cluster, 40)))
	}
	if s.Service != "" && !isResourceName(s.Service) {
		report("service", fmt.Sprintf("%q is not an ECS service name; want up to 255 letters, digits, hyphens and underscores", truncate(s.Service, 40)))
	}
	if s.ARN != "" {
		if problem := s.checkARN(cluster); problem != "" {
			report("arn", problem)
		}
	}
	if s.DesiredCount < 0 {
		report("desiredCount", fmt.Sprintf("%d is negative; want the service's desired count, 0 or more", s.DesiredCount))
	}
	switch s.SchedulingStrategy {
	case "", StrategyReplica, StrategyDaemon:
	default:
		report("schedulingStrategy", fmt.Sprintf("%q is not an ECS scheduling strategy; want REPLICA or DAEMON", truncate(s.SchedulingStrategy, 40)))
	}
	switch s.DeploymentController {
	case "", ControllerECS, ControllerCode, ControllerExtern:
	default:
		report("deploymentController", fmt.Sprintf("%q is not an ECS deployment controller; want ECS, CODE_DEPLOY or EXTERNAL", truncate(s.DeploymentController, 40)))
	}
	if _, ok := s.Tags[""]; ok {
		report("tags", "a tag has an empty key; ECS tag keys are 1 to 128 characters")
	}
}

// checkARN checks that the ARN is an ECS service ARN,
// arn:PARTITION:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE (or the old
// format without the cluster), and that it agrees with the other fields.
func (s Service) checkARN(cluster string) string {
	const want = "want arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE"
	// Cut field by field rather than strings.SplitN, which allocates, as
	// this runs for every service of every plan.
	rest, ok := strings.CutPrefix(s.ARN, "arn:")
	partition, rest, ok2 := strings.Cut(rest, ":")
	service, rest, ok3 := strings.Cut(rest, ":")
	region, rest, ok4 := strings.Cut(rest, ":")
	account, resourceField, ok5 := strings.Cut(rest, ":")
	if !ok || !ok2 || !ok3 || !ok4 || !ok5 || !strings.HasPrefix(partition, "aws") || service != "ecs" {
		return fmt.Sprintf("%q is not an ECS ARN; %s", truncate(s.ARN, 80), want)
	}
	resource, ok := strings.CutPrefix(resourceField, "service/")
	if !ok {
		return fmt.Sprintf("%q is not an ECS service ARN (resource %q); %s", truncate(s.ARN, 80), truncate(resourceField, 40), want)
	}
	switch {
	case !isRegion(region):
		return fmt.Sprintf("%q has no valid region; %s", truncate(s.ARN, 80), want)
	case !isAccountID(account):
		return fmt.Sprintf("%q has no valid 12-digit account; %s", truncate(s.ARN, 80), want)
	// Compare with the entry's fields only when those are valid: an
	// invalid one is reported on its own.
	case isRegion(s.Region) && region != s.Region:
		return fmt.Sprintf("region %s in the ARN differs from region %s of the entry; the ARN must be the service's own", region, s.Region)
	case isAccountID(s.Account) && account != s.Account:
		return fmt.Sprintf("account %s in the ARN differs from account %s of the entry; the ARN must be the service's own", account, s.Account)
	}
	arnCluster, arnService, newFormat := strings.Cut(resource, "/")
	if !newFormat {
		arnCluster, arnService = "", resource
	}
	switch {
	case !isResourceName(arnService) || (newFormat && !isResourceName(arnCluster)):
		return fmt.Sprintf("%q has no valid cluster/service names; %s", truncate(s.ARN, 80), want)
	case isResourceName(s.Service) && arnService != s.Service:
		return fmt.Sprintf("service %q in the ARN differs from service %q of the entry; the ARN must be the service's own", arnService, s.Service)
	case newFormat && isResourceName(cluster) && arnCluster != cluster:
		return fmt.Sprintf("cluster %q in the ARN differs from cluster %q of the entry; the ARN must be the service's own", arnCluster, cluster)
	}
	return ""
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isRegion accepts region names such as us-east-1, eu-central-2,
// us-gov-west-1 and cn-northwest-1: lowercase words joined by hyphens and
// ending in a number.
func isRegion(s string) bool {
	if len(s) > 32 {
		return false
	}
	words, wordLen, digits := 1, 0, true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '-':
			if wordLen == 0 || digits {
				return false // empty word, or a number before the last word
			}
			words, wordLen, digits = words+1, 0, true
		case isDigit(c):
			wordLen++
		case 'a' <= c && c <= 'z':
			wordLen++
			digits = false
		default:
			return false
		}
	}
	return words >= 3 && wordLen > 0 && digits
}

// isResourceName accepts ECS cluster and service names: up to 255 letters,
// digits, hyphens and underscores.
func isResourceName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !resourceNameByte[s[i]] {
			return false
		}
	}
	return true
}

// resourceNameByte holds the bytes of ECS cluster and service names, a
// table rather than comparisons as every name of every plan is checked.
var resourceNameByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = isDigit(byte(c)) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_'
	}
	return t
}()
