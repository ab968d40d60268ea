package iamjudge

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// template is the member role's CloudFormation template with the
// StackSet's parameters: every member account gets the same role, whose
// documents are the template's with the intrinsics resolved for that
// account, as CloudFormation resolves them ("Intrinsic function
// reference", CloudFormation User Guide: Ref, Fn::Sub, Fn::If, Fn::Not,
// Fn::Equals, AWS::NoValue, the pseudo parameters).
type template struct {
	body   map[string]any
	params map[string]any
}

func parseTemplate(body string, parameters any) (*template, error) {
	var t template
	if err := json.Unmarshal([]byte(body), &t.body); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	t.params = map[string]any{}
	decl, _ := t.body["Parameters"].(map[string]any)
	given, _ := parameters.(map[string]any)
	for name, d := range decl {
		spec, _ := d.(map[string]any)
		v, ok := given[name]
		if !ok {
			if v, ok = spec["Default"]; !ok {
				return nil, fmt.Errorf("template parameter %s has no value and no default", name)
			}
		}
		s, _ := v.(string)
		if spec["Type"] == "CommaDelimitedList" {
			var list []any
			for _, x := range strings.Split(s, ",") {
				list = append(list, strings.TrimSpace(x))
			}
			t.params[name] = list
		} else {
			t.params[name] = s
		}
	}
	return &t, nil
}

// role is the template's IAM role as deployed in account.
func (t *template) role(partition, account string) (*Role, error) {
	res, _ := t.body["Resources"].(map[string]any)
	var props map[string]any
	for _, r := range res {
		m, _ := r.(map[string]any)
		if m["Type"] == "AWS::IAM::Role" {
			props, _ = m["Properties"].(map[string]any)
		}
	}
	if props == nil {
		return nil, fmt.Errorf("the StackSet's template has no AWS::IAM::Role")
	}
	pseudo := map[string]any{"AWS::Partition": partition, "AWS::AccountId": account, "AWS::NoValue": noValue{}}
	resolved, err := t.resolve(props, pseudo)
	if err != nil {
		return nil, err
	}
	p, _ := resolved.(map[string]any)
	name, _ := p["RoleName"].(string)
	trust, err := json.Marshal(p["AssumeRolePolicyDocument"])
	if err != nil {
		return nil, err
	}
	role := &Role{Name: name, Account: account, ARN: fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, name), Trust: trust}
	pols, _ := p["Policies"].([]any)
	for _, x := range pols {
		m, _ := x.(map[string]any)
		doc, err := json.Marshal(m["PolicyDocument"])
		if err != nil {
			return nil, err
		}
		n, _ := m["PolicyName"].(string)
		role.Policies = append(role.Policies, NamedPolicy{Name: n, Policy: doc})
	}
	return role, nil
}

type noValue struct{}

var subVar = regexp.MustCompile(`\$\{([^}]+)\}`)

func (t *template) resolve(v any, pseudo map[string]any) (any, error) {
	switch x := v.(type) {
	case []any:
		var out []any
		for _, e := range x {
			r, err := t.resolve(e, pseudo)
			if err != nil {
				return nil, err
			}
			if _, drop := r.(noValue); !drop {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for fn, arg := range x {
				switch fn {
				case "Ref":
					return t.ref(arg.(string), pseudo)
				case "Fn::Sub":
					s, _ := arg.(string)
					var ferr error
					out := subVar.ReplaceAllStringFunc(s, func(m string) string {
						v, err := t.ref(m[2:len(m)-1], pseudo)
						if err != nil {
							ferr = err
						}
						str, _ := v.(string)
						return str
					})
					return out, ferr
				case "Fn::If":
					a, _ := arg.([]any)
					if len(a) != 3 {
						return nil, fmt.Errorf("template: an Fn::If takes 3 arguments, got %v", arg)
					}
					ok, err := t.condition(a[0].(string), pseudo)
					if err != nil {
						return nil, err
					}
					if ok {
						return t.resolve(a[1], pseudo)
					}
					return t.resolve(a[2], pseudo)
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			r, err := t.resolve(e, pseudo)
			if err != nil {
				return nil, err
			}
			if _, drop := r.(noValue); !drop {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

func (t *template) ref(name string, pseudo map[string]any) (any, error) {
	if v, ok := pseudo[name]; ok {
		return v, nil
	}
	if v, ok := t.params[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("template: no parameter %s for a Ref", name)
}

func (t *template) condition(name string, pseudo map[string]any) (bool, error) {
	conds, _ := t.body["Conditions"].(map[string]any)
	c, ok := conds[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	return t.evalCondition(c, pseudo)
}

func (t *template) evalCondition(c any, pseudo map[string]any) (bool, error) {
	m, _ := c.(map[string]any)
	for fn, arg := range m {
		a, _ := arg.([]any)
		switch fn {
		case "Fn::Not":
			v, err := t.evalCondition(a[0], pseudo)
			return !v, err
		case "Fn::Equals":
			l, err := t.resolve(a[0], pseudo)
			if err != nil {
				return false, err
			}
			r, err := t.resolve(a[1], pseudo)
			return fmt.Sprint(l) == fmt.Sprint(r), err
		case "Condition":
			return t.condition(arg.(string), pseudo)
		}
	}
	return false, fmt.Errorf("condition %v: unsupported", c)
}
