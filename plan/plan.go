// Package plan runs the Pulumi program offline, under Pulumi's mocks, and
// records every resource it declares with its type, name, parent and
// inputs. The offline plan (cmd/plan), the policy checks and the unit tests
// all read the same recording.
package plan

import (
	"fmt"
	"sort"
	"strings"
)

// Resource is one declared resource.
type Resource struct {
	URN  string `json:"urn"`
	Type string `json:"type"`
	Name string `json:"name"`
	// Parent is the parent's URN, empty for resources at the top of the
	// stack.
	Parent string `json:"parent"`
	// ID is the id the provider would return (a name, an ARN, a URL or
	// an AWS-shaped opaque id, as pulumi-aws has it per type), so that
	// references between resources (a route's natGatewayId) can be
	// followed.
	ID string `json:"id,omitempty"`
	// ARN is the ARN AWS would give it, in the shape of the Service
	// Authorization Reference (plan/arns.go), so that references by ARN
	// (a service's task definition) and policies' Resource patterns can
	// be followed. Empty for resources AWS gives no ARN (a route, a
	// role's inline policy, a bucket's policy).
	ARN string `json:"arn,omitempty"`
	// Inputs are the inputs as the program set them; unknowns are null and
	// secrets are SecretPlaceholder.
	Inputs map[string]any `json:"inputs"`
	// DependsOn are the URNs the engine waits for before creating this
	// resource: the ones its inputs come from and explicit dependencies.
	DependsOn []string `json:"dependsOn,omitempty"`
	// RetainOnDelete says that `pulumi destroy` (or dropping the resource
	// from the program) leaves the resource in AWS.
	RetainOnDelete bool `json:"retainOnDelete,omitempty"`
}

// SecretPlaceholder stands in for any secret value.
const SecretPlaceholder = "[secret]"

// Plan is the recording of one stack.
type Plan struct {
	Stack     string     `json:"stack"`
	Resources []Resource `json:"resources"`
}

// OfType returns the resources of a Pulumi type token, sorted by name.
func (p *Plan) OfType(token string) []Resource {
	var out []Resource
	for _, r := range p.Resources {
		if r.Type == token {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Named returns the resource of the type and name, if declared.
func (p *Plan) Named(token, name string) (Resource, bool) {
	for _, r := range p.Resources {
		if r.Type == token && r.Name == name {
			return r, true
		}
	}
	return Resource{}, false
}

// ByID returns the resource whose id is id. Ids are unique per type only:
// a file system's policies are known by the file system's id, a role and
// a function may share a name. Of several, the one AWS gives an ARN (the
// file system, not its policy) is returned, else the first by URN; prefer
// ByARN for resources known by name.
func (p *Plan) ByID(id string) (Resource, bool) {
	var found Resource
	ok := false
	for _, r := range p.Resources {
		if r.ID != id || id == "" {
			continue
		}
		if !ok || found.ARN == "" && r.ARN != "" {
			found, ok = r, true
		}
	}
	return found, ok
}

// ByARN returns the resource whose ARN is arn.
func (p *Plan) ByARN(arn string) (Resource, bool) {
	for _, r := range p.Resources {
		if r.ARN == arn && arn != "" {
			return r, true
		}
	}
	return Resource{}, false
}

// Children returns the resources whose parent is urn ("" for the top).
func (p *Plan) Children(urn string) []Resource {
	var out []Resource
	for _, r := range p.Resources {
		if r.Parent == urn {
			out = append(out, r)
		}
	}
	return out
}

// String returns an input as a string ("" when absent or not a string).
func (r Resource) String(key string) string {
	s, _ := r.Inputs[key].(string)
	return s
}

// Bool returns an input as a bool and whether it was set.
func (r Resource) Bool(key string) (value, set bool) {
	b, ok := r.Inputs[key].(bool)
	return b, ok
}

// List returns an input that is a list; nil when absent.
func (r Resource) List(key string) []any {
	l, _ := r.Inputs[key].([]any)
	return l
}

// Tag returns the value of a tag set on the resource.
func (r Resource) Tag(key string) string {
	tags, _ := r.Inputs["tags"].(map[string]any)
	s, _ := tags[key].(string)
	return s
}

// Service is the AWS service part of the type token ("ec2" for
// aws:ec2/vpc:Vpc), or the package for component resources.
func (r Resource) Service() string {
	_, rest, _ := strings.Cut(r.Type, ":")
	mod, _, _ := strings.Cut(rest, "/")
	mod, _, _ = strings.Cut(mod, ":")
	return mod
}

// Label is "type name", for messages.
func (r Resource) Label() string { return fmt.Sprintf("%s %s", r.Type, r.Name) }
