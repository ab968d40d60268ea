package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Problems is every problem found in a stack's config, reported at once so
// that a person fixes them in one pass.
type Problems []string

func (p Problems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid stack config (%d problem", len(p))
	if len(p) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, s := range p {
		b.WriteString("\n  - ")
		b.WriteString(s)
	}
	return b.String()
}

func (p *Problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// keys of the project namespace and the field each one decodes into.
var projectKeys = map[string]func(*Config) any{
	"environment": func(c *Config) any { return &c.Environment },
	"site":        func(c *Config) any { return &c.Site },
	"tags":        func(c *Config) any { return &c.Tags },
	"network":     func(c *Config) any { return &c.Network },
	"policy":      func(c *Config) any { return &c.Policy },
	"cost":        func(c *Config) any { return &c.Cost },
	"airflow":     func(c *Config) any { return &c.Airflow },
	"governance":  func(c *Config) any { return &c.Governance },
	"restart":     func(c *Config) any { return &c.Restart },
	"compute":     func(c *Config) any { return &c.Compute },
	"data":        func(c *Config) any { return &c.Data },
	"dbPassword":  func(c *Config) any { return &c.DBPassword },
}

// Keys returns the project's config keys without the namespace, sorted.
func Keys() []string {
	keys := make([]string, 0, len(projectKeys))
	for k := range projectKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Option changes how Load reads raw config.
type Option func(*loadOptions)

type loadOptions struct {
	secretKeys map[string]bool
	offline    bool
}

// WithSecretKeys names the raw keys ("namespace:key") whose values were set
// with `pulumi config set --secret`: under the engine they arrive decrypted
// in PULUMI_CONFIG and are listed in PULUMI_CONFIG_SECRET_KEYS.
func WithSecretKeys(keys ...string) Option {
	return func(o *loadOptions) {
		for _, k := range keys {
			o.secretKeys[k] = true
		}
	}
}

// Offline reads config the way the offline plan sees it: there is no
// secrets provider, so a `secure:` value arrives as SecretPlaceholder and
// counts as secret, and a secret the stack needs but has not set becomes
// the placeholder instead of an error.
func Offline() Option { return func(o *loadOptions) { o.offline = true } }

// wellKnownNamespaces belong to Pulumi and the AWS provider; a key in any
// other namespace that is not the project's is checked for being one of
// ours under an old project name.
var wellKnownNamespaces = map[string]bool{"aws": true, "pulumi": true}

// Load builds the stack's Config from raw Pulumi config: keys are
// "namespace:key" and values are strings, objects as JSON (which is how the
// Pulumi engine hands config to a program). The namespace is the project's
// name, so a renamed project reads its own keys. Keys missing from raw keep
// their defaults. Every problem is returned at once, as Problems.
func Load(raw map[string]string, project, stack string, opts ...Option) (*Config, error) {
	o := loadOptions{secretKeys: map[string]bool{}}
	for _, opt := range opts {
		opt(&o)
	}
	cfg := Defaults()
	cfg.Project, cfg.Stack, cfg.offline = project, stack, o.offline
	var probs Problems
	mustBeSecret := secretKeys()

	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, full := range names {
		ns, key, ok := strings.Cut(full, ":")
		if !ok {
			continue
		}
		if ns != project {
			// A project renamed in Pulumi.yaml must not deploy defaults
			// while the stack file still says how it wants to be built.
			if top, _, _ := strings.Cut(key, "."); !wellKnownNamespaces[ns] && projectKeys[top] != nil {
				probs.addf("%s: looks like this project's setting, but the project is named %q in Pulumi.yaml; rename the key to %s:%s (or the project back to %q)", full, project, project, key, ns)
			}
			continue // other namespaces (aws:, pulumi:) belong to their owners
		}
		field, known := projectKeys[key]
		if !known {
			if top, rest, nested := strings.Cut(key, "."); nested && projectKeys[top] != nil {
				probs.addf("%s: a nested setting needs --path, or Pulumi stores it as a key with a dot in its name; run `pulumi config rm '%s' -s %s` and then `pulumi config set --path '%s:%s.%s' <value> -s %s`", full, full, stack, ns, top, rest, stack)
				continue
			}
			probs.addf("%s: unknown config key%s; known keys are %s", full, suggest(key, Keys()), strings.Join(Keys(), ", "))
			continue
		}
		secret := o.secretKeys[full] || (o.offline && looksSecret(raw[full]))
		switch {
		case mustBeSecret[key] && !secret:
			// The value is never echoed: it is already in a file in clear.
			probs.addf("%s: is stored in clear text in Pulumi.%s.yaml; a secret must be encrypted: run `pulumi config set --secret %s <value> -s %s` (and rotate the value if the file was shared)", full, stack, full, stack)
			continue
		case secret && !mustBeSecret[key]:
			probs.addf("%s: is stored as a secret, but its settings go into resource names, tags and network addresses that AWS shows in clear; set it again without --secret", full)
			continue
		}
		value, legacy := legacySettings(project, stack, key, raw[full])
		probs = append(probs, legacy...)
		decode(key, value, field(&cfg), &probs)
	}

	cfg.Network.azCountFromZones(raw[project+":network"])

	cfg.Region = raw["aws:region"]
	if cfg.Region == "" {
		probs.addf("aws:region: not set; run `pulumi config set aws:region us-east-1` (or your region)")
	}
	cfg.Restart.resolve(project, stack)
	probs = append(probs, cfg.validate()...)
	// A real preview refuses example values (an apply would fail on them
	// later, or restart accounts nobody has); the offline plan of the
	// example stack files lists them and goes on.
	if examples := cfg.exampleValues(); o.offline {
		cfg.warnings = examples
	} else {
		probs = append(probs, examples...)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return &cfg, nil
}

// Warnings are what the offline plan reports about the config without
// stopping: the example values that `pulumi preview` and `pulumi up`
// refuse, each with the key to set.
func (c *Config) Warnings() []string { return c.warnings }

// azCountFromZones lets a stack that pins its zones by name leave out
// azCount: the list says how many.
func (n *Network) azCountFromZones(raw string) {
	var set map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &set) != nil {
		return
	}
	if _, given := set["azCount"]; !given && len(n.AvailabilityZones) > 0 {
		n.AZCount = len(n.AvailabilityZones)
	}
}

// decode unmarshals one config value into dst (which holds the defaults),
// reporting unknown keys and type mismatches with the path a person edits.
func decode(path, value string, dst any, probs *Problems) {
	if s, ok := dst.(*Secret); ok {
		*s = NewSecret(value)
		return
	}
	target := reflect.ValueOf(dst).Elem()
	if target.Kind() == reflect.String {
		// Plain strings are passed unquoted by the engine.
		target.SetString(value)
		return
	}
	if target.Kind() == reflect.Struct {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal([]byte(value), &fields); err != nil {
			probs.addf("%s: must be an object of settings, got %q", path, clip(value))
			return
		}
		known := jsonFields(target.Type())
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !slices.Contains(known, k) {
				probs.addf("%s.%s: unknown setting%s; known settings are %s", path, k, suggest(k, known), strings.Join(known, ", "))
				continue
			}
			f := fieldByTag(target, k)
			if err := strictUnmarshal(fields[k], f.Addr().Interface()); err != nil {
				probs.addf("%s.%s: %s", path, k, describe(err, fields[k]))
			}
		}
		return
	}
	if err := strictUnmarshal([]byte(value), dst); err != nil {
		probs.addf("%s: %s", path, describe(err, []byte(value)))
	}
}

func strictUnmarshal(b []byte, dst any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(dst)
}

func describe(err error, got []byte) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("must be %s, got %s", kindName(te.Type), clip(string(got)))
	}
	return fmt.Sprintf("cannot read %s: %v", clip(string(got)), err)
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	sort.Strings(out)
	return out
}

func fieldByTag(v reflect.Value, tag string) reflect.Value {
	for i := range v.NumField() {
		if t, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ","); t == tag {
			return v.Field(i)
		}
	}
	panic("config: no field tagged " + tag)
}

// suggest returns ` (did you mean "x"?)` when a known key differs from got
// only by case or by one or two edits.
func suggest(got string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if strings.EqualFold(k, got) {
			return fmt.Sprintf(" (did you mean %q?)", k)
		}
		if d := editDistance(strings.ToLower(got), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
